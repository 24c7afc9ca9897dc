/** The kind of operation an audit record describes. */
export type AuditAction = 'login' | 'create' | 'update' | 'delete' | 'start' | 'cancel' | 'read';

export interface RouteAudit {
  action: AuditAction;
  resource: string;
  /** The object the route names; absent when the response or the body names it. */
  resourceId?: string;
}

/** Parts of an object that routes below `/<collection>/:param/<part>` change. */
const SUB_RESOURCES: Record<string, string> = {
  secret: 'secrets',
  schema: 'schemas',
  users: 'memberships',
};

/**
 * Describes a request from its method and its Express route pattern (such as
 * `/api/v1/runners/:name/secret`). The first path segment is the resource, as in the
 * permissions; a literal segment after the id names a part of that object.
 */
export function describeRoute(
  method: string,
  routePath: string,
  params: Record<string, unknown>,
  prefix: string,
): RouteAudit | undefined {
  const path = routePath.startsWith(prefix) ? routePath.slice(prefix.length) : routePath;
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) {
    return undefined;
  }
  const [collection, second, part] = segments;
  if (collection === 'login' && method === 'POST') {
    return { action: 'login', resource: 'users' };
  }

  const param = second?.startsWith(':') ? second.slice(1) : undefined;
  const id = param === undefined ? undefined : stringParam(params[param]);
  if (method === 'GET' || method === 'HEAD') {
    return { action: 'read', resource: collection, resourceId: id };
  }

  if (param !== undefined && part !== undefined) {
    const resource = SUB_RESOURCES[part] ?? `${collection}_${part}`;
    const resourceId = id === undefined ? undefined : `${collection}/${id}`;
    return { action: subResourceAction(method, resource), resource, resourceId };
  }
  if (collection === 'jobs' && param !== undefined) {
    // POST and PUT /jobs/{task} start a job; its id comes with the response.
    return method === 'DELETE'
      ? { action: 'cancel', resource: 'jobs', resourceId: id }
      : { action: 'start', resource: 'jobs' };
  }
  return { action: changeAction(method), resource: collection, resourceId: id };
}

function changeAction(method: string): AuditAction {
  switch (method) {
    case 'POST':
      return 'create';
    case 'DELETE':
      return 'delete';
    default:
      return 'update';
  }
}

/** Posting secrets or a schema merges into the object; posting users to a group adds members. */
function subResourceAction(method: string, resource: string): AuditAction {
  if (method === 'DELETE') {
    return 'delete';
  }
  return method === 'POST' && resource === 'memberships' ? 'create' : 'update';
}

function stringParam(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const INCOMING_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Returns the client's X-Request-Id when it is short and plain, so logs can quote it safely. */
export function acceptedRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && INCOMING_REQUEST_ID.test(header) ? header : undefined;
}

/** Returns the id a response names: its `id`, else its `name` (a JSON text or an object). */
export function resultIdOf(result: unknown): string | undefined {
  if (typeof result === 'string') {
    // A sync job is sent as serialized JSON that starts with its id; parsing megabytes of
    // output for it would be wasted work.
    const match = /^\{"id":"([^"\\]{1,255})"/.exec(result);
    return match?.[1];
  }
  if (result === null || typeof result !== 'object') {
    return undefined;
  }
  const { id, name } = result as { id?: unknown; name?: unknown };
  if (typeof id === 'string' || typeof id === 'number') {
    return String(id);
  }
  return typeof name === 'string' ? name : undefined;
}

/**
 * Returns the name a create request gives its object. Only `name` and `username` are read from
 * the body, so no other field (a password, a secret value) can reach a record.
 */
export function createdNameOf(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return undefined;
  }
  // Field names match without regard to case, as request bodies do.
  const fields = Object.entries(body as Record<string, unknown>);
  for (const field of ['name', 'username']) {
    const value = fields.find(([key]) => key.toLowerCase() === field)?.[1];
    if (typeof value === 'string' && value !== '' && value.length <= 255) {
      return value;
    }
  }
  return undefined;
}

/**
 * Replaces the password of every URL in a text, such as an error message that quotes a git URL
 * with credentials in it.
 */
export function redactUrlPasswords(text: string): string {
  return text.replace(/\/\/([^\s:/@]*):[^\s@/]*@/g, '//$1:***@');
}
