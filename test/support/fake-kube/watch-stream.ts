import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchesSelectors, selectorsOf } from './object-filter';
import type { ResourceType } from './resources';
import { expired } from './status';
import type { Json, ObjectStore, StoredEvent } from './store';

export interface WatchOptions {
  store: ObjectStore;
  type: ResourceType;
  /** The namespace of the path, or undefined for a watch across namespaces. */
  namespace: string | undefined;
  /** Whether to reject the watch with 410 Expired, whatever resourceVersion it requests. */
  expire: boolean;
  bookmarkIntervalMilliseconds: number;
  defaultTimeoutSeconds: number;
  /** Open watch responses, so that a scenario can drop them all. */
  openWatches: Set<ServerResponse>;
}

/**
 * Serves `?watch=true` as kube-apiserver does: a chunked stream of one JSON event per line.
 * Without a resourceVersion (or with "0") it starts with ADDED for every matching object;
 * from a resourceVersion it replays the history after it, or sends one ERROR event with 410
 * Expired when that version is older than the history. An object that starts or stops
 * matching the selectors arrives as ADDED or DELETED. BOOKMARK events come periodically when
 * allowWatchBookmarks is set, and the stream ends after timeoutSeconds.
 */
export function serveWatch(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  options: WatchOptions,
): void {
  const { store, type, namespace } = options;
  const selectors = selectorsOf(url, type);
  const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
  const requested = url.searchParams.get('resourceVersion') ?? '';
  const timeoutSeconds = Number(
    url.searchParams.get('timeoutSeconds') ?? options.defaultTimeoutSeconds,
  );

  response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  response.flushHeaders();
  const write = (event: Json): void => {
    response.write(`${JSON.stringify(event)}\n`);
  };

  const tooOld =
    requested !== '' && requested !== '0' && Number(requested) < store.oldestWatchableRevision;
  if (options.expire || tooOld) {
    write({
      type: 'ERROR',
      object: expired(
        requested === '' ? String(store.currentRevision) : requested,
        store.oldestWatchableRevision,
      ).toStatus(),
    });
    response.end();
    return;
  }

  const relevant = (event: StoredEvent): boolean =>
    event.resource === type.resource && (namespace === undefined || event.namespace === namespace);
  const deliver = (event: StoredEvent): void => {
    if (!relevant(event)) {
      return;
    }
    const now = matchesSelectors(event.object, selectors);
    const before = event.previous !== undefined && matchesSelectors(event.previous, selectors);
    if (event.type === 'MODIFIED') {
      if (now && before) {
        write({ type: 'MODIFIED', object: event.object });
      } else if (now) {
        write({ type: 'ADDED', object: event.object });
      } else if (before) {
        write({ type: 'DELETED', object: event.object });
      }
    } else if (now || (event.type === 'DELETED' && before)) {
      write({ type: event.type, object: event.object });
    }
  };

  if (requested === '' || requested === '0') {
    for (const object of store.list(type.resource, namespace)) {
      if (matchesSelectors(object, selectors)) {
        write({ type: 'ADDED', object });
      }
    }
  } else {
    for (const event of store.eventsAfter(Number(requested))) {
      deliver(event);
    }
  }
  const unsubscribe = store.subscribe(deliver);
  options.openWatches.add(response);

  const bookmarkTimer = bookmarks
    ? setInterval(() => {
        write({
          type: 'BOOKMARK',
          object: {
            kind: type.kind,
            apiVersion: type.apiVersion,
            metadata: { resourceVersion: String(store.currentRevision) },
          },
        });
      }, options.bookmarkIntervalMilliseconds)
    : undefined;
  const timeout = setTimeout(() => response.end(), timeoutSeconds * 1000);
  const finish = (): void => {
    unsubscribe();
    clearInterval(bookmarkTimer);
    clearTimeout(timeout);
    options.openWatches.delete(response);
  };
  response.on('close', finish);
  request.on('close', finish);
}
