import { CLONE_CONTAINER, MAIN_CONTAINER } from './job-spec';
import type { ContainerStatus, Pod } from './kubernetes-types';

/** The executor's view of the cluster that following a job's log reads from. */
export interface LogSource {
  /** The newest pod of the job, if one exists. */
  currentPod(): Pod | undefined;
  /** True once the job has ended or its Job is gone, so no more output will come. */
  jobEnded(): boolean;
  jobGone(): boolean;
  /** Resolves at the next change of any Job or pod, or when the signal aborts. */
  waitForChange(signal: AbortSignal): Promise<void>;
  /** Streams a container's log until the container ends; rejects when it cannot be read. */
  streamLog(
    pod: string,
    container: string,
    signal: AbortSignal,
    onChunk: (chunk: Buffer) => void,
  ): Promise<void>;
}

/**
 * Streams a job's output while it runs: the clone container's log while it clones, then the
 * main container's. Ends when the job ends, when a container can no longer start, or when the
 * signal aborts.
 */
export async function* followJobLog(
  source: LogSource,
  signal: AbortSignal,
): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  const first = await waitUntil(source, signal, () => {
    const pod = source.currentPod();
    return pod !== undefined &&
      (hasStarted(pod, CLONE_CONTAINER) || hasStarted(pod, MAIN_CONTAINER))
      ? pod
      : undefined;
  });
  if (first === undefined) {
    return;
  }

  if (!hasStarted(first, MAIN_CONTAINER)) {
    for await (const chunk of streamChunks(source, first, CLONE_CONTAINER, signal)) {
      yield decoder.decode(chunk, { stream: true });
    }
  }

  const main = await waitUntil(source, signal, () => {
    const pod = source.currentPod();
    return pod !== undefined && hasStarted(pod, MAIN_CONTAINER) ? pod : undefined;
  });
  if (main !== undefined) {
    for await (const chunk of streamChunks(source, main, MAIN_CONTAINER, signal)) {
      yield decoder.decode(chunk, { stream: true });
    }
  }
  const rest = decoder.decode();
  if (rest.length > 0) {
    yield rest;
  }
}

/** Waits for a value, giving up when the job ends without it or the signal aborts. */
async function waitUntil<T>(
  source: LogSource,
  signal: AbortSignal,
  read: () => T | undefined,
): Promise<T | undefined> {
  for (;;) {
    const value = read();
    if (value !== undefined) {
      return value;
    }
    if (signal.aborted || source.jobGone() || source.jobEnded()) {
      return undefined;
    }
    await source.waitForChange(signal);
  }
}

/** Turns a callback stream into chunks that a loop can await; a read error ends it quietly. */
async function* streamChunks(
  source: LogSource,
  pod: Pod,
  container: string,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  const finished = source
    .streamLog(pod.metadata.name!, container, signal, (chunk) => {
      queue.push(chunk);
      wake?.();
    })
    .catch(() => undefined)
    .finally(() => {
      done = true;
      wake?.();
    });

  for (;;) {
    const chunk = queue.shift();
    if (chunk !== undefined) {
      yield chunk;
      continue;
    }
    if (done) {
      break;
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
  await finished;
}

function hasStarted(pod: Pod, container: string): boolean {
  const statuses: ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  const state = statuses.find((status) => status.name === container)?.state;
  return state?.running !== undefined || state?.terminated !== undefined;
}
