import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { DomainError } from '../common/domain-error';
import { JobsRepository } from '../jobs/jobs.repository';
import { UsersService } from '../users/users.service';
import { API_TOKEN_STRATEGY } from './api-token.strategy';
import type { AuthenticatedUser } from './authenticated-user';
import { AuthorizationService } from './authorization.service';
import { JWT_STRATEGY } from './jwt.strategy';
import type { Access, Resource } from './permission-set';
import {
  AUTHENTICATED_ONLY_KEY,
  PERMISSION_KEY,
  PUBLIC_KEY,
  PermissionRequirement,
  ResourceIdSource,
} from './permission.decorator';

const UNAUTHENTICATED_MESSAGE =
  'missing or invalid credentials: log in with POST /api/v1/login and send the token as "Authorization: Bearer <token>" or in the token cookie, or send an API token in the "Token" header';

/** Authenticates every route but the public ones with a JWT or an API token. */
@Injectable()
export class JwtAuthGuard extends AuthGuard([JWT_STRATEGY, API_TOKEN_STRATEGY]) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    if (
      this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, [
        context.getHandler(),
        context.getClass(),
      ])
    ) {
      return true;
    }
    return super.canActivate(context);
  }

  override handleRequest<TUser>(error: unknown, user: TUser): TUser {
    if (error || !user) {
      throw new DomainError('unauthenticated', UNAUTHENTICATED_MESSAGE);
    }
    return user;
  }
}

/** Checks the permission a route declares; a route that declares none is closed. */
@Injectable()
export class PermissionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authorization: AuthorizationService,
    private readonly jobs: JobsRepository,
    private readonly users: UsersService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) {
      return true;
    }

    const request = context.switchToHttp().getRequest<Request & { user: AuthenticatedUser }>();
    const caller = request.user;
    caller.permissions ??= await this.authorization.permissionsOf(caller);
    if (this.reflector.getAllAndOverride<boolean>(AUTHENTICATED_ONLY_KEY, targets)) {
      return true;
    }

    const requirement = this.reflector.get<PermissionRequirement | undefined>(
      PERMISSION_KEY,
      context.getHandler(),
    );
    if (!requirement) {
      throw new DomainError(
        'forbidden',
        `route ${request.method} ${request.path} declares no permission, so it is closed`,
      );
    }

    const { resource, access } = requirement;
    if (requirement.id && 'jobParam' in requirement.id) {
      return this.checkJob(caller, access, String(request.params[requirement.id.jobParam]));
    }
    const id = await this.resolveId(requirement.id, request);
    if (!caller.permissions.allows(resource, access, id)) {
      throw forbidden(caller, resource, access, id);
    }
    return true;
  }

  /**
   * Checks access to a job through the task recorded on it. A job that does not exist is a 404
   * only for a caller who may access some jobs; anyone else learns nothing about it.
   */
  private async checkJob(caller: AuthenticatedUser, access: Access, jobId: string) {
    const permissions = caller.permissions!;
    const task = await this.jobs.findTaskOfJob(jobId);
    if (task === undefined) {
      if (permissions.idsFor('jobs', access).length === 0) {
        throw new DomainError(
          'forbidden',
          `user '${caller.username}' has no ${access} access to job '${jobId}'`,
        );
      }
      throw new DomainError('not_found', `job '${jobId}' not found`);
    }
    if (!permissions.allows('jobs', access, task)) {
      throw new DomainError(
        'forbidden',
        `user '${caller.username}' has no ${access} access to jobs of task '${task}' (job '${jobId}')`,
      );
    }
    return true;
  }

  private async resolveId(
    source: ResourceIdSource | undefined,
    request: Request,
  ): Promise<string | undefined> {
    if (!source || 'jobParam' in source) {
      return undefined;
    }
    if ('param' in source) {
      return String(request.params[source.param]);
    }
    // An unknown user is checked under the name as given, so the handler returns 404 to a
    // caller who could read such a user, and everyone else gets 403.
    const reference = String(request.params[source.userParam]);
    const user = await this.users.findByReference(reference);
    return user?.username ?? reference;
  }
}

function forbidden(
  caller: AuthenticatedUser,
  resource: Resource,
  access: Access,
  id: string | undefined,
): DomainError {
  let target = `${resource} '${id}'`;
  if (id === undefined) {
    // Reading a collection needs one id (the list is filtered); creating needs every id.
    target = access === 'read' ? `any of ${resource}` : `all of ${resource} (resource_ids ["*"])`;
  }
  return new DomainError(
    'forbidden',
    `user '${caller.username}' has no ${access} access to ${target}`,
  );
}

/** Runs the local strategy; missing fields are bad input, not failed authentication. */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  /** Renames login fields to their canonical spelling first, as every other body is. */
  override canActivate(context: ExecutionContext) {
    const request = context.switchToHttp().getRequest<Request>();
    request.body = canonicalLoginFields(request.body);
    return super.canActivate(context);
  }

  override handleRequest<TUser>(
    error: unknown,
    user: TUser,
    _info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (error) {
      throw error;
    }
    if (!user) {
      // passport-local stops at an empty password before the strategy runs. It is a wrong
      // password, not a missing one, for every provider.
      const body = context.switchToHttp().getRequest<Request>().body as Record<string, unknown>;
      if (typeof body?.username === 'string' && body.username !== '' && body.password === '') {
        throw new DomainError('unauthenticated', 'invalid username or password');
      }
      throw new DomainError(
        'invalid_input',
        'username and password are required, as strings in a JSON body',
      );
    }
    return user;
  }
}

const LOGIN_FIELDS = ['username', 'password', 'provider'];

function canonicalLoginFields(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return body;
  }
  return Object.fromEntries(
    Object.entries(body).map(([field, value]) => [
      LOGIN_FIELDS.find((name) => name === field.toLowerCase()) ?? field,
      value,
    ]),
  );
}
