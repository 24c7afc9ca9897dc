import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerOptions } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { DomainError } from '../common/domain-error';

const ONE_MINUTE_MS = 60_000;
const USERNAME_TRACKER = 'username:';

/** Reads the username of a login body, whatever the case of the field name. */
export function loginUsername(request: Request): string {
  const body = request.body as unknown;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return '';
  }
  const field = Object.entries(body).find(([name]) => name.toLowerCase() === 'username');
  return typeof field?.[1] === 'string' ? field[1] : '';
}

/** Two limits of `attemptsPerMinute` each: one per client address, one per username. */
export function loginThrottlers(attemptsPerMinute: number): ThrottlerOptions[] {
  return [
    {
      name: 'login-address',
      ttl: ONE_MINUTE_MS,
      limit: attemptsPerMinute,
      getTracker: (request) => `address:${String((request as Request).ip)}`,
    },
    {
      name: 'login-username',
      ttl: ONE_MINUTE_MS,
      limit: attemptsPerMinute,
      getTracker: (request) => `${USERNAME_TRACKER}${loginUsername(request as Request)}`,
    },
  ];
}

/**
 * Limits login attempts per client address and per username. Counts live in this process's
 * memory, so each replica keeps its own.
 */
@Injectable()
export class LoginThrottlerGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<Response>();
    const seconds = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    response.setHeader('Retry-After', String(seconds));

    const subject = detail.tracker.startsWith(USERNAME_TRACKER)
      ? `username '${loginUsername(request).slice(0, 80)}'`
      : `client address ${request.ip ?? 'unknown'}`;
    throw new DomainError(
      'rate_limited',
      `too many login attempts for ${subject}: at most ${detail.limit} per minute, try again in ${seconds} s`,
    );
  }
}
