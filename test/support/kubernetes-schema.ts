/** A Kubernetes object as it appears in a manifest or a request body. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

interface ModelClass {
  prototype: { validate(this: unknown): void };
}

/**
 * Validates an object against the Kubernetes OpenAPI schema of its kind, as kubernetes-models
 * 4.5 compiles it, and also rejects fields that the schema does not define, which the
 * compiled validators let through. Returns one line per problem, or an empty list when the object is valid.
 */
export function validateKubernetesObject(object: KubernetesObject): string[] {
  const model = loadModel(object.apiVersion, object.kind);
  if (model === undefined) {
    return [`no schema for ${object.apiVersion} ${object.kind} in kubernetes-models`];
  }

  const readPaths = new Set<string>();
  const problems: string[] = [];
  try {
    model.prototype.validate.call(trackReads(object, '', readPaths));
  } catch (error) {
    problems.push((error as Error).message);
  }
  for (const path of fieldPaths(object, '')) {
    if (!readPaths.has(path)) {
      problems.push(`data${path} is not a field of ${object.apiVersion} ${object.kind}`);
    }
  }
  return problems;
}

/** Loads the model class, such as `kubernetes-models/apps/v1/Deployment` for apps/v1 Deployment. */
function loadModel(apiVersion: string, kind: string): ModelClass | undefined {
  // The core group's apiVersion is just `v1`, and its models live under `kubernetes-models/v1`.
  try {
    const module = require(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, unknown>;
    return module[kind] as ModelClass | undefined;
  } catch {
    return undefined;
  }
}

/**
 * Wraps an object so that every own field the validator reads is recorded. The compiled
 * validators read each field that the schema defines, and every key of a map (such as
 * labels), so a field that was never read is one the schema does not know.
 */
function trackReads<T>(value: T, path: string, readPaths: Set<string>): T {
  if (value === null || typeof value !== 'object') {
    return value;
  }
  return new Proxy(value as object, {
    get(target, key, receiver) {
      if (typeof key === 'string' && Object.prototype.hasOwnProperty.call(target, key)) {
        const fieldPath = `${path}/${key}`;
        readPaths.add(fieldPath);
        return trackReads((target as Record<string, unknown>)[key], fieldPath, readPaths);
      }
      return Reflect.get(target, key, receiver);
    },
  }) as T;
}

function fieldPaths(value: unknown, path: string): string[] {
  if (value === null || typeof value !== 'object') {
    return [];
  }
  return Object.entries(value).flatMap(([key, child]) => [
    `${path}/${key}`,
    ...fieldPaths(child, `${path}/${key}`),
  ]);
}
