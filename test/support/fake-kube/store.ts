import { randomUUID } from 'node:crypto';

export type Json = Record<string, unknown>;

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A change to one object, kept in the history that watches replay from a resourceVersion. */
export interface StoredEvent {
  type: EventType;
  resourceVersion: number;
  resource: string;
  namespace: string;
  object: Json;
  /** The object before the change, so that a selector watch can tell when an object left it. */
  previous?: Json;
}

export function metadataOf(object: Json): Json {
  return object.metadata as Json;
}

export function nameOf(object: Json): string {
  return metadataOf(object).name as string;
}

/** Formats a time as RFC 3339 with whole seconds, as Kubernetes metav1.Time does. */
export function kubeTime(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Orders keys by code unit, as etcd orders its byte keys for ASCII names. */
function compareKeys(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

/**
 * The objects of every resource and namespace, with one global resourceVersion counter like
 * etcd's revision, and a bounded history of changes for watches.
 */
export class ObjectStore {
  private revision = 1000;
  private readonly objects = new Map<string, Map<string, Json>>();
  private readonly history: StoredEvent[] = [];
  /** Events at or below this revision are no longer in the history. */
  private compactedRevision = 1000;
  private readonly listeners = new Set<(event: StoredEvent) => void>();

  constructor(private readonly historyLimit: number) {}

  get currentRevision(): number {
    return this.revision;
  }

  /** The oldest revision from which a watch can still resume. */
  get oldestWatchableRevision(): number {
    return this.compactedRevision;
  }

  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(resource: string, namespace: string, name: string): Json | undefined {
    const object = this.objects.get(resource)?.get(`${namespace}/${name}`);
    return object === undefined ? undefined : copy(object);
  }

  /** Lists objects sorted by namespace and name, the order of etcd keys. */
  list(resource: string, namespace?: string): Json[] {
    const byKey = this.objects.get(resource) ?? new Map<string, Json>();
    return [...byKey.entries()]
      .filter(([key]) => namespace === undefined || key.startsWith(`${namespace}/`))
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([, object]) => copy(object));
  }

  /** Stores a new object, filling uid, resourceVersion and creationTimestamp. */
  create(resource: string, namespace: string, object: Json, uid: string = randomUUID()): Json {
    const meta = metadataOf(object);
    if (namespace !== '') {
      meta.namespace = namespace;
    }
    meta.uid = uid;
    meta.creationTimestamp = kubeTime();
    meta.resourceVersion = String(++this.revision);
    this.bucket(resource).set(`${namespace}/${meta.name as string}`, copy(object));
    this.record({ type: 'ADDED', resource, namespace, object });
    return copy(object);
  }

  /** Replaces an existing object and gives it a new resourceVersion. */
  update(resource: string, object: Json): Json {
    const meta = metadataOf(object);
    const key = `${meta.namespace as string}/${meta.name as string}`;
    const previous = this.bucket(resource).get(key);
    if (previous === undefined) {
      throw new Error(`update of missing ${resource} ${key}`);
    }
    meta.resourceVersion = String(++this.revision);
    this.bucket(resource).set(key, copy(object));
    this.record({
      type: 'MODIFIED',
      resource,
      namespace: meta.namespace as string,
      object,
      previous,
    });
    return copy(object);
  }

  /** Removes an object; the DELETED event carries it with the revision of the deletion. */
  remove(resource: string, namespace: string, name: string): Json | undefined {
    const key = `${namespace}/${name}`;
    const previous = this.bucket(resource).get(key);
    if (previous === undefined) {
      return undefined;
    }
    this.bucket(resource).delete(key);
    const object = copy(previous);
    metadataOf(object).resourceVersion = String(++this.revision);
    this.record({ type: 'DELETED', resource, namespace, object, previous });
    return copy(object);
  }

  /** History events after a revision, oldest first. */
  eventsAfter(revision: number): StoredEvent[] {
    return this.history.filter((event) => event.resourceVersion > revision).map(copy);
  }

  /** Drops the whole history, so that a watch from any earlier revision gets 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.compactedRevision = this.revision;
  }

  private bucket(resource: string): Map<string, Json> {
    let bucket = this.objects.get(resource);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    return bucket;
  }

  private record(change: Omit<StoredEvent, 'resourceVersion'>): void {
    const event: StoredEvent = {
      ...change,
      resourceVersion: this.revision,
      object: copy(change.object),
      previous: change.previous === undefined ? undefined : copy(change.previous),
    };
    this.history.push(event);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift() as StoredEvent;
      this.compactedRevision = dropped.resourceVersion;
    }
    for (const listener of this.listeners) {
      listener(copy(event));
    }
  }
}
