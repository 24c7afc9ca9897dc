import { OutputCollector } from '@kriten/results';
import type {
  JobEventSink,
  JobExecutor,
  JobLaunch,
  JobOutcome,
  UnfinishedJob,
} from '../job-executor';
import type { ExecutorLogger } from '../local/local-executor-options';
import { followJobLog, type LogSource } from './job-log-follower';
import { buildJobManifest, CLONE_CONTAINER, JOB_ID_LABEL, MAIN_CONTAINER } from './job-spec';
import {
  KubernetesApiError,
  KubernetesCertificateError,
  KubernetesUnreachableError,
} from './kube-http';
import { describePermission, KubernetesApi, type Permission } from './kubernetes-api';
import type { KubernetesExecutorOptions } from './kubernetes-executor-options';
import type { Job, ObjectMeta, Pod } from './kubernetes-types';
import { lastLines, observeJob, observePod, type PodObservation } from './pod-status';
import { ResourceWatcher } from './resource-watcher';

/** Every call the executor and the Secret store make, checked at start. */
const REQUIRED_PERMISSIONS: Permission[] = [
  ...['create', 'get', 'list', 'watch', 'delete'].map((verb) => ({
    verb,
    group: 'batch',
    resource: 'jobs',
  })),
  ...['get', 'list', 'watch'].map((verb) => ({ verb, group: '', resource: 'pods' })),
  { verb: 'get', group: '', resource: 'pods', subresource: 'log' },
  ...['create', 'get', 'update', 'delete'].map((verb) => ({
    verb,
    group: '',
    resource: 'secrets',
  })),
];

/** Time a deleted Job or pod is given before its job counts as lost; a cancel or the Job's own end comes first. */
const DEFAULT_LOST_GRACE_MS = 3000;

/** How long another server's job may stay unrecorded after its end before this server records it. */
const DEFAULT_ORPHAN_GRACE_MS = 10_000;

/** How long a watch may keep failing before the readiness check fails. */
const WATCH_FAILURE_GRACE_MS = 30_000;

/** How long a cancelled job's id is remembered, so that its Job's deletion is not taken for a loss. */
const CANCEL_MEMORY_MS = 60_000;

/** Lines of the clone container's log quoted in a failure reason. */
const CLONE_REASON_LINES = 3;

/** A Kriten Job that this executor follows, until its end is recorded or left to its owner. */
interface TrackedJob {
  readonly jobId: string;
  /**
   * True for a job this server launched or took over at start, whose end it records at once.
   * Another server's job is followed too, but its end is recorded here only when that server
   * has not recorded it after ORPHAN_GRACE_MS, because it stopped in the meantime.
   */
  owned: boolean;
  settled: boolean;
  startReport?: Promise<void>;
  pullErrorTimer?: NodeJS.Timeout;
  lostTimer?: NodeJS.Timeout;
  /** Output read when Kubernetes began deleting the pod, in case the pod is gone at the end. */
  outputBeforeDeletion?: Promise<CollectedOutput>;
  /** When the main container started, as the pod showed it. */
  startedAt?: Date;
}

/** A job's log as read from its pod. */
interface CollectedOutput {
  text: string;
  truncated: boolean;
  cloneLog: string;
  /** True when the log could not be read, for example because the pod no longer exists. */
  readFailed: boolean;
}

/** The end of a job as the executor observed it, before its logs are read. */
interface Ending {
  status: 'succeeded' | 'failed';
  exitCode: number | null;
  reason?: string;
  completedAt?: Date;
  /** Quote the clone container's log in the reason. */
  cloneFailed?: boolean;
  /** Delete the Job after recording the end, because it cannot end by itself or must not go on. */
  deleteJob?: boolean;
}

/**
 * Runs each job as a `batch/v1` Job. One create call starts a job. Its progress comes from one
 * watch on Kriten's Jobs and one on their pods, shared by all jobs, so nothing is polled.
 *
 * Several replicas may run side by side. Each settles the jobs it launched, and at start also
 * the ones that the database still records as running. The jobs service records only the
 * first end of a job, so a job that two replicas settle keeps one outcome. Any replica can
 * cancel a job, because a cancel deletes the Job in the cluster.
 */
export class KubernetesExecutor implements JobExecutor {
  readonly kind = 'kubernetes' as const;

  private readonly api: KubernetesApi;
  private readonly logger: ExecutorLogger;
  private readonly lostGraceMs: number;
  private events: JobEventSink | undefined;
  private readonly tracked = new Map<string, TrackedJob>();
  /** Jobs whose end was recorded or left to their owner, so that later events do not follow them again. */
  private readonly settledIds = new Set<string>();
  /** Ends of other servers' jobs, waiting for the check whether their owner recorded them. */
  private readonly orphanChecks = new Map<
    string,
    { timer: NodeJS.Timeout; tracked: TrackedJob; ending: Ending }
  >();
  private readonly orphanGraceMs: number;
  private readonly cancelling = new Set<string>();
  /** Latest state of every Kriten Job, by job id, as the watch reports it. */
  private readonly jobObjects = new Map<string, Job>();
  /** Latest state of the newest pod of every Kriten Job, by job id. */
  private readonly pods = new Map<string, Pod>();
  private readonly changeListeners = new Set<() => void>();
  private readonly watchers: ResourceWatcher<Job | Pod>[] = [];
  private shuttingDown = false;

  constructor(private readonly options: KubernetesExecutorOptions) {
    this.api = options.api;
    this.logger = options.logger;
    this.lostGraceMs = options.lostGraceMs ?? DEFAULT_LOST_GRACE_MS;
    this.orphanGraceMs = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  }

  async checkReady(): Promise<void> {
    await this.checkPermissions();

    const jobWatcher = new ResourceWatcher<Job>(
      'Kubernetes Job',
      {
        list: () => this.api.listJobs(),
        watch: (version, onEvent, signal, onOpen) =>
          this.api.watchJobs(version, onEvent, signal, onOpen),
      },
      {
        onList: (items) => this.replaceJobs(items),
        onEvent: (type, job) => this.applyJobEvent(type, job),
        onProblem: (message) => this.logger.warn(message),
      },
    );
    const podWatcher = new ResourceWatcher<Pod>(
      'pod',
      {
        list: () => this.api.listPods(),
        watch: (version, onEvent, signal, onOpen) =>
          this.api.watchPods(version, onEvent, signal, onOpen),
      },
      {
        onList: (items) => this.replacePods(items),
        onEvent: (type, pod) => this.applyPodEvent(type, pod),
        onProblem: (message) => this.logger.warn(message),
      },
    );
    // Pods first: a Job's end is read together with the pod that shows its exit code.
    await podWatcher.start();
    this.watchers.push(podWatcher as ResourceWatcher<Job | Pod>);
    await jobWatcher.start();
    this.watchers.push(jobWatcher as ResourceWatcher<Job | Pod>);

    this.logger.log(
      `kubernetes executor ready: namespace '${this.api.namespace}' at ${this.api.http.server}, configured from ${this.options.connectionSource}`,
    );
  }

  /**
   * Checks, without calling the API, that the watches work: a watch that has kept failing for
   * longer than the grace period means job ends go unnoticed. Brief failures are normal, as
   * when the API server restarts.
   */
  async checkHealth(): Promise<void> {
    for (const watcher of this.watchers) {
      const failure = watcher.currentFailure();
      if (failure !== undefined && failure.sinceMs > WATCH_FAILURE_GRACE_MS) {
        throw new Error(
          `the ${watcher.name} watch has been failing for ${Math.round(failure.sinceMs / 1000)} s: ${failure.message}`,
        );
      }
    }
  }

  async launch(job: JobLaunch, events: JobEventSink): Promise<void> {
    if (this.shuttingDown) {
      throw new Error(`job '${job.jobId}' was not started because the server is shutting down`);
    }
    this.events = events;
    const manifest = buildJobManifest(job, { ...this.options, namespace: this.api.namespace });

    const tracked: TrackedJob = { jobId: job.jobId, owned: true, settled: false };
    this.tracked.set(job.jobId, tracked);
    try {
      await this.api.createJob(manifest);
    } catch (error) {
      this.tracked.delete(job.jobId);
      throw new Error(`creating the Kubernetes Job '${job.jobId}' failed: ${describe(error)}`, {
        cause: error,
      });
    }
    if (this.cancelling.has(job.jobId)) {
      // Cancelled while the create call was in flight, so the delete found nothing to delete.
      await this.api.deleteJob(job.jobId);
      return;
    }
    this.logger.log(
      `job '${job.jobId}' of task '${job.taskName}' created as a Kubernetes Job in namespace '${this.api.namespace}'`,
    );
  }

  async cancel(jobId: string): Promise<boolean> {
    const tracked = this.tracked.get(jobId);
    const job = this.jobObjects.get(jobId);
    // A Job that ended is recorded with its own outcome, even when no server has done so yet.
    const ended = job !== undefined && observeJob(job) !== undefined;
    if (tracked?.settled || (tracked === undefined && (job === undefined || ended))) {
      return false;
    }

    this.cancelling.add(jobId);
    setTimeout(() => this.cancelling.delete(jobId), CANCEL_MEMORY_MS).unref();
    if (tracked !== undefined) {
      this.stopTracking(tracked);
    }

    // The pods go with the Job, so their logs are read first.
    const output = await this.collectOutput(jobId, this.pods.get(jobId));
    let deleted: boolean;
    try {
      deleted = await this.api.deleteJob(jobId);
    } catch (error) {
      if (tracked !== undefined) {
        tracked.settled = false;
        this.tracked.set(jobId, tracked);
      }
      throw new Error(`deleting the Kubernetes Job '${jobId}' failed: ${describe(error)}`, {
        cause: error,
      });
    }
    if (!deleted && tracked === undefined) {
      return false;
    }

    await this.report(jobId, 'jobEnded', (events) =>
      events.jobEnded(jobId, {
        status: 'cancelled',
        exitCode: null,
        output: output.text,
        outputTruncated: output.truncated,
        reason: 'cancelled',
        completedAt: new Date(),
      }),
    );
    this.logger.log(`job '${jobId}' cancelled: its Kubernetes Job was deleted`);
    return true;
  }

  async readLiveOutput(jobId: string): Promise<string | undefined> {
    if (!this.tracked.has(jobId) && !this.jobObjects.has(jobId)) {
      return undefined;
    }
    const pod = this.pods.get(jobId);
    if (pod === undefined) {
      return '';
    }
    return (await this.collectOutput(jobId, pod)).text;
  }

  followOutput(jobId: string, signal: AbortSignal): AsyncIterable<string> | undefined {
    if (!this.tracked.has(jobId) && !this.jobObjects.has(jobId)) {
      return undefined;
    }
    const source: LogSource = {
      currentPod: () => this.pods.get(jobId),
      jobGone: () => !this.jobObjects.has(jobId) && !this.tracked.has(jobId),
      jobEnded: () => {
        const job = this.jobObjects.get(jobId);
        return job !== undefined && observeJob(job) !== undefined;
      },
      waitForChange: (abort) => this.waitForChange(abort),
      streamLog: (pod, container, abort, onChunk) =>
        this.api.streamLog(pod, container, true, abort, onChunk),
    };
    return followJobLog(source, signal);
  }

  async recoverUnfinished(jobs: UnfinishedJob[], events: JobEventSink): Promise<void> {
    this.events = events;
    let adopted = 0;
    let lost = 0;
    for (const { jobId } of jobs) {
      const pendingCheck = this.orphanChecks.get(jobId);
      if (pendingCheck !== undefined) {
        // Its end was seen while no server recorded it, so it is recorded now.
        adopted++;
        clearTimeout(pendingCheck.timer);
        this.orphanChecks.delete(jobId);
        this.takeOver(pendingCheck.tracked);
        this.finish(pendingCheck.tracked, pendingCheck.ending).catch((error: unknown) =>
          this.logger.error(`job '${jobId}': recording its end failed: ${describe(error)}`),
        );
        continue;
      }
      const known = this.tracked.get(jobId);
      if (known !== undefined) {
        adopted++;
        this.takeOver(known);
        continue;
      }
      const tracked: TrackedJob = { jobId, owned: true, settled: false };
      this.tracked.set(jobId, tracked);

      const job = this.jobObjects.get(jobId);
      if (job === undefined) {
        lost++;
        this.settle(tracked, {
          status: 'failed',
          exitCode: null,
          reason:
            'its Kubernetes Job no longer exists: it was deleted, or removed after it ended, while no server watched it',
        });
        continue;
      }
      adopted++;
      const pod = this.pods.get(jobId);
      if (pod !== undefined) {
        this.onPodChange(jobId, pod);
      }
      this.onJobChange(jobId, job);
    }
    if (jobs.length > 0) {
      this.logger.log(
        `took over ${adopted} job(s) left running by an earlier server process; ${lost} had no Kubernetes Job any more`,
      );
    }
  }

  async forgetRunner(): Promise<void> {
    // Each Job clones the repository afresh, so nothing is kept per runner.
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const tracked of this.tracked.values()) {
      clearTimeout(tracked.pullErrorTimer);
      clearTimeout(tracked.lostTimer);
    }
    for (const check of this.orphanChecks.values()) {
      clearTimeout(check.timer);
    }
    await Promise.all(this.watchers.map((watcher) => watcher.stop()));
    this.notifyChange();
    // The Jobs run on in the cluster; the next start takes them over.
    const owned = [...this.tracked.values()].filter((tracked) => tracked.owned).length;
    this.logger.log(
      `kubernetes executor stopped watching; ${owned} job(s) of this server go on running in the cluster`,
    );
  }

  private async checkPermissions(): Promise<void> {
    const missing: string[] = [];
    try {
      for (const permission of REQUIRED_PERMISSIONS) {
        const answer = await this.api.mayI(permission);
        if (!answer.allowed) {
          missing.push(`${permission.verb} ${describePermission(permission)}`);
        }
      }
    } catch (error) {
      if (error instanceof KubernetesCertificateError) {
        throw new Error(
          `${error.message}; check that the CA certificate in ${this.options.connectionSource} is the one that signed the API server's certificate`,
          { cause: error },
        );
      }
      if (error instanceof KubernetesUnreachableError) {
        throw new Error(
          `${error.message}; check the server address in ${this.options.connectionSource} and that the API server runs`,
          { cause: error },
        );
      }
      if (error instanceof KubernetesApiError && error.statusCode === 401) {
        throw new Error(
          `the Kubernetes API at ${this.api.http.server} rejected Kriten's credentials (401 Unauthorized): check the token or certificate in its configuration`,
          { cause: error },
        );
      }
      throw new Error(
        `checking Kriten's permissions at the Kubernetes API ${this.api.http.server} failed: ${describe(error)}`,
        { cause: error },
      );
    }
    if (missing.length > 0) {
      throw new Error(
        `Kubernetes service account may not ${missing.join(', ')} in namespace '${this.api.namespace}': grant it with the Role in k8s/`,
      );
    }
  }

  private replaceJobs(items: Job[]): void {
    const listed = new Map(items.map((job) => [jobIdOf(job.metadata), job]));
    for (const jobId of this.jobObjects.keys()) {
      if (!listed.has(jobId)) {
        this.jobObjects.delete(jobId);
        this.onJobGone(jobId);
      }
    }
    for (const jobId of this.settledIds) {
      if (!listed.has(jobId)) {
        this.settledIds.delete(jobId);
      }
    }
    for (const [jobId, job] of listed) {
      this.jobObjects.set(jobId, job);
      this.followIfNew(jobId);
      this.onJobChange(jobId, job);
    }
    this.notifyChange();
  }

  private applyJobEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', job: Job): void {
    const jobId = jobIdOf(job.metadata);
    if (type === 'DELETED') {
      this.jobObjects.delete(jobId);
      this.onJobGone(jobId);
      if (!this.orphanChecks.has(jobId)) {
        this.settledIds.delete(jobId);
      }
    } else {
      this.jobObjects.set(jobId, job);
      this.followIfNew(jobId);
      this.onJobChange(jobId, job);
    }
    this.notifyChange();
  }

  private replacePods(items: Pod[]): void {
    const listed = new Map<string, Pod>();
    for (const pod of items) {
      const jobId = jobIdOf(pod.metadata);
      const other = listed.get(jobId);
      if (other === undefined || isNewer(pod, other)) {
        listed.set(jobId, pod);
      }
    }
    for (const [jobId, pod] of this.pods) {
      if (!listed.has(jobId)) {
        this.pods.delete(jobId);
        this.onPodGone(jobId, pod);
      }
    }
    for (const [jobId, pod] of listed) {
      this.pods.set(jobId, pod);
      this.onPodChange(jobId, pod);
    }
    this.notifyChange();
  }

  private applyPodEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const jobId = jobIdOf(pod.metadata);
    const known = this.pods.get(jobId);
    if (type === 'DELETED') {
      if (known === undefined || known.metadata.name === pod.metadata.name) {
        this.pods.delete(jobId);
        this.onPodGone(jobId, pod);
      }
    } else if (
      known === undefined ||
      known.metadata.name === pod.metadata.name ||
      isNewer(pod, known)
    ) {
      this.pods.set(jobId, pod);
      this.onPodChange(jobId, pod);
    }
    this.notifyChange();
  }

  /** Starts following another server's job, so that its end is recorded even if that server stops. */
  private followIfNew(jobId: string): void {
    if (this.tracked.has(jobId) || this.settledIds.has(jobId) || this.cancelling.has(jobId)) {
      return;
    }
    this.tracked.set(jobId, { jobId, owned: false, settled: false });
    const pod = this.pods.get(jobId);
    if (pod !== undefined) {
      this.onPodChange(jobId, pod);
    }
  }

  private onJobChange(jobId: string, job: Job): void {
    const tracked = this.tracked.get(jobId);
    if (tracked === undefined || tracked.settled) {
      return;
    }
    const end = observeJob(job);
    if (end === undefined) {
      return;
    }

    const pod = this.pods.get(jobId);
    const podEnd = pod === undefined ? undefined : observePod(pod);
    if (end.deadlineExceeded || podEnd?.kind !== 'ended') {
      this.settle(tracked, {
        status: end.status,
        exitCode: end.status === 'succeeded' ? 0 : null,
        reason: end.reason,
        completedAt: end.completedAt,
      });
      return;
    }
    this.settleFromPod(tracked, podEnd);
  }

  private onJobGone(jobId: string): void {
    const tracked = this.tracked.get(jobId);
    if (tracked === undefined || tracked.settled || this.cancelling.has(jobId)) {
      return;
    }
    this.armLostTimer(tracked, `its Kubernetes Job '${jobId}' was deleted before the job ended`);
  }

  private onPodChange(jobId: string, pod: Pod): void {
    const tracked = this.tracked.get(jobId);
    if (tracked === undefined || tracked.settled) {
      return;
    }

    // The Job controller deletes the pod when the deadline passes, and its log goes with it.
    if (
      pod.metadata.deletionTimestamp !== undefined &&
      tracked.outputBeforeDeletion === undefined
    ) {
      tracked.outputBeforeDeletion = this.collectOutput(jobId, pod);
    }

    const observation = observePod(pod);
    if (observation.kind !== 'pull-error') {
      clearTimeout(tracked.pullErrorTimer);
      tracked.pullErrorTimer = undefined;
    }
    switch (observation.kind) {
      case 'pending':
        return;
      case 'running':
        this.reportStart(tracked, observation.startedAt);
        return;
      case 'pull-error':
        this.armPullErrorTimer(tracked);
        return;
      case 'ended':
        this.settleFromPod(tracked, observation);
        return;
    }
  }

  /**
   * Fails the job as lost when its pod disappears before it ended, and deletes the Job. The Job
   * controller would start a replacement pod, which would run the command a second time. The
   * grace period lets the Job's own end or a cancel come first, as when the deadline passed
   * and the controller deleted the pod itself.
   */
  private onPodGone(jobId: string, pod: Pod): void {
    const tracked = this.tracked.get(jobId);
    if (tracked === undefined || tracked.settled || this.cancelling.has(jobId)) {
      return;
    }
    const observation = observePod({
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: undefined },
    });
    if (observation.kind === 'ended' && pod.metadata.deletionTimestamp === undefined) {
      this.settleFromPod(tracked, observation);
      return;
    }
    this.armLostTimer(
      tracked,
      `its pod '${pod.metadata.name}' was deleted before the job ended`,
      true,
    );
  }

  private settleFromPod(
    tracked: TrackedJob,
    observation: Extract<PodObservation, { kind: 'ended' }>,
  ): void {
    if (observation.startedAt !== undefined) {
      this.reportStart(tracked, observation.startedAt);
    }
    this.settle(tracked, {
      status: observation.status,
      exitCode: observation.exitCode,
      reason: observation.reason,
      completedAt: observation.finishedAt,
      cloneFailed: observation.cloneFailed,
      deleteJob: observation.stuck,
    });
  }

  private armPullErrorTimer(tracked: TrackedJob): void {
    if (tracked.pullErrorTimer !== undefined) {
      return;
    }
    tracked.pullErrorTimer = setTimeout(() => {
      const pod = this.pods.get(tracked.jobId);
      const observation = pod === undefined ? undefined : observePod(pod);
      if (tracked.settled || observation?.kind !== 'pull-error') {
        tracked.pullErrorTimer = undefined;
        return;
      }
      this.settle(tracked, {
        status: 'failed',
        exitCode: null,
        reason: observation.reason,
        deleteJob: true,
      });
    }, this.options.imagePullGraceSeconds * 1000);
  }

  private armLostTimer(tracked: TrackedJob, reason: string, deleteJob = false): void {
    if (tracked.lostTimer !== undefined) {
      return;
    }
    tracked.lostTimer = setTimeout(() => {
      if (!tracked.settled && !this.cancelling.has(tracked.jobId)) {
        this.settle(tracked, {
          status: 'failed',
          exitCode: null,
          reason: `lost: ${reason}`,
          deleteJob,
        });
      }
    }, this.lostGraceMs);
  }

  private reportStart(tracked: TrackedJob, startedAt: Date): void {
    tracked.startedAt ??= startedAt;
    if (tracked.startReport !== undefined || !tracked.owned) {
      return;
    }
    tracked.startReport = this.report(tracked.jobId, 'jobStarted', (events) =>
      events.jobStarted(tracked.jobId, startedAt),
    );
  }

  private stopTracking(tracked: TrackedJob): void {
    tracked.settled = true;
    clearTimeout(tracked.pullErrorTimer);
    clearTimeout(tracked.lostTimer);
    this.tracked.delete(tracked.jobId);
    this.settledIds.add(tracked.jobId);
  }

  /**
   * Records a job's end once, with its logs, and deletes the Job when asked to. The end of
   * another server's job is recorded only if that server has not recorded it in time.
   */
  private settle(tracked: TrackedJob, ending: Ending): void {
    if (tracked.settled) {
      return;
    }
    this.stopTracking(tracked);
    if (!tracked.owned) {
      this.checkOrphanLater(tracked, ending);
      return;
    }
    this.finish(tracked, ending).catch((error: unknown) =>
      this.logger.error(`job '${tracked.jobId}': recording its end failed: ${describe(error)}`),
    );
  }

  private checkOrphanLater(tracked: TrackedJob, ending: Ending): void {
    const { jobId } = tracked;
    const timer = setTimeout(() => {
      this.orphanChecks.delete(jobId);
      this.recordOrphan(tracked, ending).catch((error: unknown) =>
        this.logger.error(`job '${jobId}': recording its end failed: ${describe(error)}`),
      );
    }, this.orphanGraceMs);
    this.orphanChecks.set(jobId, { timer, tracked, ending });
  }

  private async recordOrphan(tracked: TrackedJob, ending: Ending): Promise<void> {
    const { jobId } = tracked;
    const unfinished = await this.events?.isUnfinished?.(jobId);
    if (unfinished !== true) {
      return;
    }
    this.logger.warn(
      `job '${jobId}' ended, but the server that launched it has not recorded it: recording it here`,
    );
    this.takeOver(tracked);
    await this.finish(tracked, ending);
  }

  /** Makes this server record a job's start and end, as if it had launched the job. */
  private takeOver(tracked: TrackedJob): void {
    tracked.owned = true;
    if (tracked.startedAt !== undefined) {
      this.reportStart(tracked, tracked.startedAt);
    }
  }

  private async finish(tracked: TrackedJob, ending: Ending): Promise<void> {
    const { jobId } = tracked;
    let output = await this.collectOutput(jobId, await this.podOf(jobId));
    if (output.readFailed && tracked.outputBeforeDeletion !== undefined) {
      output = await tracked.outputBeforeDeletion;
    }

    let reason = ending.reason;
    if (ending.cloneFailed && output.cloneLog.trim().length > 0) {
      reason = `${reason}: ${lastLines(output.cloneLog, CLONE_REASON_LINES)}`;
    }
    const outcome: JobOutcome = {
      status: ending.status,
      exitCode: ending.exitCode,
      output: output.text,
      outputTruncated: output.truncated,
      reason,
      completedAt: ending.completedAt ?? new Date(),
    };
    await tracked.startReport;
    await this.report(jobId, 'jobEnded', (events) => events.jobEnded(jobId, outcome));

    const exitCode = outcome.exitCode === null ? '' : ` with exit code ${outcome.exitCode}`;
    const message = `job '${jobId}' ${outcome.status}${exitCode}${reason ? `: ${reason}` : ''}`;
    if (outcome.status === 'succeeded') {
      this.logger.log(message);
    } else {
      this.logger.warn(message);
    }

    if (ending.deleteJob) {
      await this.api.deleteJob(jobId).catch((error: unknown) => {
        this.logger.warn(
          `job '${jobId}': deleting its Kubernetes Job failed: ${describe(error)}; it stays until someone deletes it`,
        );
      });
    }
  }

  /**
   * Returns the pod the pod watch reported for a job. The Job and pod watches are separate
   * streams, so a Job's end can arrive before its pod, for instance right after a restart.
   * Then the pod is listed once, so that its log is not lost.
   */
  private async podOf(jobId: string): Promise<Pod | undefined> {
    const watched = this.pods.get(jobId);
    if (watched !== undefined) {
      return watched;
    }
    try {
      const pods = (await this.api.listPodsOfJob(jobId)).items;
      return pods.sort((left, right) =>
        (right.metadata.creationTimestamp ?? '').localeCompare(
          left.metadata.creationTimestamp ?? '',
        ),
      )[0];
    } catch (error) {
      this.logger.warn(
        `job '${jobId}': listing its pods to read its log failed: ${describe(error)}`,
      );
      return undefined;
    }
  }

  /**
   * Reads the logs of a job's pod, capped like the local executor's output: the clone
   * container's when the main container never started, which explains why, else the main one's.
   */
  private async collectOutput(jobId: string, pod: Pod | undefined): Promise<CollectedOutput> {
    if (pod?.metadata.name === undefined) {
      return { text: '', truncated: false, cloneLog: '', readFailed: true };
    }
    const main = pod.status?.containerStatuses?.find((status) => status.name === MAIN_CONTAINER);
    const mainStarted =
      main?.state?.running !== undefined ||
      main?.state?.terminated !== undefined ||
      main?.lastState?.terminated !== undefined;
    const container = mainStarted ? MAIN_CONTAINER : CLONE_CONTAINER;

    const collector = new OutputCollector(this.options.maxOutputBytes);
    let readFailed = false;
    try {
      await this.api.streamLog(
        pod.metadata.name,
        container,
        false,
        new AbortController().signal,
        (chunk) => collector.write(chunk),
      );
    } catch (error) {
      readFailed = true;
      this.logger.debug?.(
        `job '${jobId}': reading the log of container '${container}' of pod '${pod.metadata.name}' failed: ${describe(error)}`,
      );
    }
    const captured = collector.finish();
    return {
      text: captured.text,
      truncated: captured.truncated,
      cloneLog: container === CLONE_CONTAINER ? captured.text : '',
      readFailed,
    };
  }

  /** Calls the event sink; a failure is logged, because the job itself went on regardless. */
  private async report(
    jobId: string,
    event: string,
    call: (events: JobEventSink) => Promise<void>,
  ): Promise<void> {
    if (this.events === undefined) {
      this.logger.error(`job '${jobId}': ${event} not recorded, because no event sink is set yet`);
      return;
    }
    try {
      await call(this.events);
    } catch (error) {
      this.logger.error(`job '${jobId}': reporting ${event} failed: ${describe(error)}`);
    }
  }

  private notifyChange(): void {
    for (const listener of [...this.changeListeners]) {
      listener();
    }
  }

  /** Resolves at the next change of any Job or pod, or when the signal aborts. */
  private waitForChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.changeListeners.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      if (signal.aborted || this.shuttingDown) {
        resolve();
        return;
      }
      this.changeListeners.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** Returns the Kriten job id of a Job or pod: its label, else the Job's name. */
function jobIdOf(metadata: ObjectMeta): string {
  return metadata.labels?.[JOB_ID_LABEL] ?? metadata.name ?? '';
}

function isNewer(pod: Pod, other: Pod): boolean {
  return (pod.metadata.creationTimestamp ?? '') > (other.metadata.creationTimestamp ?? '');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
