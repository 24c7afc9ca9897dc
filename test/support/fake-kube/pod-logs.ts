import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kubelet } from './kubelet';
import { ApiError, badRequest } from './status';
import { metadataOf, type Json } from './store';

/** How often a followed log checks its file for new output. */
const LOG_POLL_MILLISECONDS = 50;

/** Returns the 400 that the kubelet gives for the log of a container that has not started. */
function waitingError(pod: Json, container: string): ApiError | undefined {
  const status = (pod.status ?? {}) as Json;
  const entries = [
    ...((status.initContainerStatuses ?? []) as Json[]),
    ...((status.containerStatuses ?? []) as Json[]),
  ];
  const entry = entries.find((candidate) => candidate.name === container);
  const podName = String(metadataOf(pod).name);
  const waiting =
    entry === undefined
      ? { reason: 'ContainerCreating' }
      : ((entry.state as Json).waiting as Json | undefined);
  if (waiting === undefined) {
    return undefined;
  }
  const reason = String(waiting.reason ?? '');
  const detail =
    reason === 'ErrImagePull'
      ? "image can't be pulled"
      : reason === 'ImagePullBackOff'
        ? 'trying and failing to pull image'
        : reason;
  return badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${detail}`);
}

/**
 * Serves `GET .../pods/{name}/log` for a pod: picks the container as the API server does,
 * rejects containers that have not started with the kubelet's wording, and streams the log
 * file, following it while the container runs when `follow=true`.
 */
export async function servePodLog(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  pod: Json,
  kubelet: Kubelet,
): Promise<void> {
  const name = String(metadataOf(pod).name);
  const spec = pod.spec as Json;
  const containers = ((spec.containers ?? []) as Json[]).map((container) => String(container.name));
  const initContainers = ((spec.initContainers ?? []) as Json[]).map((container) =>
    String(container.name),
  );
  let container = url.searchParams.get('container') ?? '';
  if (container === '') {
    if (containers.length !== 1) {
      const initPart =
        initContainers.length > 0
          ? ` or one of the init containers: [${initContainers.join(' ')}]`
          : '';
      throw badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${initPart}`,
      );
    }
    container = containers[0];
  }
  if (!containers.includes(container) && !initContainers.includes(container)) {
    throw badRequest(`container ${container} is not valid for pod ${name}`);
  }
  if (url.searchParams.get('previous') === 'true') {
    const statuses = [
      ...(((pod.status as Json | undefined)?.initContainerStatuses ?? []) as Json[]),
      ...(((pod.status as Json | undefined)?.containerStatuses ?? []) as Json[]),
    ];
    const entry = statuses.find((candidate) => candidate.name === container);
    if (entry === undefined || Number(entry.restartCount ?? 0) === 0) {
      throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    }
  }
  const stateError = waitingError(pod, container);
  if (stateError !== undefined) {
    throw stateError;
  }
  const uid = String(metadataOf(pod).uid);
  const run = kubelet.containerLog(uid, container);
  response.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  response.flushHeaders();
  if (run === undefined) {
    response.end();
    return;
  }

  const previous = url.searchParams.get('previous') === 'true';
  const logPath = previous ? (run.previousLogPath ?? run.logPath) : run.logPath;
  const readFrom = (offset: number): Buffer => {
    let fd: number;
    try {
      fd = openSync(logPath, 'r');
    } catch {
      return Buffer.alloc(0);
    }
    try {
      const size = statSync(logPath).size;
      const buffer = Buffer.alloc(Math.max(0, size - offset));
      readSync(fd, buffer, 0, buffer.length, offset);
      return buffer;
    } finally {
      closeSync(fd);
    }
  };

  let content = readFrom(0);
  let offset = content.length;
  const tailLines = url.searchParams.get('tailLines');
  if (tailLines !== null) {
    const lines = content.toString('utf8').split(/(?<=\n)/);
    content = Buffer.from(
      lines.slice(Math.max(0, lines.length - Number(tailLines))).join(''),
      'utf8',
    );
  }
  const limitBytes = url.searchParams.get('limitBytes');
  if (limitBytes !== null) {
    content = content.subarray(0, Number(limitBytes));
  }
  response.write(content);
  const follow = url.searchParams.get('follow') === 'true' && !previous;
  if (!follow || limitBytes !== null) {
    response.end();
    return;
  }
  let closed = false;
  request.on('close', () => {
    closed = true;
  });
  while (!closed) {
    const finished = run.terminated;
    const more = readFrom(offset);
    if (more.length > 0) {
      offset += more.length;
      response.write(more);
    }
    if (finished || kubelet.containerLog(uid, container) !== run) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, LOG_POLL_MILLISECONDS));
  }
  response.end();
}
