import { SetMetadata, createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthenticatedUser } from './authenticated-user';
import type { Access, PermissionSet, Resource } from './permission-set';

export type { Access, Resource } from './permission-set';

/** The source of the id that a permission is checked against. */
export type ResourceIdSource =
  /** The route parameter of that name. */
  | { param: string }
  /** The task of the job named by that route parameter: permissions on jobs name tasks. */
  | { jobParam: string }
  /** The user named by that route parameter, as an id or a username: permissions name usernames. */
  | { userParam: string };

export interface PermissionRequirement {
  resource: Resource;
  access: Access;
  /** Absent for routes on a whole collection. */
  id?: ResourceIdSource;
}

export const PERMISSION_KEY = 'kriten:permission';
export const PUBLIC_KEY = 'kriten:public';
export const AUTHENTICATED_ONLY_KEY = 'kriten:authenticated-only';

/** Requires `access` on `resource` (and on the id the source names) to call the route. */
export const RequirePermission = (resource: Resource, access: Access, id?: ResourceIdSource) =>
  SetMetadata(PERMISSION_KEY, { resource, access, id } satisfies PermissionRequirement);

/** Marks a route that needs no credentials, such as login. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** Marks a route that any signed-in user may call, such as token refresh. */
export const AuthenticatedOnly = () => SetMetadata(AUTHENTICATED_ONLY_KEY, true);

export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedUser =>
    context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user,
);

/** The permissions of the caller, loaded once for the request by the permission guard. */
export const CallerPermissions = createParamDecorator(
  (_data: unknown, context: ExecutionContext): PermissionSet =>
    context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user.permissions!,
);
