import http from 'node:http';
import https from 'node:https';
import type { Status, WatchEvent } from './kubernetes-types';

/** The server of a loaded kubeconfig, with the authentication and TLS settings for each request. */
export interface KubeRequestAuth {
  readonly server: string;
  /** Adds the Authorization header, client certificates and the TLS agent to the options. */
  applyToHTTPSOptions(options: https.RequestOptions): Promise<void>;
}

/** An error response of the API server, with the Status it sent. */
export class KubernetesApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly status: Status | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The API server could not be reached at all. */
export class KubernetesUnreachableError extends Error {}

/** The API server responded, but its TLS certificate failed verification against the CA. */
export class KubernetesCertificateError extends KubernetesUnreachableError {}

/** Codes that Node.js 20 gives to errors of TLS certificate verification. */
const CERTIFICATE_ERROR_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

type Query = Record<string, string | number | boolean | undefined>;

/** Milliseconds without a byte from the API server after which a request fails, except watches and followed logs. */
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/**
 * A small HTTP client for the Kubernetes API on top of node:http, with the authentication of
 * @kubernetes/client-node's KubeConfig. It keeps log bytes as bytes and streams watches and
 * logs, which the generated API classes of client-node 1.4 do not offer in one place.
 */
export class KubeHttp {
  constructor(
    private readonly auth: KubeRequestAuth,
    private readonly idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS,
  ) {}

  get server(): string {
    return this.auth.server;
  }

  /** Sends a request with an optional JSON body and returns the parsed JSON response. */
  async requestJson<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const response = await this.send(method, path, query, payload, undefined, true);
    const bytes = await readAll(response);
    if (response.statusCode === undefined || response.statusCode >= 300) {
      throw toApiError(method, path, response.statusCode ?? 0, bytes);
    }
    return JSON.parse(bytes.toString('utf8')) as T;
  }

  /**
   * Streams a response body in chunks; resolves when the server ends it and rejects when the
   * response is an error or the connection breaks. Aborting the signal resolves at once.
   * With `idleTimeout`, a server that sends nothing for the idle timeout fails it.
   */
  async stream(
    path: string,
    query: Query,
    signal: AbortSignal,
    onChunk: (chunk: Buffer) => void,
    onOpen?: () => void,
    idleTimeout = false,
  ): Promise<void> {
    const response = await this.send('GET', path, query, undefined, signal, idleTimeout);
    if (response.statusCode === undefined || response.statusCode >= 300) {
      throw toApiError('GET', path, response.statusCode ?? 0, await readAll(response));
    }
    onOpen?.();

    await new Promise<void>((resolve, reject) => {
      const stop = () => {
        response.destroy();
        resolve();
      };
      if (signal.aborted) {
        stop();
        return;
      }
      signal.addEventListener('abort', stop, { once: true });
      response.on('data', (chunk: Buffer) => onChunk(chunk));
      response.once('end', () => {
        signal.removeEventListener('abort', stop);
        resolve();
      });
      response.once('error', (error) => {
        signal.removeEventListener('abort', stop);
        if (signal.aborted) {
          resolve();
        } else {
          reject(error);
        }
      });
      response.once('aborted', () => {
        signal.removeEventListener('abort', stop);
        if (signal.aborted) {
          resolve();
        } else {
          reject(new Error(`the API server closed ${path} in the middle of the response`));
        }
      });
    });
  }

  /** Watches a collection, calling onEvent once for each line of the stream. */
  async watch<T>(
    path: string,
    query: Query,
    signal: AbortSignal,
    onEvent: (event: WatchEvent<T>) => void,
    onOpen?: () => void,
  ): Promise<void> {
    let pending = '';
    const decoder = new TextDecoder('utf-8');
    await this.stream(
      path,
      { ...query, watch: true },
      signal,
      (chunk) => {
        pending += decoder.decode(chunk, { stream: true });
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line.length > 0 && !signal.aborted) {
            onEvent(JSON.parse(line) as WatchEvent<T>);
          }
          newline = pending.indexOf('\n');
        }
      },
      onOpen,
    );
  }

  private async send(
    method: string,
    path: string,
    query: Query | undefined,
    payload: Buffer | undefined,
    signal: AbortSignal | undefined,
    idleTimeout: boolean,
  ): Promise<http.IncomingMessage> {
    const url = new URL(this.auth.server.replace(/\/+$/, '') + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) {
        url.searchParams.set(key, String(value));
      }
    }

    const options: https.RequestOptions = {
      method,
      headers: {
        Accept: 'application/json',
        ...(payload !== undefined && {
          'Content-Type': 'application/json',
          'Content-Length': payload.length,
        }),
      },
    };
    await this.auth.applyToHTTPSOptions(options);

    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { ...options, signal }, resolve);
      if (idleTimeout) {
        request.setTimeout(this.idleTimeoutMs, () => {
          request.destroy(
            new Error(
              `${method} ${path} timed out after ${this.idleTimeoutMs} ms without a response`,
            ),
          );
        });
      }
      request.once('error', (error: NodeJS.ErrnoException) => {
        if (error.name === 'AbortError') {
          reject(error);
          return;
        }
        if (error.code !== undefined && CERTIFICATE_ERROR_CODES.has(error.code)) {
          reject(
            new KubernetesCertificateError(
              `the TLS certificate of the Kubernetes API at ${this.auth.server} failed verification: ${error.message}`,
            ),
          );
          return;
        }
        reject(
          new KubernetesUnreachableError(
            `the Kubernetes API at ${this.auth.server} cannot be reached: ${error.message}`,
          ),
        );
      });
      request.end(payload);
    });
  }
}

function readAll(response: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks)));
    response.once('error', reject);
  });
}

function toApiError(method: string, path: string, code: number, body: Buffer): KubernetesApiError {
  let status: Status | undefined;
  try {
    status = JSON.parse(body.toString('utf8')) as Status;
  } catch {
    status = undefined;
  }
  const detail = status?.message ?? (body.toString('utf8').trim() || 'no message');
  return new KubernetesApiError(code, status, `${method} ${path} failed with ${code}: ${detail}`);
}
