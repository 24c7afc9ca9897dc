import type { StatusCause } from './status';

/** A field that breaks the Kubernetes OpenAPI schema, found in an object that a client sent. */
export interface SchemaViolation {
  kind: string;
  path: string;
  message: string;
}

interface ValidationErrorEntry {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
}

type Validator = (data: unknown) => ValidationErrorEntry[];

// kubernetes-models exports one model class per kind. Its prototype's validate() runs the
// compiled OpenAPI schema against `this` and throws a ValidationError listing every error.
function modelValidator(modulePath: string, className: string): Validator {
  const model = require(modulePath)[className] as { prototype: { validate(): void } };
  return (data) => {
    try {
      model.prototype.validate.call(data);
      return [];
    } catch (error) {
      const errors = (error as { errors?: ValidationErrorEntry[] }).errors;
      if (errors === undefined) {
        throw error;
      }
      return errors;
    }
  };
}

const VALIDATORS: Record<string, () => Validator> = {
  Job: () => modelValidator('kubernetes-models/batch/v1/Job', 'Job'),
  Secret: () => modelValidator('kubernetes-models/v1/Secret', 'Secret'),
  SelfSubjectAccessReview: () =>
    modelValidator(
      'kubernetes-models/authorization.k8s.io/v1/SelfSubjectAccessReview',
      'SelfSubjectAccessReview',
    ),
};

const loaded = new Map<string, Validator>();

/** Records which keys of an object the schema validator reads, to find the keys it does not know. */
interface VisitedObject {
  value: Record<string, unknown>;
  path: string;
  readKeys: Set<string>;
  enumerated: boolean;
}

/**
 * Wraps an object so that every property read is recorded. The compiled validators of
 * kubernetes-models test `data.x === undefined` for each property that the schema declares,
 * and enumerate the keys of maps (additionalProperties), so a key that was never read and
 * never enumerated is unknown to the schema.
 */
function trackReads(value: unknown, path: string, visited: VisitedObject[]): unknown {
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const record: VisitedObject = {
    value: value as Record<string, unknown>,
    path,
    readKeys: new Set(),
    enumerated: false,
  };
  visited.push(record);
  const children = new Map<string, unknown>();
  return new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(target, key)) {
        return Reflect.get(target, key, receiver);
      }
      record.readKeys.add(key);
      if (!children.has(key)) {
        const child = (target as Record<string, unknown>)[key];
        const childPath = Array.isArray(target) ? `${path}[${key}]` : joinField(path, key);
        children.set(key, trackReads(child, childPath, visited));
      }
      return children.get(key);
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function joinField(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function pointerToField(pointer: string): string {
  let field = '';
  for (const segment of pointer.split('/').slice(1)) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    field = /^\d+$/.test(key) ? `${field}[${key}]` : joinField(field, key);
  }
  return field;
}

function describeError(error: ValidationErrorEntry): string {
  switch (error.keyword) {
    case 'type':
      return `must be of type ${String(error.params.type)}`;
    case 'required':
      return `missing required field "${String(error.params.missingProperty)}"`;
    case 'enum':
      return `must be one of ${JSON.stringify(error.params.allowedValues)}`;
    case 'format':
      return `must match format "${String(error.params.format)}"`;
    default:
      return `failed the "${error.keyword}" rule of the schema`;
  }
}

/**
 * Checks an object against the Kubernetes OpenAPI schema for its kind, strictly: besides the
 * schema's own rules, any field the schema does not declare is a violation. Returns one cause
 * per violation, in the field notation of the server (`spec.template.spec.containers[0].name`).
 */
export function checkSchema(kind: string, object: unknown): StatusCause[] {
  const factory = VALIDATORS[kind];
  if (factory === undefined) {
    throw new Error(`no schema validator for kind ${kind}`);
  }
  let validator = loaded.get(kind);
  if (validator === undefined) {
    validator = factory();
    loaded.set(kind, validator);
  }

  const visited: VisitedObject[] = [];
  const errors = validator(trackReads(object, '', visited));
  const causes: StatusCause[] = errors.map((error) => ({
    reason: error.keyword === 'required' ? 'FieldValueRequired' : 'FieldValueInvalid',
    message: describeError(error),
    field: pointerToField(error.instancePath),
  }));

  for (const record of visited) {
    if (Array.isArray(record.value) || record.enumerated) {
      continue;
    }
    for (const key of Object.keys(record.value)) {
      if (!record.readKeys.has(key)) {
        causes.push({
          reason: 'FieldValueInvalid',
          message: 'unknown field: the Kubernetes OpenAPI schema does not declare it',
          field: joinField(record.path, key),
        });
      }
    }
  }
  return causes;
}
