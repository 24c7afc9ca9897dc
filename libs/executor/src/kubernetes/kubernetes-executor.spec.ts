import type { JobEventSink, JobLaunch, JobOutcome } from '../job-executor';
import type { KubernetesApi, Permission } from './kubernetes-api';
import { KubernetesExecutor } from './kubernetes-executor';
import type { Job, ObjectList, Pod, WatchEvent } from './kubernetes-types';

/** An in-memory API: lists what a test put in, and delivers the events a test emits. */
class ScriptedApi {
  readonly namespace = 'kriten';
  readonly http = { server: 'http://kube.test' };
  readonly created: string[] = [];
  readonly deleted: string[] = [];
  readonly logReads: string[] = [];
  readonly podListings: string[] = [];
  readonly denied = new Set<string>();
  jobs: Job[] = [];
  pods: Pod[] = [];
  logs: Record<string, string> = {};
  private jobListener?: (event: WatchEvent<Job>) => void;
  private podListener?: (event: WatchEvent<Pod>) => void;

  async mayI(permission: Permission): Promise<{ allowed: boolean }> {
    const resource = [permission.resource, permission.subresource].filter(Boolean).join('/');
    return { allowed: !this.denied.has(`${permission.verb} ${resource}`) };
  }
  async listJobs(): Promise<ObjectList<Job>> {
    return { metadata: { resourceVersion: '1' }, items: this.jobs };
  }
  async listPods(): Promise<ObjectList<Pod>> {
    return { metadata: { resourceVersion: '1' }, items: this.pods };
  }
  async listPodsOfJob(jobId: string): Promise<ObjectList<Pod>> {
    this.podListings.push(jobId);
    const items = this.pods.filter((item) => item.metadata.labels?.['kriten.io/job-id'] === jobId);
    return { metadata: { resourceVersion: '1' }, items };
  }
  watchJobs(
    _version: string,
    onEvent: (event: WatchEvent<Job>) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ) {
    this.jobListener = onEvent;
    onOpen?.();
    return untilAborted(signal);
  }
  watchPods(
    _version: string,
    onEvent: (event: WatchEvent<Pod>) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ) {
    this.podListener = onEvent;
    onOpen?.();
    return untilAborted(signal);
  }
  async createJob(manifest: { metadata: { name: string } }): Promise<Job> {
    this.created.push(manifest.metadata.name);
    return manifest as Job;
  }
  async deleteJob(name: string): Promise<boolean> {
    this.deleted.push(name);
    return true;
  }
  async streamLog(
    pod: string,
    container: string,
    _follow: boolean,
    _signal: AbortSignal,
    onChunk: (chunk: Buffer) => void,
  ) {
    this.logReads.push(`${pod}/${container}`);
    const text = this.logs[`${pod}/${container}`];
    if (text === undefined) {
      throw new Error(`container ${container} of pod ${pod} has no log`);
    }
    onChunk(Buffer.from(text));
  }
  emitJob(type: 'ADDED' | 'MODIFIED' | 'DELETED', job: Job): void {
    this.jobListener!({ type, object: job });
  }
  emitPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    this.podListener!({ type, object: pod });
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve()));
}

class RecordingSink implements JobEventSink {
  readonly started = new Map<string, Date>();
  readonly ended = new Map<string, JobOutcome[]>();
  unfinished = new Set<string>();

  async jobStarted(jobId: string, startedAt: Date): Promise<void> {
    this.started.set(jobId, startedAt);
  }
  async jobEnded(jobId: string, outcome: JobOutcome): Promise<void> {
    this.ended.set(jobId, [...(this.ended.get(jobId) ?? []), outcome]);
    this.unfinished.delete(jobId);
  }
  async isUnfinished(jobId: string): Promise<boolean> {
    return this.unfinished.has(jobId);
  }
}

const silentLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

function makeExecutor(api: ScriptedApi, overrides: { imagePullGraceSeconds?: number } = {}) {
  return new KubernetesExecutor({
    api: api as unknown as KubernetesApi,
    connectionSource: 'a test',
    gitImage: 'alpine/git:2.47.2',
    jobServiceAccount: 'kriten-job',
    jobsTtlSeconds: 600,
    imagePullGraceSeconds: overrides.imagePullGraceSeconds ?? 0.05,
    maxOutputBytes: 1024,
    logger: silentLogger,
    lostGraceMs: 50,
    orphanGraceMs: 50,
  });
}

function makeLaunch(jobId: string): JobLaunch {
  return {
    jobId,
    taskName: 'hello',
    runnerName: 'scripts',
    owner: 'root',
    command: 'echo hello',
    gitUrl: 'https://git.example.com/scripts.git',
    branch: 'main',
    image: 'alpine:3.20',
    secrets: {},
    secretKeys: { runner: [], task: [], gitToken: false },
    timeoutSeconds: 60,
  };
}

function job(jobId: string, conditions: { type: string; reason?: string }[] = []): Job {
  return {
    metadata: { name: jobId, labels: { 'kriten.io/job-id': jobId } },
    spec: { activeDeadlineSeconds: 60 },
    status: { conditions: conditions.map((condition) => ({ ...condition, status: 'True' })) },
  };
}

function pod(jobId: string, main: object | undefined, extra: Partial<Pod['metadata']> = {}): Pod {
  return {
    metadata: {
      name: `${jobId}-pod`,
      labels: { 'kriten.io/job-id': jobId },
      creationTimestamp: '2026-12-04T10:00:00Z',
      ...extra,
    },
    status: {
      initContainerStatuses: [{ name: 'clone', state: { terminated: { exitCode: 0 } } }],
      containerStatuses: main ? [{ name: 'main', image: 'alpine:3.20', state: main }] : [],
    },
  };
}

const SUCCEEDED = {
  terminated: {
    exitCode: 0,
    startedAt: '2026-12-04T10:00:01Z',
    finishedAt: '2026-12-04T10:00:02Z',
  },
};

async function until(check: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !check(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(check()).toBe(true);
}

describe('KubernetesExecutor', () => {
  let api: ScriptedApi;
  let sink: RecordingSink;
  let executor: KubernetesExecutor;

  beforeEach(async () => {
    api = new ScriptedApi();
    sink = new RecordingSink();
    executor = makeExecutor(api);
  });
  afterEach(() => executor.shutdown());

  it('rejects the start naming missing permissions', async () => {
    api.denied.add('create jobs');
    api.denied.add('get pods');
    await expect(executor.checkReady()).rejects.toThrow(
      "Kubernetes service account may not create jobs.batch, get pods in namespace 'kriten': grant it with the Role in k8s/",
    );
  });

  it('records a succeeded job once with its log and start', async () => {
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);
    await executor.launch(makeLaunch('hello-aaaaa'), sink);
    expect(api.created).toEqual(['hello-aaaaa']);

    api.logs['hello-aaaaa-pod/main'] = 'hello\n';
    api.emitPod('MODIFIED', pod('hello-aaaaa', SUCCEEDED));
    api.emitJob('MODIFIED', job('hello-aaaaa', [{ type: 'Complete' }]));
    await until(() => sink.ended.has('hello-aaaaa'));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const outcomes = sink.ended.get('hello-aaaaa')!;
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ status: 'succeeded', exitCode: 0, output: 'hello\n' });
    expect(sink.started.get('hello-aaaaa')).toEqual(new Date('2026-12-04T10:00:01Z'));
    expect(api.logReads).toEqual(['hello-aaaaa-pod/main']);
  });

  it('lists the pod when the job ends before its pod event', async () => {
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);
    await executor.launch(makeLaunch('hello-fffff'), sink);

    api.pods = [pod('hello-fffff', SUCCEEDED)];
    api.logs['hello-fffff-pod/main'] = 'hello\n';
    api.emitJob('MODIFIED', job('hello-fffff', [{ type: 'Complete' }]));
    await until(() => sink.ended.has('hello-fffff'));

    expect(sink.ended.get('hello-fffff')![0]).toMatchObject({
      status: 'succeeded',
      output: 'hello\n',
    });
    expect(api.podListings).toEqual(['hello-fffff']);
  });

  it('fails a pull error only after the grace period', async () => {
    executor = makeExecutor(api, { imagePullGraceSeconds: 0.2 });
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);
    await executor.launch(makeLaunch('hello-bbbbb'), sink);

    const pulling = { waiting: { reason: 'ErrImagePull', message: 'not found' } };
    api.emitPod('MODIFIED', pod('hello-bbbbb', pulling));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.ended.has('hello-bbbbb')).toBe(false);

    await until(() => sink.ended.has('hello-bbbbb'));
    expect(sink.ended.get('hello-bbbbb')![0].reason).toBe(
      "image 'alpine:3.20' could not be pulled: not found",
    );
    await until(() => api.deleted.includes('hello-bbbbb'));
  });

  it('forgets a pull error that resolves within the grace period', async () => {
    executor = makeExecutor(api, { imagePullGraceSeconds: 0.1 });
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);
    await executor.launch(makeLaunch('hello-ccccc'), sink);

    api.emitPod('MODIFIED', pod('hello-ccccc', { waiting: { reason: 'ImagePullBackOff' } }));
    api.emitPod('MODIFIED', pod('hello-ccccc', { running: { startedAt: '2026-12-04T10:00:01Z' } }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sink.ended.has('hello-ccccc')).toBe(false);
    expect(sink.started.has('hello-ccccc')).toBe(true);
  });

  it('leaves another server its job while that server records it', async () => {
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);

    api.emitJob('ADDED', job('hello-ddddd'));
    api.emitPod('MODIFIED', pod('hello-ddddd', SUCCEEDED));
    api.emitJob('MODIFIED', job('hello-ddddd', [{ type: 'Complete' }]));
    await new Promise((resolve) => setTimeout(resolve, 150));

    expect(sink.ended.has('hello-ddddd')).toBe(false);
    expect(sink.started.has('hello-ddddd')).toBe(false);
    expect(api.logReads).toEqual([]);
  });

  it('records the job of a server that stopped', async () => {
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);
    sink.unfinished.add('hello-eeeee');
    api.logs['hello-eeeee-pod/main'] = 'hello\n';

    api.emitJob('ADDED', job('hello-eeeee'));
    api.emitPod('MODIFIED', pod('hello-eeeee', SUCCEEDED));
    api.emitJob('MODIFIED', job('hello-eeeee', [{ type: 'Complete' }]));

    await until(() => sink.ended.has('hello-eeeee'));
    expect(sink.ended.get('hello-eeeee')![0]).toMatchObject({
      status: 'succeeded',
      output: 'hello\n',
    });
    expect(sink.started.get('hello-eeeee')).toEqual(new Date('2026-12-04T10:00:01Z'));
  });

  it('fails a job whose pod vanished as lost and deletes its Job', async () => {
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);
    await executor.launch(makeLaunch('hello-fffff'), sink);

    const running = pod('hello-fffff', { running: { startedAt: '2026-12-04T10:00:01Z' } });
    api.emitPod('MODIFIED', running);
    api.emitPod('DELETED', running);

    await until(() => sink.ended.has('hello-fffff'));
    expect(sink.ended.get('hello-fffff')![0].reason).toBe(
      "lost: its pod 'hello-fffff-pod' was deleted before the job ended",
    );
    await until(() => api.deleted.includes('hello-fffff'));
  });

  it('prefers the deadline over the lost pod', async () => {
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);
    await executor.launch(makeLaunch('hello-ggggg'), sink);

    const running = pod('hello-ggggg', { running: { startedAt: '2026-12-04T10:00:01Z' } });
    api.emitPod('MODIFIED', running);
    api.emitPod('DELETED', running);
    api.emitJob(
      'MODIFIED',
      job('hello-ggggg', [{ type: 'FailureTarget', reason: 'DeadlineExceeded' }]),
    );

    await until(() => sink.ended.has('hello-ggggg'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.ended.get('hello-ggggg')).toHaveLength(1);
    expect(sink.ended.get('hello-ggggg')![0].reason).toBe('timed out after 60 s');
  });

  it('cancels with the output so far', async () => {
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);
    await executor.launch(makeLaunch('hello-hhhhh'), sink);
    api.logs['hello-hhhhh-pod/main'] = 'started\n';
    api.emitPod('MODIFIED', pod('hello-hhhhh', { running: { startedAt: '2026-12-04T10:00:01Z' } }));

    await expect(executor.cancel('hello-hhhhh')).resolves.toBe(true);
    expect(api.deleted).toEqual(['hello-hhhhh']);
    expect(sink.ended.get('hello-hhhhh')![0]).toMatchObject({
      status: 'cancelled',
      output: 'started\n',
    });

    // The deletion the watch reports next is the cancel's, not a loss.
    api.emitJob('DELETED', job('hello-hhhhh'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.ended.get('hello-hhhhh')).toHaveLength(1);
  });

  it('does not cancel a Job that already ended', async () => {
    api.jobs = [job('hello-iiiii', [{ type: 'Complete' }])];
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);
    await expect(executor.cancel('hello-iiiii')).resolves.toBe(false);
    expect(api.deleted).toEqual([]);
  });

  it('fails a job without a Job at start as lost', async () => {
    await executor.checkReady();
    await executor.recoverUnfinished([{ jobId: 'hello-jjjjj', startedAt: null }], sink);
    await until(() => sink.ended.has('hello-jjjjj'));
    expect(sink.ended.get('hello-jjjjj')![0].reason).toMatch(
      /^its Kubernetes Job no longer exists/,
    );
  });

  it('records at start a job that ended while no server watched', async () => {
    api.jobs = [job('hello-kkkkk', [{ type: 'Complete' }])];
    api.pods = [pod('hello-kkkkk', SUCCEEDED)];
    api.logs['hello-kkkkk-pod/main'] = 'hello\n';
    await executor.checkReady();
    await executor.recoverUnfinished([{ jobId: 'hello-kkkkk', startedAt: null }], sink);

    await until(() => sink.ended.has('hello-kkkkk'));
    expect(sink.ended.get('hello-kkkkk')![0]).toMatchObject({
      status: 'succeeded',
      output: 'hello\n',
    });
    expect(sink.started.get('hello-kkkkk')).toEqual(new Date('2026-12-04T10:00:01Z'));
  });

  it('quotes the clone log when the clone fails', async () => {
    await executor.checkReady();
    await executor.recoverUnfinished([], sink);
    await executor.launch(makeLaunch('hello-lllll'), sink);
    api.logs['hello-lllll-pod/clone'] =
      'fatal: Remote branch missing not found in upstream origin\n';
    const failedClone: Pod = {
      metadata: { name: 'hello-lllll-pod', labels: { 'kriten.io/job-id': 'hello-lllll' } },
      status: {
        initContainerStatuses: [
          { name: 'clone', state: { terminated: { exitCode: 128, reason: 'Error' } } },
        ],
        containerStatuses: [{ name: 'main', state: { waiting: { reason: 'PodInitializing' } } }],
      },
    };
    api.emitPod('MODIFIED', failedClone);

    await until(() => sink.ended.has('hello-lllll'));
    expect(sink.ended.get('hello-lllll')![0]).toMatchObject({
      status: 'failed',
      reason:
        'git clone failed with exit code 128: fatal: Remote branch missing not found in upstream origin',
      output: 'fatal: Remote branch missing not found in upstream origin\n',
    });
    expect(sink.started.has('hello-lllll')).toBe(false);
  });
});
