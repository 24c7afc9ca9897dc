import type { ErrorRequestHandler, Express } from 'express';
import express from 'express';

/** The raw request body, kept so that a job receives it byte for byte. */
export interface RawBodyRequest {
  rawBody?: Buffer;
}

/**
 * Parses every request body as JSON whatever its content type, as Kriten's Go server does,
 * so that `curl -d` without a header works. Errors get Nest's shape and an honest status.
 */
export function installJsonBodyParser(app: Express, maxBodyBytes: number): void {
  app.use(
    express.json({
      limit: maxBodyBytes,
      strict: false,
      type: () => true,
      verify: (request, _response, buffer) => {
        (request as RawBodyRequest).rawBody = buffer;
      },
    }),
  );
  app.use(bodyErrorHandler(maxBodyBytes));
}

function bodyErrorHandler(maxBodyBytes: number): ErrorRequestHandler {
  return (
    error: { type?: string; status?: number; message?: string },
    _request,
    response,
    next,
  ) => {
    const [status, message] = describeBodyError(error, maxBodyBytes);
    if (status === undefined) {
      next(error);
      return;
    }
    response.status(status).json({
      statusCode: status,
      error:
        status === 413
          ? 'Payload Too Large'
          : status === 415
            ? 'Unsupported Media Type'
            : 'Bad Request',
      message,
    });
  };
}

function describeBodyError(
  error: { type?: string; message?: string },
  maxBodyBytes: number,
): [number?, string?] {
  switch (error.type) {
    case 'entity.too.large':
      return [
        413,
        `request body is larger than the limit of ${maxBodyBytes} bytes (KRITEN_MAX_BODY_BYTES)`,
      ];
    case 'entity.parse.failed':
      return [400, `request body is not valid JSON: ${error.message}`];
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return [415, `request body encoding is not supported: ${error.message}; send UTF-8 JSON`];
    case 'request.aborted':
    case 'request.size.invalid':
      return [400, `request body could not be read: ${error.message}`];
    default:
      return [];
  }
}
