import { defaultPodSpec } from './resources';
import { kubeTime, metadataOf, type Json, type ObjectStore, type StoredEvent } from './store';

/** The characters of generated name suffixes, from k8s.io/apimachinery/pkg/util/rand. */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function generateNameSuffix(): string {
  let suffix = '';
  for (let index = 0; index < 5; index++) {
    suffix += SUFFIX_ALPHABET[Math.floor(Math.random() * SUFFIX_ALPHABET.length)];
  }
  return suffix;
}

/** Appends a random suffix to generateName, cutting the base to 58 characters as the server does. */
export function generateName(base: string): string {
  return `${base.slice(0, 58)}${generateNameSuffix()}`;
}

export interface JobControllerOptions {
  /** First retry delay after a failed pod; doubles per failure (the real controller starts at 10 s). */
  podBackoffMilliseconds: number;
}

/** What the controller needs from the API server and the kubelet. */
export interface JobControllerHost {
  createPod(namespace: string, pod: Json): Json;
  deletePod(namespace: string, name: string, graceSeconds?: number): void;
  deleteJob(namespace: string, name: string, propagationPolicy: string): void;
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function condition(type: string, reason: string, message: string): Json {
  const now = kubeTime();
  return { type, status: 'True', lastProbeTime: now, lastTransitionTime: now, reason, message };
}

function isFinished(job: Json): boolean {
  return list((job.status as Json | undefined)?.conditions).some(
    (entry) => (entry.type === 'Complete' || entry.type === 'Failed') && entry.status === 'True',
  );
}

/** Per-Job memory of the controller: pods already counted and timers. */
interface JobRecord {
  counted: Set<string>;
  known: Map<string, string>;
  deadlineTimer?: NodeJS.Timeout;
  /** When the current deadline timer fires, in epoch milliseconds. */
  deadlineAt?: number;
  backoffTimer?: NodeJS.Timeout;
  ttlTimer?: NodeJS.Timeout;
  pausedUntil: number;
}

/**
 * The Job controller of kube-controller-manager 1.31+, for NonIndexed Jobs with one completion:
 * it creates a pod, counts succeeded and failed pods, retries up to backoffLimit, enforces
 * activeDeadlineSeconds, and writes status and conditions (SuccessCriteriaMet or FailureTarget
 * first, then Complete or Failed). The TTL controller's deletion after ttlSecondsAfterFinished
 * is here too.
 */
export class JobController {
  private readonly records = new Map<string, JobRecord>();
  private readonly pending = new Set<string>();
  private stopped = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly host: JobControllerHost,
    private readonly options: JobControllerOptions,
  ) {
    store.subscribe((event) => this.observe(event));
  }

  stop(): void {
    this.stopped = true;
    for (const record of this.records.values()) {
      clearTimeout(record.deadlineTimer);
      clearTimeout(record.backoffTimer);
      clearTimeout(record.ttlTimer);
    }
  }

  /** Makes the controller ignore a Job for a while, as if it were slow or restarting. */
  pause(namespace: string, name: string, milliseconds: number): void {
    const job = this.store.get('jobs', namespace, name);
    if (job === undefined) {
      return;
    }
    const record = this.recordOf(String(metadataOf(job).uid));
    record.pausedUntil = Date.now() + milliseconds;
    setTimeout(() => this.enqueue(namespace, name), milliseconds + 1).unref();
  }

  private recordOf(uid: string): JobRecord {
    let record = this.records.get(uid);
    if (record === undefined) {
      record = { counted: new Set(), known: new Map(), pausedUntil: 0 };
      this.records.set(uid, record);
    }
    return record;
  }

  private observe(event: StoredEvent): void {
    if (event.resource === 'jobs') {
      if (event.type === 'DELETED') {
        const record = this.records.get(String(metadataOf(event.object).uid));
        clearTimeout(record?.deadlineTimer);
        clearTimeout(record?.backoffTimer);
        clearTimeout(record?.ttlTimer);
        return;
      }
      this.enqueue(event.namespace, String(metadataOf(event.object).name));
      return;
    }
    if (event.resource === 'pods') {
      const owner = list(metadataOf(event.object).ownerReferences).find(
        (reference) => reference.kind === 'Job' && reference.controller === true,
      );
      if (owner !== undefined) {
        this.enqueue(event.namespace, String(owner.name));
      }
    }
  }

  private enqueue(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (this.pending.has(key) || this.stopped) {
      return;
    }
    this.pending.add(key);
    setImmediate(() => {
      this.pending.delete(key);
      if (!this.stopped) {
        this.sync(namespace, name);
      }
    });
  }

  private sync(namespace: string, name: string): void {
    const job = this.store.get('jobs', namespace, name);
    if (job === undefined) {
      return;
    }
    const meta = metadataOf(job);
    const uid = String(meta.uid);
    const record = this.recordOf(uid);
    if (Date.now() < record.pausedUntil) {
      return;
    }
    const spec = job.spec as Json;
    const status = (job.status ?? {}) as Json;
    job.status = status;

    if (isFinished(job)) {
      this.scheduleTtl(job, record);
      return;
    }
    if (meta.deletionTimestamp !== undefined) {
      return;
    }
    if (spec.suspend === true) {
      this.suspend(job, record);
      return;
    }
    this.resumeIfSuspended(status, record);

    const pods = this.store
      .list('pods', namespace)
      .filter(
        (pod) =>
          ((metadataOf(pod).labels ?? {}) as Json)['batch.kubernetes.io/controller-uid'] === uid,
      );
    const livePodUids = new Set(pods.map((pod) => String(metadataOf(pod).uid)));

    let succeeded = Number(status.succeeded ?? 0);
    let failed = Number(status.failed ?? 0);
    for (const pod of pods) {
      const podUid = String(metadataOf(pod).uid);
      record.known.set(podUid, String(metadataOf(pod).name));
      const phase = (pod.status as Json | undefined)?.phase;
      if (record.counted.has(podUid)) {
        continue;
      }
      if (phase === 'Succeeded') {
        succeeded++;
        record.counted.add(podUid);
      } else if (phase === 'Failed') {
        failed++;
        record.counted.add(podUid);
      }
    }
    // A pod that disappeared before it finished counts as failed, as with job tracking finalizers.
    for (const [podUid] of record.known) {
      if (!livePodUids.has(podUid) && !record.counted.has(podUid)) {
        failed++;
        record.counted.add(podUid);
      }
    }

    const active = pods.filter((pod) => {
      const phase = (pod.status as Json | undefined)?.phase;
      return (
        phase !== 'Succeeded' &&
        phase !== 'Failed' &&
        metadataOf(pod).deletionTimestamp === undefined
      );
    });
    const terminating = pods.filter((pod) => {
      const phase = (pod.status as Json | undefined)?.phase;
      return (
        metadataOf(pod).deletionTimestamp !== undefined &&
        phase !== 'Succeeded' &&
        phase !== 'Failed'
      );
    });
    const ready = active.filter((pod) =>
      list((pod.status as Json | undefined)?.conditions).some(
        (entry) => entry.type === 'Ready' && entry.status === 'True',
      ),
    );
    const restarts = active.reduce(
      (sum, pod) =>
        sum +
        list((pod.status as Json | undefined)?.containerStatuses).reduce(
          (inner, entry) => inner + Number(entry.restartCount ?? 0),
          0,
        ) +
        list((pod.status as Json | undefined)?.initContainerStatuses).reduce(
          (inner, entry) => inner + Number(entry.restartCount ?? 0),
          0,
        ),
      0,
    );

    if (status.startTime === undefined) {
      status.startTime = kubeTime();
    }
    const deadlineSeconds = spec.activeDeadlineSeconds as number | undefined;
    const startedAt = Date.parse(String(status.startTime));
    const backoffLimit = Number(spec.backoffLimit ?? 6);
    const completions = Number(spec.completions ?? 1);

    let failure: { reason: string; message: string } | undefined;
    if (deadlineSeconds !== undefined && Date.now() >= startedAt + deadlineSeconds * 1000) {
      failure = {
        reason: 'DeadlineExceeded',
        message: 'Job was active longer than specified deadline',
      };
    } else if (failed + restarts > backoffLimit) {
      failure = {
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      };
    }

    status.succeeded = succeeded === 0 ? undefined : succeeded;
    status.failed = failed === 0 ? undefined : failed;
    status.ready = ready.length;
    status.terminating = terminating.length;
    status.uncountedTerminatedPods = {};
    const conditions = list(status.conditions);
    status.conditions = conditions.length === 0 ? undefined : conditions;

    if (failure !== undefined) {
      for (const pod of active) {
        this.host.deletePod(namespace, String(metadataOf(pod).name));
      }
      if (!conditions.some((entry) => entry.type === 'FailureTarget')) {
        conditions.push(condition('FailureTarget', failure.reason, failure.message));
        status.conditions = conditions;
        status.active = active.length;
        this.write(job);
      }
      // The Failed condition follows once no pod of the Job is running any more.
      if (active.length === 0 && terminating.length === 0) {
        conditions.push(condition('Failed', failure.reason, failure.message));
        status.conditions = conditions;
        status.active = 0;
        status.ready = 0;
        this.write(job);
        this.scheduleTtl(job, record);
      } else {
        const delayMs = 50;
        setTimeout(() => this.enqueue(namespace, name), delayMs).unref();
      }
      return;
    }

    if (succeeded >= completions) {
      if (!conditions.some((entry) => entry.type === 'SuccessCriteriaMet')) {
        conditions.push(
          condition(
            'SuccessCriteriaMet',
            'CompletionsReached',
            'Reached expected number of succeeded pods',
          ),
        );
        status.conditions = conditions;
        status.active = active.length;
        this.write(job);
      }
      conditions.push(
        condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
      );
      status.completionTime = kubeTime();
      status.active = 0;
      status.ready = 0;
      this.write(job);
      this.scheduleTtl(job, record);
      return;
    }

    status.active = active.length === 0 ? undefined : active.length;
    this.scheduleDeadline(job, record, startedAt, deadlineSeconds);
    if (active.length === 0 && terminating.length === 0) {
      const wait =
        failed === 0
          ? 0
          : Math.min(this.options.podBackoffMilliseconds * 2 ** (failed - 1), 360_000);
      const lastFailure = record.backoffTimer;
      if (wait === 0) {
        status.active = 1;
        this.write(job);
        this.createPod(job);
      } else if (lastFailure === undefined) {
        this.write(job);
        record.backoffTimer = setTimeout(() => {
          record.backoffTimer = undefined;
          const current = this.store.get('jobs', namespace, name);
          if (current !== undefined && !isFinished(current) && metadataOf(current).uid === uid) {
            this.createPodIfIdle(current, record);
          }
        }, wait);
        record.backoffTimer.unref();
      }
      return;
    }
    this.write(job);
  }

  /**
   * Stops a suspended Job: its active pods are deleted without counting as failures, startTime
   * is cleared and the Suspended condition is set, as the real controller does.
   */
  private suspend(job: Json, record: JobRecord): void {
    const meta = metadataOf(job);
    const namespace = String(meta.namespace);
    const status = job.status as Json;
    for (const pod of this.store.list('pods', namespace)) {
      const podMeta = metadataOf(pod);
      const phase = (pod.status as Json | undefined)?.phase;
      const owned =
        ((podMeta.labels ?? {}) as Json)['batch.kubernetes.io/controller-uid'] === meta.uid;
      if (
        owned &&
        phase !== 'Succeeded' &&
        phase !== 'Failed' &&
        !record.counted.has(String(podMeta.uid))
      ) {
        record.counted.add(String(podMeta.uid));
        this.host.deletePod(namespace, String(podMeta.name));
      }
    }
    clearTimeout(record.deadlineTimer);
    record.deadlineTimer = undefined;
    record.deadlineAt = undefined;
    delete status.startTime;
    delete status.active;
    status.ready = 0;
    this.setSuspended(status, true);
    this.write(job);
  }

  private resumeIfSuspended(status: Json, record: JobRecord): void {
    const suspended = list(status.conditions).find((entry) => entry.type === 'Suspended');
    if (suspended === undefined || suspended.status !== 'True') {
      return;
    }
    this.setSuspended(status, false);
    status.startTime = kubeTime();
    record.deadlineAt = undefined;
  }

  private setSuspended(status: Json, suspended: boolean): void {
    const conditions = list(status.conditions);
    const existing = conditions.find((entry) => entry.type === 'Suspended');
    const text = suspended ? 'True' : 'False';
    if (existing?.status === text) {
      return;
    }
    const next = suspended
      ? condition('Suspended', 'JobSuspended', 'Job suspended')
      : { ...condition('Suspended', 'JobResumed', 'Job resumed'), status: 'False' };
    status.conditions =
      existing === undefined
        ? [...conditions, next]
        : conditions.map((entry) => (entry === existing ? next : entry));
  }

  private createPodIfIdle(job: Json, record: JobRecord): void {
    const uid = String(metadataOf(job).uid);
    const pods = this.store
      .list('pods', String(metadataOf(job).namespace))
      .filter(
        (pod) =>
          ((metadataOf(pod).labels ?? {}) as Json)['batch.kubernetes.io/controller-uid'] === uid,
      )
      .filter((pod) => !record.counted.has(String(metadataOf(pod).uid)));
    if (pods.length === 0) {
      this.createPod(job);
    }
  }

  /** Writes the Job's status when it changed; an unchanged status causes no event, as in the real controller. */
  private write(job: Json): void {
    const stored = this.store.get(
      'jobs',
      String(metadataOf(job).namespace),
      String(metadataOf(job).name),
    );
    if (stored === undefined || metadataOf(stored).uid !== metadataOf(job).uid) {
      return;
    }
    const status = JSON.parse(JSON.stringify(job.status)) as Json;
    // active, succeeded and failed are omitempty integers in the Job API; ready and terminating are pointers.
    for (const field of ['active', 'succeeded', 'failed']) {
      if (status[field] === 0) {
        delete status[field];
      }
    }
    if (JSON.stringify(stored.status ?? {}) === JSON.stringify(status)) {
      return;
    }
    stored.status = status;
    this.store.update('jobs', stored);
  }

  private createPod(job: Json): void {
    const meta = metadataOf(job);
    const template = structuredClone((job.spec as Json).template as Json);
    const templateMeta = (template.metadata ?? {}) as Json;
    const podSpec = template.spec as Json;
    defaultPodSpec(podSpec);
    podSpec.serviceAccountName ??= 'default';
    podSpec.serviceAccount ??= podSpec.serviceAccountName;
    podSpec.priority ??= 0;
    podSpec.preemptionPolicy ??= 'PreemptLowerPriority';
    podSpec.tolerations ??= [
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ];

    const base = `${String(meta.name)}-`;
    const pod: Json = {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        name: generateName(base),
        generateName: base,
        labels: templateMeta.labels ?? {},
        ...(templateMeta.annotations === undefined
          ? {}
          : { annotations: templateMeta.annotations }),
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: meta.name,
            uid: meta.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: podSpec,
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    };

    // Pods carry the batch.kubernetes.io/job-tracking finalizer in Kubernetes, so a pod that
    // vanishes before the controller saw it still counts as failed. Remembering it here does that.
    const created = this.host.createPod(String(meta.namespace), pod);
    this.recordOf(String(meta.uid)).known.set(
      String(metadataOf(created).uid),
      String(metadataOf(created).name),
    );
  }

  private scheduleDeadline(
    job: Json,
    record: JobRecord,
    startedAt: number,
    deadlineSeconds: number | undefined,
  ): void {
    const deadlineAt =
      deadlineSeconds === undefined ? undefined : startedAt + deadlineSeconds * 1000;
    if (deadlineAt === record.deadlineAt) {
      return;
    }
    // activeDeadlineSeconds may change through an update, and a resume restarts the clock.
    clearTimeout(record.deadlineTimer);
    record.deadlineTimer = undefined;
    record.deadlineAt = deadlineAt;
    if (deadlineAt === undefined) {
      return;
    }
    const meta = metadataOf(job);
    const wait = Math.max(0, deadlineAt - Date.now());
    record.deadlineTimer = setTimeout(
      () => this.enqueue(String(meta.namespace), String(meta.name)),
      wait + 5,
    );
    record.deadlineTimer.unref();
  }

  private scheduleTtl(job: Json, record: JobRecord): void {
    const ttl = (job.spec as Json).ttlSecondsAfterFinished;
    if (typeof ttl !== 'number' || record.ttlTimer !== undefined) {
      return;
    }
    clearTimeout(record.deadlineTimer);
    const meta = metadataOf(job);
    record.ttlTimer = setTimeout(() => {
      const current = this.store.get('jobs', String(meta.namespace), String(meta.name));
      if (current !== undefined && metadataOf(current).uid === meta.uid) {
        this.host.deleteJob(String(meta.namespace), String(meta.name), 'Background');
      }
    }, ttl * 1000);
    record.ttlTimer.unref();
  }
}
