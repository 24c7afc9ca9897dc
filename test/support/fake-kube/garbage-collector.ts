import { kubeTime, metadataOf, type Json, type ObjectStore } from './store';

/** Resources whose objects may be dependents of a Job through ownerReferences. */
const DEPENDENT_RESOURCES = ['pods', 'secrets'] as const;

/** Owner kinds that the fake serves, so a reference to a missing one is known to dangle. */
const OWNER_RESOURCES: Record<string, string> = { Job: 'jobs', Secret: 'secrets', Pod: 'pods' };

/** How long a dependent with only missing owners lives before it is collected. */
const DANGLING_GRACE_MILLISECONDS = 100;

function ownerReferences(object: Json): Json[] {
  return (metadataOf(object).ownerReferences ?? []) as Json[];
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Deletes Jobs with a propagation policy and removes dependents whose owners are gone, as the
 * API server's deletion and kube-controller-manager's garbage collector do for pods and
 * Secrets that name a Job in ownerReferences.
 */
export class GarbageCollector {
  constructor(
    private readonly store: ObjectStore,
    private readonly deletePod: (namespace: string, name: string) => Promise<unknown>,
  ) {}

  /**
   * Deletes a Job. Background removes it at once and its dependents right after. Orphan and
   * Foreground first mark it with deletionTimestamp and the `orphan` or `foregroundDeletion`
   * finalizer, then release or delete the dependents, then remove it. Returns the marked Job,
   * or undefined when it was removed at once.
   */
  deleteJob(namespace: string, name: string, propagationPolicy: string): Json | undefined {
    const job = this.store.get('jobs', namespace, name);
    if (job === undefined) {
      return undefined;
    }
    const meta = metadataOf(job);
    const uid = String(meta.uid);

    if (propagationPolicy === 'Background') {
      this.store.remove('jobs', namespace, name);
      setImmediate(() => void this.deleteDependents(namespace, uid));
      return undefined;
    }

    const finalizer = propagationPolicy === 'Orphan' ? 'orphan' : 'foregroundDeletion';
    meta.deletionTimestamp = kubeTime();
    meta.deletionGracePeriodSeconds = 0;
    meta.finalizers = [...((meta.finalizers as string[] | undefined) ?? []), finalizer];
    const marked = this.store.update('jobs', job);
    setImmediate(() => void this.finishDeletion(namespace, name, uid, finalizer));
    return marked;
  }

  /** Schedules removal of an object whose owners may all be missing, as the collector would. */
  checkOwners(resource: 'pods' | 'secrets', namespace: string, name: string): void {
    setTimeout(() => {
      const object = this.store.get(resource, namespace, name);
      if (object === undefined) {
        return;
      }
      const references = ownerReferences(object);
      const dangling = references.filter((reference) => {
        const ownerResource = OWNER_RESOURCES[String(reference.kind)];
        if (ownerResource === undefined) {
          return false;
        }
        const owner = this.store.get(ownerResource, namespace, String(reference.name));
        return owner === undefined || metadataOf(owner).uid !== reference.uid;
      });
      if (references.length > 0 && dangling.length === references.length) {
        void this.deleteObject(resource, namespace, name);
      }
    }, DANGLING_GRACE_MILLISECONDS).unref();
  }

  private dependents(
    namespace: string,
    uid: string,
  ): Array<{ resource: 'pods' | 'secrets'; object: Json }> {
    const found: Array<{ resource: 'pods' | 'secrets'; object: Json }> = [];
    for (const resource of DEPENDENT_RESOURCES) {
      for (const object of this.store.list(resource, namespace)) {
        if (ownerReferences(object).some((reference) => reference.uid === uid)) {
          found.push({ resource, object });
        }
      }
    }
    return found;
  }

  private async deleteObject(
    resource: 'pods' | 'secrets',
    namespace: string,
    name: string,
  ): Promise<void> {
    if (resource === 'pods') {
      await this.deletePod(namespace, name);
    } else {
      this.store.remove(resource, namespace, name);
    }
  }

  /** Deletes every dependent of an owner and waits until all of them are gone. */
  private async deleteDependents(namespace: string, uid: string): Promise<void> {
    await Promise.all(
      this.dependents(namespace, uid).map(async ({ resource, object }) => {
        const name = String(metadataOf(object).name);
        await this.deleteObject(resource, namespace, name);
        while (this.store.get(resource, namespace, name) !== undefined) {
          await sleep(20);
        }
      }),
    );
  }

  private async finishDeletion(
    namespace: string,
    name: string,
    uid: string,
    finalizer: string,
  ): Promise<void> {
    if (finalizer === 'orphan') {
      for (const { resource, object } of this.dependents(namespace, uid)) {
        const meta = metadataOf(object);
        const remaining = ownerReferences(object).filter((reference) => reference.uid !== uid);
        if (remaining.length === 0) {
          delete meta.ownerReferences;
        } else {
          meta.ownerReferences = remaining;
        }
        this.store.update(resource, object);
      }
    } else {
      await this.deleteDependents(namespace, uid);
    }

    const current = this.store.get('jobs', namespace, name);
    if (current === undefined || metadataOf(current).uid !== uid) {
      return;
    }
    const meta = metadataOf(current);
    const finalizers = ((meta.finalizers ?? []) as string[]).filter((entry) => entry !== finalizer);
    if (finalizers.length === 0) {
      delete meta.finalizers;
    } else {
      meta.finalizers = finalizers;
    }
    this.store.update('jobs', current);
    if (finalizers.length === 0) {
      this.store.remove('jobs', namespace, name);
    }
  }
}
