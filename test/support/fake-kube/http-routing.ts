import type { IncomingMessage } from 'node:http';
import {
  JOBS,
  NAMESPACES,
  PODS,
  SECRETS,
  SELF_SUBJECT_ACCESS_REVIEWS,
  type ResourceType,
} from './resources';
import { badRequest } from './status';
import type { Json } from './store';

/** A request path resolved to a resource, with namespace, name and subresource when given. */
export interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Resolves a Kubernetes API path, or returns undefined for a path the fake does not serve. */
export function routeOf(path: string): Route | undefined {
  const parts = path.split('/').filter((part) => part !== '');
  let rest: string[];
  let group: string;
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  const types: Record<string, ResourceType> = {
    '/pods': PODS,
    '/secrets': SECRETS,
    '/namespaces': NAMESPACES,
    'batch/v1/jobs': JOBS,
    'authorization.k8s.io/v1/selfsubjectaccessreviews': SELF_SUBJECT_ACCESS_REVIEWS,
  };
  const lookup = (resource: string): ResourceType | undefined => types[`${group}/${resource}`];
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const type = lookup(rest[2]);
    if (type === undefined || type === NAMESPACES || rest.length > 5) {
      return undefined;
    }
    return { type, namespace: rest[1], name: rest[3], subresource: rest[4] };
  }
  if (rest.length === 0 || rest.length > 2) {
    return undefined;
  }
  const type = lookup(rest[0]);
  return type === undefined ? undefined : { type, name: rest[1] };
}

/** Returns the Kubernetes request verb, as RBAC and audit logs name it. */
export function verbOf(method: string, route: Route | undefined, query: URLSearchParams): string {
  const watch = query.get('watch');
  switch (method) {
    case 'GET':
      if (watch === 'true' || watch === '1') {
        return 'watch';
      }
      return route?.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route?.name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a request body that must be a JSON object, rejecting anything else with 400. */
export function parseJson(text: string, type: ResourceType): Json {
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error('not an object');
    }
    return value as Json;
  } catch (error) {
    throw badRequest(
      `${type.kind} in version "${type.apiVersion.split('/').pop()}" cannot be handled as a ${type.kind}: ${(error as Error).message}`,
    );
  }
}

/** Drops kind and apiVersion, which the server leaves out of list items. */
export function withoutTypeMeta(object: Json): Json {
  const copy = { ...object };
  delete copy.kind;
  delete copy.apiVersion;
  return copy;
}
