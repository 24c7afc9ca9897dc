import type { ContainerStatus, Job, Pod } from './kubernetes-types';
import { CLONE_CONTAINER, MAIN_CONTAINER } from './job-spec';

/** Waiting reasons that mean the image cannot be pulled; the kubelet keeps retrying them. */
const PULL_ERROR_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull']);

/** Waiting reasons that never resolve by retrying. */
const PERMANENT_WAITING_REASONS = new Set(['InvalidImageName', 'CreateContainerError']);

/** Progress of a job as one of its pods shows it. */
export type PodObservation =
  | { kind: 'pending' }
  /** The image cannot be pulled; the job fails when this lasts past the grace period. */
  | { kind: 'pull-error'; reason: string }
  | { kind: 'running'; startedAt: Date }
  /** The job's end. `cloneFailed` adds the clone container's log to the reason. */
  | {
      kind: 'ended';
      status: 'succeeded' | 'failed';
      exitCode: number | null;
      reason?: string;
      startedAt?: Date;
      finishedAt?: Date;
      cloneFailed?: boolean;
      /** True when the Job cannot end by itself, so Kriten deletes it after recording the end. */
      stuck?: boolean;
    };

/**
 * Reads a pod's status. A pod that Kubernetes is deleting is reported as pending, because the
 * Job's conditions tell why it is being deleted, for example when its deadline passed.
 */
export function observePod(pod: Pod): PodObservation {
  const status = pod.status ?? {};
  const clone = findStatus(status.initContainerStatuses, CLONE_CONTAINER);
  const main = findStatus(status.containerStatuses, MAIN_CONTAINER);

  const cloneEnd = clone?.state?.terminated;
  if (cloneEnd !== undefined && cloneEnd.exitCode !== 0) {
    return {
      kind: 'ended',
      status: 'failed',
      exitCode: null,
      reason: `git clone failed with exit code ${cloneEnd.exitCode}`,
      cloneFailed: true,
      finishedAt: parseTime(cloneEnd.finishedAt),
    };
  }

  const waiting = [clone, main].find((container) => container?.state?.waiting?.reason);
  if (waiting !== undefined) {
    const observation = observeWaiting(pod, waiting);
    if (observation !== undefined) {
      return observation;
    }
  }

  const mainEnd = main?.state?.terminated;
  if (mainEnd !== undefined && pod.metadata.deletionTimestamp === undefined) {
    const succeeded = mainEnd.exitCode === 0;
    return {
      kind: 'ended',
      status: succeeded ? 'succeeded' : 'failed',
      exitCode: mainEnd.exitCode,
      reason: succeeded ? undefined : describeTermination(mainEnd.reason, mainEnd.exitCode),
      startedAt: parseTime(mainEnd.startedAt),
      finishedAt: parseTime(mainEnd.finishedAt),
    };
  }

  if (status.phase === 'Failed' && pod.metadata.deletionTimestamp === undefined) {
    const detail = status.message ?? status.reason ?? 'no reason given';
    const evicted = status.reason === 'Evicted';
    return {
      kind: 'ended',
      status: 'failed',
      exitCode: null,
      reason: evicted ? `the pod was evicted: ${detail}` : `the pod failed: ${detail}`,
    };
  }

  const started = parseTime(main?.state?.running?.startedAt);
  if (started !== undefined) {
    return { kind: 'running', startedAt: started };
  }
  return { kind: 'pending' };
}

function observeWaiting(pod: Pod, container: ContainerStatus): PodObservation | undefined {
  const { reason = '', message } = container.state!.waiting!;
  const detail = message ?? reason;

  if (PULL_ERROR_REASONS.has(reason)) {
    const image = container.image ?? imageOf(pod, container.name) ?? 'unknown';
    return { kind: 'pull-error', reason: `image '${image}' could not be pulled: ${detail}` };
  }
  if (reason === 'CreateContainerConfigError') {
    return failedStuck(`the container '${container.name}' could not be configured: ${detail}`);
  }
  if (PERMANENT_WAITING_REASONS.has(reason)) {
    return failedStuck(`the container '${container.name}' could not be created: ${detail}`);
  }
  return undefined;
}

function failedStuck(reason: string): PodObservation {
  return { kind: 'ended', status: 'failed', exitCode: null, reason, stuck: true };
}

function describeTermination(reason: string | undefined, exitCode: number): string | undefined {
  if (reason === 'OOMKilled') {
    return `killed for exceeding its memory limit (OOMKilled, exit code ${exitCode})`;
  }
  if (reason === 'DeadlineExceeded') {
    return 'stopped because its deadline passed';
  }
  return undefined;
}

function imageOf(pod: Pod, containerName: string): string | undefined {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return containers.find((container) => container.name === containerName)?.image;
}

function findStatus(
  statuses: ContainerStatus[] | undefined,
  name: string,
): ContainerStatus | undefined {
  return statuses?.find((status) => status.name === name);
}

/** Returns how a Job's conditions report its end, or undefined while it has not ended. */
export interface JobEnd {
  status: 'succeeded' | 'failed';
  reason?: string;
  /** True when the deadline ended the job, which its pod cannot show. */
  deadlineExceeded: boolean;
  completedAt?: Date;
}

/**
 * Reads the terminal condition of a Job. `FailureTarget` and `SuccessCriteriaMet` (Kubernetes
 * 1.31 and later) come before `Failed` and `Complete` and are final, so they count as the end.
 */
export function observeJob(job: Job): JobEnd | undefined {
  const conditions = (job.status?.conditions ?? []).filter(
    (condition) => condition.status === 'True',
  );
  const failed = conditions.find(
    (condition) => condition.type === 'Failed' || condition.type === 'FailureTarget',
  );
  if (failed !== undefined) {
    const deadlineExceeded = failed.reason === 'DeadlineExceeded';
    const seconds = job.spec?.activeDeadlineSeconds;
    let reason = `the Kubernetes Job failed: ${failed.message ?? failed.reason ?? 'no reason given'}`;
    if (deadlineExceeded) {
      reason = seconds === undefined ? 'timed out' : `timed out after ${seconds} s`;
    }
    return {
      status: 'failed',
      reason,
      deadlineExceeded,
      completedAt: parseTime(failed.lastTransitionTime),
    };
  }

  const complete = conditions.find(
    (condition) => condition.type === 'Complete' || condition.type === 'SuccessCriteriaMet',
  );
  if (complete !== undefined) {
    return {
      status: 'succeeded',
      deadlineExceeded: false,
      completedAt: parseTime(job.status?.completionTime ?? complete.lastTransitionTime),
    };
  }
  return undefined;
}

/** Returns the last lines of a log for a failure reason. A clone's output is short. */
export function lastLines(text: string, count: number): string {
  const lines = text.split('\n').filter((line) => line.trim().length > 0);
  return lines.slice(-count).join('\n');
}

function parseTime(value: string | undefined): Date | undefined {
  if (value === undefined) {
    return undefined;
  }
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}
