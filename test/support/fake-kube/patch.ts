import { ApiError, badRequest } from './status';
import type { Json } from './store';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

/** Applies an RFC 7386 JSON merge patch: objects merge recursively and null removes a key. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    return patch;
  }
  const result: Json =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Json) }
      : {};
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === null) {
      delete result[key];
    } else {
      result[key] = applyMergePatch(result[key], value);
    }
  }
  return result;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') {
    return [];
  }
  if (!pointer.startsWith('/')) {
    throw badRequest(`JSON Patch path "${pointer}" must start with '/'`);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(
  document: unknown,
  path: string[],
  operation: string,
): { parent: Json | unknown[]; key: string } {
  let current = document;
  for (const segment of path.slice(0, -1)) {
    if (current === null || typeof current !== 'object') {
      throw new ApiError(
        422,
        'Invalid',
        `${operation} operation does not apply: doc is missing path: "/${path.join('/')}": missing value`,
      );
    }
    current = (current as Json)[segment];
  }
  if (current === null || typeof current !== 'object') {
    throw new ApiError(
      422,
      'Invalid',
      `${operation} operation does not apply: doc is missing path: "/${path.join('/')}": missing value`,
    );
  }
  return { parent: current as Json | unknown[], key: path[path.length - 1] };
}

/** Applies an RFC 6902 JSON patch (add, remove, replace, test, copy, move) to a copy of the document. */
export function applyJsonPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) {
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  let result = structuredClone(document);
  const read = (path: string[]): unknown => {
    let current = result;
    for (const segment of path) {
      if (current === null || typeof current !== 'object' || !(segment in (current as Json))) {
        return undefined;
      }
      current = (current as Json)[segment];
    }
    return current;
  };
  const write = (path: string[], value: unknown, operation: string, mustExist: boolean): void => {
    if (path.length === 0) {
      result = value;
      return;
    }
    const { parent, key } = parentOf(result, path, operation);
    if (Array.isArray(parent)) {
      const index = key === '-' ? parent.length : Number(key);
      if (
        !Number.isInteger(index) ||
        index < 0 ||
        index > parent.length ||
        (mustExist && index >= parent.length)
      ) {
        throw new ApiError(
          422,
          'Invalid',
          `${operation} operation does not apply: doc is missing path: "/${path.join('/')}": missing value`,
        );
      }
      if (operation === 'add') {
        parent.splice(index, 0, value);
      } else {
        parent[index] = value;
      }
      return;
    }
    if (mustExist && !(key in parent)) {
      throw new ApiError(
        422,
        'Invalid',
        `${operation} operation does not apply: doc is missing path: "/${path.join('/')}": missing value`,
      );
    }
    (parent as Json)[key] = value;
  };
  const remove = (path: string[]): unknown => {
    const { parent, key } = parentOf(result, path, 'remove');
    if (Array.isArray(parent)) {
      const index = Number(key);
      if (!Number.isInteger(index) || index < 0 || index >= parent.length) {
        throw new ApiError(
          422,
          'Invalid',
          `remove operation does not apply: doc is missing path: "/${path.join('/')}": missing value`,
        );
      }
      return parent.splice(index, 1)[0];
    }
    if (!(key in parent)) {
      throw new ApiError(
        422,
        'Invalid',
        `remove operation does not apply: doc is missing path: "/${path.join('/')}": missing value`,
      );
    }
    const value = (parent as Json)[key];
    delete (parent as Json)[key];
    return value;
  };

  for (const operation of operations as Json[]) {
    const path = parsePointer(String(operation.path ?? ''));
    switch (operation.op) {
      case 'add':
        write(path, structuredClone(operation.value), 'add', false);
        break;
      case 'replace':
        write(path, structuredClone(operation.value), 'replace', true);
        break;
      case 'remove':
        remove(path);
        break;
      case 'test':
        if (JSON.stringify(read(path)) !== JSON.stringify(operation.value)) {
          throw new ApiError(
            422,
            'Invalid',
            `testing value /${path.join('/')} failed: test failed`,
          );
        }
        break;
      case 'copy':
        write(path, structuredClone(read(parsePointer(String(operation.from)))), 'add', false);
        break;
      case 'move': {
        const value = remove(parsePointer(String(operation.from)));
        write(path, value, 'add', false);
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${String(operation.op)}`);
    }
  }
  return result;
}
