import { fieldValues, type ResourceType } from './resources';
import {
  matchesSelector,
  parseFieldSelector,
  parseLabelSelector,
  type Selector,
} from './selectors';
import { metadataOf, type Json } from './store';

/** The label and field selectors of a list or watch request. */
export interface ObjectSelectors {
  labels: Selector;
  fields: Selector;
}

/** Parses `labelSelector` and `fieldSelector` from a request's query. */
export function selectorsOf(url: URL, type: ResourceType): ObjectSelectors {
  return {
    labels: parseLabelSelector(url.searchParams.get('labelSelector')),
    fields: parseFieldSelector(url.searchParams.get('fieldSelector'), type.fieldLabels),
  };
}

/** Returns whether an object satisfies both selectors. */
export function matchesSelectors(object: Json, selectors: ObjectSelectors): boolean {
  const labels = (metadataOf(object).labels ?? {}) as Record<string, string>;
  return (
    matchesSelector(selectors.labels, labels) &&
    matchesSelector(selectors.fields, fieldValues(object))
  );
}
