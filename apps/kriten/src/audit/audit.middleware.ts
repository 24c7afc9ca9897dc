import { randomUUID } from 'node:crypto';
import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { AuditOutcome } from './audit-log.entity';
import {
  RouteAudit,
  acceptedRequestId,
  createdNameOf,
  describeRoute,
  redactUrlPasswords,
} from './audit-route';
import { AuditEntry, AuditService } from './audit.service';
import { resultIds } from './audit.interceptor';

export const REQUEST_ID_HEADER = 'X-Request-Id';
const API_PREFIX = '/api/v1';

/**
 * Gives every request an id (the client's X-Request-Id when it is plain, a new UUID otherwise),
 * echoes it in the response, and writes an audit record once the response is done. Recording
 * at that point covers every way a request ends: a handler's result, a guard's 401 or 403, a
 * pipe's 400 and a failed write.
 */
@Injectable()
export class AuditMiddleware implements NestMiddleware {
  constructor(private readonly audit: AuditService) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const requestId = acceptedRequestId(request.headers['x-request-id']) ?? randomUUID();
    // The error filter quotes this header in its response to a 500.
    request.headers['x-request-id'] = requestId;
    response.setHeader(REQUEST_ID_HEADER, requestId);
    response.once('close', () => {
      const entry = auditEntryOf(request, response, requestId);
      if (entry) {
        void this.audit.record(entry);
      }
    });
    next();
  }
}

/** Builds the record of a finished request, or returns undefined when it is not audited. */
function auditEntryOf(
  request: Request,
  response: Response,
  requestId: string,
): AuditEntry | undefined {
  const routePath = (request.route as { path?: unknown } | undefined)?.path;
  if (typeof routePath !== 'string') {
    // No route matched: a 404 that reached no handler changes nothing.
    return undefined;
  }
  const route = describeRoute(request.method, routePath, request.params, API_PREFIX);
  if (!route) {
    return undefined;
  }
  const outcome = outcomeOf(route, response);
  // Reads are recorded only when they were forbidden.
  if (route.action === 'read' && response.statusCode !== 403) {
    return undefined;
  }

  const caller = request.user as AuthenticatedUser | undefined;
  const login = route.action === 'login' ? loginFieldsOf(request.body) : undefined;
  const username = caller?.username ?? login?.username ?? null;
  return {
    username,
    provider: caller?.provider ?? login?.provider ?? null,
    action: route.action,
    resource: route.resource,
    resourceId: resourceIdOf(route, request, username),
    outcome,
    statusCode: response.statusCode,
    reason: outcome === 'success' ? null : reasonOf(response),
    method: request.method,
    path: request.originalUrl.split('?')[0],
    clientAddress: request.ip ?? request.socket.remoteAddress ?? null,
    requestId,
  };
}

/** Classifies a response: a rejected login is a failure, a 401 or 403 elsewhere is a denial. */
function outcomeOf(route: RouteAudit, response: Response): AuditOutcome {
  if (!response.writableFinished) {
    return 'failure';
  }
  if (route.action !== 'login' && (response.statusCode === 401 || response.statusCode === 403)) {
    return 'denied';
  }
  return response.statusCode < 400 ? 'success' : 'failure';
}

function reasonOf(response: Response): string {
  if (!response.writableFinished) {
    return 'the client closed the connection before the response was sent';
  }
  const message = (response.locals as { errorMessage?: unknown }).errorMessage;
  return typeof message === 'string'
    ? redactUrlPasswords(message)
    : `status ${response.statusCode}`;
}

function resourceIdOf(route: RouteAudit, request: Request, username: string | null) {
  if (route.action === 'login') {
    return username;
  }
  if (route.resourceId !== undefined) {
    return route.resourceId;
  }
  const fromBody = route.action === 'create' ? createdNameOf(request.body) : undefined;
  return fromBody ?? resultIds.get(request) ?? null;
}

/** Reads the username and provider a login names; the password is never read. */
function loginFieldsOf(body: unknown): { username?: string; provider: string } {
  const fields = body !== null && typeof body === 'object' ? Object.entries(body as object) : [];
  const field = (name: string) => {
    const value = fields.find(([key]) => key.toLowerCase() === name)?.[1];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return { username: field('username'), provider: field('provider') ?? 'local' };
}
