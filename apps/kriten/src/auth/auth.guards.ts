import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { DomainError } from '../common/domain-error';
import { JobsRepository } from '../jobs/jobs.repository';
import type { AuthenticatedUser } from './authenticated-user';
import { AuthorizationService } from './authorization.service';
import {
  AUTHENTICATED_ONLY_KEY,
  PERMISSION_KEY,
  PUBLIC_KEY,
  PermissionRequirement,
} from './permission.decorator';

const UNAUTHENTICATED_MESSAGE =
  'missing or invalid credentials: log in with POST /api/v1/login and send the token as "Authorization: Bearer <token>" or in the token cookie';

/** Authenticates every route but the public ones with a JWT. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
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
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) {
      return true;
    }
    if (this.reflector.getAllAndOverride<boolean>(AUTHENTICATED_ONLY_KEY, targets)) {
      return true;
    }

    const request = context.switchToHttp().getRequest<Request & { user: AuthenticatedUser }>();
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

    const id = await this.resolveId(requirement, request);
    if (!this.authorization.isAllowed(request.user, requirement.resource, requirement.access, id)) {
      const target = id === undefined ? requirement.resource : `${requirement.resource} '${id}'`;
      throw new DomainError(
        'forbidden',
        `user '${request.user.username}' has no ${requirement.access} access to ${target}`,
      );
    }
    return true;
  }

  private async resolveId(
    requirement: PermissionRequirement,
    request: Request,
  ): Promise<string | undefined> {
    if (!requirement.id) {
      return undefined;
    }
    if ('param' in requirement.id) {
      return String(request.params[requirement.id.param]);
    }
    const jobId = String(request.params[requirement.id.jobParam]);
    const task = await this.jobs.findTaskOfJob(jobId);
    if (task === undefined) {
      throw new DomainError('not_found', `job '${jobId}' not found`);
    }
    return task;
  }
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

  override handleRequest<TUser>(error: unknown, user: TUser): TUser {
    if (error) {
      throw error;
    }
    if (!user) {
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
