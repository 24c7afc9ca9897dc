import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { FakeKube } from './index';

/** A response of the fake, with the body parsed as JSON when it is JSON. */
export interface KubeResponse {
  status: number;
  contentType: string;
  text: string;
  body: Record<string, any>;
}

/** Sends one request to the fake over HTTP, with its current token unless `token` is given. */
export async function kube(
  fake: FakeKube,
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string; contentType?: string } = {},
): Promise<KubeResponse> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${options.token ?? fake.token}`,
  };
  if (body !== undefined) {
    headers['Content-Type'] = options.contentType ?? 'application/json';
  }
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  let parsed: Record<string, unknown> = {};
  if (contentType.startsWith('application/json') && text !== '') {
    parsed = JSON.parse(text) as Record<string, unknown>;
  }
  return { status: response.status, contentType, text, body: parsed };
}

/** One line of a watch stream. */
export interface WatchEvent {
  type: string;
  object: Record<string, any>;
}

/** An open watch whose events accumulate as they arrive. */
export interface OpenWatch {
  events: WatchEvent[];
  /** Resolves when the server ends or drops the stream. */
  ended: Promise<'end' | 'aborted'>;
  /** Waits until an event satisfies the predicate and returns it. */
  waitFor(
    predicate: (event: WatchEvent) => boolean,
    timeoutMilliseconds?: number,
  ): Promise<WatchEvent>;
  close(): void;
}

/** Opens a watch with the given query and reads its newline-separated JSON events. */
export function openWatch(fake: FakeKube, path: string): Promise<OpenWatch> {
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    const waiters: Array<() => void> = [];
    let endedResolve: (value: 'end' | 'aborted') => void = () => undefined;
    const ended = new Promise<'end' | 'aborted'>((done) => (endedResolve = done));
    const request = httpRequest(
      `${fake.url}${path}`,
      { headers: { Authorization: `Bearer ${fake.token}` } },
      (response: IncomingMessage) => {
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let newline: number;
          while ((newline = buffer.indexOf('\n')) !== -1) {
            events.push(JSON.parse(buffer.slice(0, newline)) as WatchEvent);
            buffer = buffer.slice(newline + 1);
            for (const waiter of waiters.splice(0)) {
              waiter();
            }
          }
        });
        response.on('error', () => undefined);
        response.on('close', () => endedResolve(response.complete ? 'end' : 'aborted'));
        resolve({
          events,
          ended,
          waitFor(predicate, timeoutMilliseconds = 20_000) {
            return new Promise((found, fail) => {
              const timer = setTimeout(
                () =>
                  fail(
                    new Error(
                      `no matching watch event in ${timeoutMilliseconds} ms; got ${JSON.stringify(events.map((event) => event.type))}`,
                    ),
                  ),
                timeoutMilliseconds,
              );
              const check = (): void => {
                const match = events.find(predicate);
                if (match !== undefined) {
                  clearTimeout(timer);
                  found(match);
                } else {
                  waiters.push(check);
                }
              };
              check();
            });
          },
          close() {
            request.destroy();
          },
        });
      },
    );
    request.on('error', (error) => {
      endedResolve('aborted');
      reject(error);
    });
    request.end();
  });
}

/** Polls until the check returns a value other than undefined, or fails after the timeout. */
export async function waitUntil<T>(
  description: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMilliseconds = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMilliseconds;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMilliseconds} ms waiting for ${description}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
