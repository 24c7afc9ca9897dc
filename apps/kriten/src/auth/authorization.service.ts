import { Injectable } from '@nestjs/common';
import { ROOT_USERNAME, LOCAL_PROVIDER } from '../users/users.service';
import type { AuthenticatedUser } from './authenticated-user';
import type { Access, Resource } from './permission.decorator';

/** Decides whether a user may access a resource id; `id` is undefined for a whole collection. */
@Injectable()
export class AuthorizationService {
  // NOTE: until roles exist, only the built-in root user has permissions.
  isAllowed(user: AuthenticatedUser, _resource: Resource, _access: Access, _id?: string): boolean {
    return user.username === ROOT_USERNAME && user.provider === LOCAL_PROVIDER;
  }
}
