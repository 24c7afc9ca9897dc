import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, DomainErrorCode } from './domain-error';

/** Sends every error in Nest's shape `{statusCode, error, message}` with an honest status. */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(DomainErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const response = context.getResponse<Response>();
    const request = context.getRequest<Request>();
    const { status, body } = this.toResponse(exception, request);
    // Kept for the audit record of the request.
    response.locals.errorMessage = Array.isArray(body.message)
      ? body.message.join('; ')
      : String(body.message);

    if (status >= 500) {
      this.logger.error(
        `${request.method} ${request.path} failed (request ${request.header('x-request-id')}): ${describe(exception)}`,
      );
    } else {
      this.logger.debug(
        `${request.method} ${request.path} rejected with ${status} (request ${request.header('x-request-id')}): ${String(body.message)}`,
      );
    }
    if (response.headersSent) {
      response.end();
      return;
    }
    response.status(status).json(body);
  }

  private toResponse(exception: unknown, request: Request) {
    if (exception instanceof DomainError) {
      const status = statusOf(exception.code);
      const body: Record<string, unknown> = {
        statusCode: status,
        error: reasonPhrase(status),
        message: exception.message,
      };
      if (exception.details !== undefined) {
        body.details = exception.details;
      }
      return { status, body };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const answer = exception.getResponse();
      const body =
        typeof answer === 'object'
          ? { statusCode: status, error: reasonPhrase(status), ...answer }
          : { statusCode: status, error: reasonPhrase(status), message: answer };
      return { status, body: body as Record<string, unknown> };
    }
    const status = HttpStatus.INTERNAL_SERVER_ERROR;
    const requestId = request.header('x-request-id');
    return {
      status,
      body: {
        statusCode: status,
        error: reasonPhrase(status),
        message: `internal error${requestId ? ` (request ${requestId})` : ''}: see the server log`,
      },
    };
  }
}

function statusOf(code: DomainErrorCode): number {
  switch (code) {
    case 'invalid_input':
      return HttpStatus.BAD_REQUEST;
    case 'unauthenticated':
      return HttpStatus.UNAUTHORIZED;
    case 'forbidden':
      return HttpStatus.FORBIDDEN;
    case 'not_found':
      return HttpStatus.NOT_FOUND;
    case 'conflict':
      return HttpStatus.CONFLICT;
    case 'payload_too_large':
      return HttpStatus.PAYLOAD_TOO_LARGE;
    case 'schema_rejected':
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case 'rate_limited':
      return HttpStatus.TOO_MANY_REQUESTS;
    case 'unavailable':
      return HttpStatus.SERVICE_UNAVAILABLE;
  }
}

const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? 'Error';
}

function describe(exception: unknown): string {
  return exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
}
