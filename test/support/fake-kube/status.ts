/** One field error inside an Invalid Status, as the API server reports it in details.causes. */
export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

/** The group and resource (plural) that a Status names, e.g. `batch` and `jobs`. */
export interface ResourceRef {
  group: string;
  resource: string;
  kind: string;
}

/** A failed request, sent to the client as a `kind: Status` object with the same wording as kube-apiserver. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return failureStatus(this.code, this.reason, this.message, this.details);
  }
}

export function failureStatus(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): Record<string, unknown> {
  const status: Record<string, unknown> = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
  };
  if (details !== undefined) {
    status.details = details;
  }
  status.code = code;
  return status;
}

/** Returns `jobs.batch` for a grouped resource and `secrets` for a core one, as in the server's messages. */
export function qualifiedResource(ref: ResourceRef): string {
  return ref.group === '' ? ref.resource : `${ref.resource}.${ref.group}`;
}

function groupDetails(ref: ResourceRef, name?: string): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  if (name !== undefined) {
    details.name = name;
  }
  if (ref.group !== '') {
    details.group = ref.group;
  }
  details.kind = ref.resource;
  return details;
}

export function notFound(ref: ResourceRef, name: string): ApiError {
  return new ApiError(
    404,
    'NotFound',
    `${qualifiedResource(ref)} "${name}" not found`,
    groupDetails(ref, name),
  );
}

export function alreadyExists(ref: ResourceRef, name: string): ApiError {
  return new ApiError(
    409,
    'AlreadyExists',
    `${qualifiedResource(ref)} "${name}" already exists`,
    groupDetails(ref, name),
  );
}

export function conflict(ref: ResourceRef, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(ref)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    groupDetails(ref, name),
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function methodNotAllowed(): ApiError {
  return new ApiError(
    405,
    'MethodNotAllowed',
    'the server does not allow this method on the requested resource',
    {},
  );
}

export function expired(requested: string, oldest: number): ApiError {
  return new ApiError(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
}

/**
 * Builds the 422 that validation failures produce: one cause is quoted in the message, several
 * are listed in brackets, as apimachinery's `NewInvalid` does.
 */
export function invalid(ref: ResourceRef, name: string, causes: StatusCause[]): ApiError {
  const parts = causes.map((cause) =>
    cause.field === '' ? cause.message : `${cause.field}: ${cause.message}`,
  );
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const details: Record<string, unknown> = { name };
  if (ref.group !== '') {
    details.group = ref.group;
  }
  details.kind = ref.kind;
  details.causes = causes;
  const kindName = ref.group === '' ? ref.kind : `${ref.kind}.${ref.group}`;
  return new ApiError(422, 'Invalid', `${kindName} "${name}" is invalid: ${summary}`, details);
}

export function forbidden(
  ref: ResourceRef,
  user: string,
  verb: string,
  namespace: string | undefined,
  name: string | undefined,
  subresource: string | undefined,
): ApiError {
  const subject =
    name === undefined ? qualifiedResource(ref) : `${qualifiedResource(ref)} "${name}"`;
  const resource = subresource === undefined ? ref.resource : `${ref.resource}/${subresource}`;
  const scope =
    namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${ref.group}" ${scope}`,
    groupDetails(ref, name),
  );
}

/** Quotes a value as Go's %q does for the ASCII strings that field errors show. */
export function goQuote(value: unknown): string {
  return JSON.stringify(typeof value === 'string' ? value : String(value));
}

export const FieldError = {
  invalid: (field: string, value: unknown, detail: string): StatusCause => ({
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${formatValue(value)}: ${detail}`,
    field,
  }),
  required: (field: string, detail = ''): StatusCause => ({
    reason: 'FieldValueRequired',
    message: detail === '' ? 'Required value' : `Required value: ${detail}`,
    field,
  }),
  notSupported: (field: string, value: unknown, supported: string[]): StatusCause => ({
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${formatValue(value)}: supported values: ${supported.map((s) => goQuote(s)).join(', ')}`,
    field,
  }),
  duplicate: (field: string, value: unknown): StatusCause => ({
    reason: 'FieldValueDuplicate',
    message: `Duplicate value: ${formatValue(value)}`,
    field,
  }),
  notFound: (field: string, value: unknown): StatusCause => ({
    reason: 'FieldValueNotFound',
    message: `Not found: ${formatValue(value)}`,
    field,
  }),
  tooLong: (field: string, maximum: number): StatusCause => ({
    reason: 'FieldValueTooLong',
    message: `Too long: must have at most ${maximum} bytes`,
    field,
  }),
  forbidden: (field: string, detail: string): StatusCause => ({
    reason: 'FieldValueForbidden',
    message: `Forbidden: ${detail}`,
    field,
  }),
};

function formatValue(value: unknown): string {
  if (typeof value === 'string') {
    return goQuote(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value);
}
