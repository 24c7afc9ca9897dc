import { badRequest } from './status';

type Requirement =
  | { operator: '=' | '!='; key: string; value: string }
  | { operator: 'in' | 'notin'; key: string; values: string[] }
  | { operator: 'exists' | '!'; key: string };

/** A parsed label or field selector: every requirement must hold (comma means AND). */
export type Selector = Requirement[];

const KEY = '[A-Za-z0-9][-A-Za-z0-9_./]*';
const VALUE = '[-A-Za-z0-9_.]*';

/**
 * Parses a label selector in the syntax of k8s.io/apimachinery/pkg/labels: `a=b`, `a==b`,
 * `a!=b`, `a in (x,y)`, `a notin (x)`, `a` and `!a`, joined by commas.
 */
export function parseLabelSelector(text: string | null): Selector {
  if (text === null || text.trim() === '') {
    return [];
  }
  const requirements: Selector = [];
  for (const part of splitTopLevel(text)) {
    const term = part.trim();
    let match: RegExpMatchArray | null;
    if ((match = term.match(new RegExp(`^(${KEY})\\s+(in|notin)\\s+\\(([^)]*)\\)$`)))) {
      const values = match[3].split(',').map((value) => value.trim());
      requirements.push({ operator: match[2] as 'in' | 'notin', key: match[1], values });
    } else if ((match = term.match(new RegExp(`^(${KEY})\\s*(!=|==|=)\\s*(${VALUE})$`)))) {
      const operator = match[2] === '!=' ? '!=' : '=';
      requirements.push({ operator, key: match[1], value: match[3] });
    } else if ((match = term.match(new RegExp(`^!\\s*(${KEY})$`)))) {
      requirements.push({ operator: '!', key: match[1] });
    } else if ((match = term.match(new RegExp(`^(${KEY})$`)))) {
      requirements.push({ operator: 'exists', key: match[1] });
    } else {
      throw badRequest(`unable to parse requirement: found '${term}', expected: a valid selector`);
    }
  }
  return requirements;
}

/** Parses a field selector; like the real server for these resources it supports only equality. */
export function parseFieldSelector(text: string | null, supported: string[]): Selector {
  if (text === null || text.trim() === '') {
    return [];
  }
  const requirements: Selector = [];
  for (const part of text.split(',')) {
    const match = part.trim().match(/^([^=!]+?)\s*(!=|==|=)\s*(.*)$/);
    if (match === null) {
      throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    }
    if (!supported.includes(match[1])) {
      throw badRequest(`field label not supported: ${match[1]}`);
    }
    requirements.push({ operator: match[2] === '!=' ? '!=' : '=', key: match[1], value: match[3] });
  }
  return requirements;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (character === '(') {
      depth++;
    } else if (character === ')') {
      depth--;
    } else if (character === ',' && depth === 0) {
      parts.push(text.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Returns whether a set of labels (or of field values) satisfies every requirement. */
export function matchesSelector(selector: Selector, values: Record<string, string>): boolean {
  return selector.every((requirement) => {
    const present = Object.prototype.hasOwnProperty.call(values, requirement.key);
    const value = present ? values[requirement.key] : undefined;
    switch (requirement.operator) {
      case '=':
        return present && value === requirement.value;
      case '!=':
        return !present || value !== requirement.value;
      case 'in':
        return present && requirement.values.includes(value as string);
      case 'notin':
        return !present || !requirement.values.includes(value as string);
      case 'exists':
        return present;
      case '!':
        return !present;
    }
  });
}
