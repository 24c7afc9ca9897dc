import type { ObjectList, ObjectMeta, Status, WatchEvent } from './kubernetes-types';

/** The list and watch calls of one resource type, as the watcher uses them. */
export interface WatchSource<T> {
  list(): Promise<ObjectList<T>>;
  /**
   * Streams events from a resource version; resolves when the server ends the stream. Calls
   * onOpen once the server accepted the watch.
   */
  watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
    onOpen: () => void,
  ): Promise<void>;
}

export interface WatchHandlers<T> {
  /** Receives the full list after the first list and after each relist. */
  onList(items: T[]): void;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void;
  /** Receives problems that the watcher recovers from by itself. */
  onProblem(message: string): void;
}

export interface WatchTiming {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

const DEFAULT_TIMING: WatchTiming = { initialBackoffMs: 250, maxBackoffMs: 10_000 };

/** Thrown inside a watch when the server no longer has the requested resource version. */
export class ResourceVersionGone extends Error {}

/**
 * Keeps a list of one resource type current: lists once, then watches from the list's
 * resourceVersion, resuming from the last version seen (bookmarks included) when a stream
 * ends. On 410 Gone it lists again, hands the new list over for reconciling and watches from
 * there. Failed calls are retried with exponential backoff.
 */
export class ResourceWatcher<T extends { metadata: ObjectMeta }> {
  private resourceVersion = '';
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly timing: WatchTiming;
  /** When the current run of failed calls began, and the last failure; unset while calls succeed. */
  private failure: { since: number; message: string } | undefined;

  constructor(
    readonly name: string,
    private readonly source: WatchSource<T>,
    private readonly handlers: WatchHandlers<T>,
    timing: Partial<WatchTiming> = {},
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  /** Lists once, so that a failure reaches the caller, then keeps watching in the background. */
  async start(): Promise<void> {
    await this.relist();
    this.loop = this.watchForever();
  }

  /** Returns how long and why the watch has been failing, or undefined while it works. */
  currentFailure(): { sinceMs: number; message: string } | undefined {
    if (this.failure === undefined) {
      return undefined;
    }
    return { sinceMs: Date.now() - this.failure.since, message: this.failure.message };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async relist(): Promise<void> {
    const list = await this.source.list();
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    this.handlers.onList(list.items);
  }

  private async watchForever(): Promise<void> {
    let backoff = this.timing.initialBackoffMs;
    let needsList = false;
    while (!this.abort.signal.aborted) {
      try {
        if (needsList) {
          await this.relist();
          needsList = false;
        }
        const receivedEvents = await this.watchOnce();
        this.failure = undefined;
        if (receivedEvents) {
          backoff = this.timing.initialBackoffMs;
        }
        continue;
      } catch (error) {
        if (this.abort.signal.aborted) {
          return;
        }
        if (error instanceof ResourceVersionGone || statusCodeOf(error) === 410) {
          this.handlers.onProblem(
            `${this.name} watch: resource version ${this.resourceVersion} is gone (410), listing again`,
          );
          needsList = true;
          continue;
        }
        this.failure ??= { since: Date.now(), message: describe(error) };
        this.failure.message = describe(error);
        this.handlers.onProblem(
          `${this.name} watch failed: ${describe(error)}; retrying in ${backoff} ms`,
        );
      }
      await sleep(backoff, this.abort.signal);
      backoff = Math.min(backoff * 2, this.timing.maxBackoffMs);
    }
  }

  /** Watches until the stream ends; returns whether any event arrived. */
  private async watchOnce(): Promise<boolean> {
    let received = false;
    let streamError: Error | undefined;
    const streamAbort = new AbortController();
    const stopStream = () => streamAbort.abort();
    this.abort.signal.addEventListener('abort', stopStream, { once: true });

    try {
      await this.source.watch(
        this.resourceVersion,
        (event) => {
          if (streamError !== undefined) {
            return;
          }
          received = true;
          if (event.type === 'ERROR') {
            const status = event.object as Status;
            streamError =
              status.code === 410
                ? new ResourceVersionGone(status.message ?? 'resource version too old')
                : new Error(`error event ${status.code ?? ''}: ${status.message ?? 'no message'}`);
            streamAbort.abort();
            return;
          }

          const object = event.object as T;
          const version = object.metadata?.resourceVersion;
          if (version) {
            this.resourceVersion = version;
          }
          if (event.type !== 'BOOKMARK') {
            this.handlers.onEvent(event.type, object);
          }
        },
        streamAbort.signal,
        () => {
          this.failure = undefined;
        },
      );
    } catch (error) {
      if (streamError === undefined && !streamAbort.signal.aborted) {
        throw error;
      }
    } finally {
      this.abort.signal.removeEventListener('abort', stopStream);
    }

    if (streamError !== undefined) {
      throw streamError;
    }
    return received;
  }
}

/** Returns the HTTP status of an API error, when the error carries one. */
export function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, milliseconds);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
