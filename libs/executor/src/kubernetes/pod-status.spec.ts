import type { ContainerStatus, Job, Pod } from './kubernetes-types';
import { lastLines, observeJob, observePod } from './pod-status';

function makePod(
  init: Partial<ContainerStatus> | undefined,
  main: Partial<ContainerStatus> | undefined,
  extra: Partial<Pod['status']> = {},
  deleting = false,
): Pod {
  return {
    metadata: {
      name: 'hello-abcde-x1y2z',
      ...(deleting && { deletionTimestamp: '2026-12-04T10:00:09Z' }),
    },
    spec: {
      initContainers: [{ name: 'clone', image: 'alpine/git:2.47.2' }],
      containers: [{ name: 'main', image: 'registry.example/missing:1' }],
    },
    status: {
      phase: 'Pending',
      ...extra,
      initContainerStatuses: init ? [{ name: 'clone', ...init }] : undefined,
      containerStatuses: main ? [{ name: 'main', ...main }] : undefined,
    },
  };
}

const CLONED = { state: { terminated: { exitCode: 0, reason: 'Completed' } } };

describe('observePod', () => {
  it('reports a pod without statuses as pending', () => {
    expect(observePod(makePod(undefined, undefined))).toEqual({ kind: 'pending' });
  });

  it('reports a running main container with its start', () => {
    const pod = makePod(CLONED, { state: { running: { startedAt: '2026-12-04T10:00:02Z' } } });
    expect(observePod(pod)).toEqual({
      kind: 'running',
      startedAt: new Date('2026-12-04T10:00:02Z'),
    });
  });

  it('reports an image pull error with image and message', () => {
    const pod = makePod(CLONED, {
      image: 'registry.example/missing:1',
      state: {
        waiting: {
          reason: 'ErrImagePull',
          message: 'rpc error: registry.example/missing:1: not found',
        },
      },
    });
    expect(observePod(pod)).toEqual({
      kind: 'pull-error',
      reason:
        "image 'registry.example/missing:1' could not be pulled: rpc error: registry.example/missing:1: not found",
    });
  });

  it('treats ImagePullBackOff like ErrImagePull, using the spec image', () => {
    const pod = makePod(CLONED, {
      state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
    });
    expect(observePod(pod)).toMatchObject({
      kind: 'pull-error',
      reason: "image 'registry.example/missing:1' could not be pulled: Back-off pulling image",
    });
  });

  it('reports a failed clone', () => {
    const pod = makePod(
      { state: { terminated: { exitCode: 128, reason: 'Error' } } },
      { state: { waiting: { reason: 'PodInitializing' } } },
    );
    expect(observePod(pod)).toMatchObject({
      kind: 'ended',
      status: 'failed',
      exitCode: null,
      reason: 'git clone failed with exit code 128',
      cloneFailed: true,
    });
  });

  it('reports CreateContainerConfigError with its message as stuck', () => {
    const pod = makePod(CLONED, {
      state: {
        waiting: {
          reason: 'CreateContainerConfigError',
          message: 'secret "kriten-task-hello" not found',
        },
      },
    });
    expect(observePod(pod)).toEqual({
      kind: 'ended',
      status: 'failed',
      exitCode: null,
      reason: `the container 'main' could not be configured: secret "kriten-task-hello" not found`,
      stuck: true,
    });
  });

  it('reports OOMKilled', () => {
    const pod = makePod(CLONED, {
      state: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
    });
    expect(observePod(pod)).toMatchObject({
      kind: 'ended',
      status: 'failed',
      exitCode: 137,
      reason: 'killed for exceeding its memory limit (OOMKilled, exit code 137)',
    });
  });

  it('reports success with times', () => {
    const pod = makePod(CLONED, {
      state: {
        terminated: {
          exitCode: 0,
          reason: 'Completed',
          startedAt: '2026-12-04T10:00:02Z',
          finishedAt: '2026-12-04T10:00:03Z',
        },
      },
    });
    expect(observePod(pod)).toEqual({
      kind: 'ended',
      status: 'succeeded',
      exitCode: 0,
      reason: undefined,
      startedAt: new Date('2026-12-04T10:00:02Z'),
      finishedAt: new Date('2026-12-04T10:00:03Z'),
    });
  });

  it('reports a non-zero exit without a reason', () => {
    const pod = makePod(CLONED, { state: { terminated: { exitCode: 3, reason: 'Error' } } });
    expect(observePod(pod)).toMatchObject({ kind: 'ended', status: 'failed', exitCode: 3 });
    expect((observePod(pod) as { reason?: string }).reason).toBeUndefined();
  });

  it('waits for the Job while the pod is being deleted', () => {
    const pod = makePod(
      CLONED,
      { state: { terminated: { exitCode: 137, reason: 'Error' } } },
      {},
      true,
    );
    expect(observePod(pod)).toEqual({ kind: 'pending' });
  });

  it('reports an evicted pod', () => {
    const pod = makePod(CLONED, undefined, {
      phase: 'Failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory.',
    });
    expect(observePod(pod)).toMatchObject({
      kind: 'ended',
      status: 'failed',
      reason: 'the pod was evicted: The node was low on resource: memory.',
    });
  });
});

function makeJob(conditions: Job['status'] extends infer S ? S : never, deadline = 30): Job {
  return {
    metadata: { name: 'hello-abcde' },
    spec: { activeDeadlineSeconds: deadline },
    status: conditions,
  };
}

describe('observeJob', () => {
  it('reports a running Job as not ended', () => {
    expect(observeJob(makeJob({ active: 1 }))).toBeUndefined();
  });

  it('reports Complete as succeeded', () => {
    const job = makeJob({
      completionTime: '2026-12-04T10:00:05Z',
      conditions: [{ type: 'Complete', status: 'True' }],
    });
    expect(observeJob(job)).toEqual({
      status: 'succeeded',
      deadlineExceeded: false,
      completedAt: new Date('2026-12-04T10:00:05Z'),
    });
  });

  it('reports DeadlineExceeded as timed out after the deadline', () => {
    const job = makeJob({
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'DeadlineExceeded',
          message: 'Job was active longer than specified deadline',
        },
      ],
    });
    expect(observeJob(job)).toMatchObject({
      status: 'failed',
      reason: 'timed out after 30 s',
      deadlineExceeded: true,
    });
  });

  it('reports FailureTarget before Failed', () => {
    const job = makeJob({
      conditions: [
        {
          type: 'FailureTarget',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      ],
    });
    expect(observeJob(job)).toMatchObject({
      status: 'failed',
      reason: 'the Kubernetes Job failed: Job has reached the specified backoff limit',
      deadlineExceeded: false,
    });
  });

  it('ignores conditions that are not true', () => {
    const job = makeJob({ conditions: [{ type: 'Failed', status: 'False' }] });
    expect(observeJob(job)).toBeUndefined();
  });
});

describe('lastLines', () => {
  it('keeps the last non-empty lines', () => {
    expect(lastLines('a\n\nb\nc\n\n', 2)).toBe('b\nc');
  });
});
