/** A failure independent of the transport. The error filter maps each code to an HTTP status. */
export type DomainErrorCode =
  | 'invalid_input'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'schema_rejected'
  | 'rate_limited'
  | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Extra detail for the client, such as the schema violations. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (kind: string, name: string) =>
  new DomainError('not_found', `${kind} '${name}' not found`);
