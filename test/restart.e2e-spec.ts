import { rmSync } from 'node:fs';
import { DatabaseTarget } from './support/databases';
import {
  databaseTargetsFor,
  describeEachTarget,
  ExecutorRuntime,
  kubernetesExecutor,
} from './support/executors';
import { GitRepository } from './support/git-repos';
import { ApiClient } from './support/http-client';
import {
  createRunner,
  createTask,
  findProcesses,
  JobView,
  launchJob,
  markedSleepDuration,
  waitFor,
  waitForEnd,
  waitForProcessesToEnd,
  waitForStatus,
} from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';

jest.setTimeout(30_000);

/** One job slot, so that the jobs launched after the long one wait in the queue. */
const ONE_SLOT = { KRITEN_MAX_CONCURRENT_JOBS: '1' };

interface RestartOutcome {
  /** Statuses of the queued jobs, read just before the first server stopped. */
  queuedBeforeStop: string[];
  /** Processes of the long job still alive after the first server stopped. */
  processesAfterStop: number[];
  /** Milliseconds the first server took to exit after the signal. */
  stopMilliseconds: number;
  longJob: JobView;
  queuedJobs: JobView[];
}

/**
 * Stops a server with signal and returns how many milliseconds it took to exit. A server
 * still running after timeoutMs is killed with SIGKILL, and the result is Infinity.
 */
async function stopWithin(
  server: KritenServer,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<number> {
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), timeoutMs);
  });
  const result = await Promise.race([server.stop(signal), timedOut]);
  clearTimeout(timer);
  if (result === 'timed out') {
    await server.stop('SIGKILL');
    return Infinity;
  }
  return Date.now() - startedAt;
}

/**
 * Starts a server with one job slot, runs a long job and queues two short ones, stops the
 * server with signal, starts a new server on the same data directory and database, and
 * returns how the three jobs ended.
 */
async function restartWithJobs(
  databaseUrl: string | undefined,
  repository: GitRepository,
  signal: NodeJS.Signals,
): Promise<RestartOutcome> {
  const first = await KritenServer.start({ databaseUrl, env: ONE_SLOT });
  let second: KritenServer | undefined;
  try {
    const api = new ApiClient(first.baseUrl);
    await api.login('root', ROOT_PASSWORD);
    const duration = markedSleepDuration();
    await createRunner(api, { name: 'scripts', gitURL: repository.url });
    await createTask(api, { name: 'long', runner: 'scripts', command: `sleep ${duration}` });
    await createTask(api, { name: 'quick', runner: 'scripts', command: 'echo quick' });

    const longId = await launchJob(api, 'long', {});
    await waitForStatus(api, longId, 'running');
    await waitFor('the long job to start its process', async () =>
      findProcesses(`sleep ${duration}`, 'equals').length > 0 ? true : undefined,
    );
    const queuedIds = [await launchJob(api, 'quick', {}), await launchJob(api, 'quick', {})];
    const queuedBeforeStop = await Promise.all(
      queuedIds.map(async (id) => (await api.get<JobView>(`/api/v1/jobs/${id}`)).body.status),
    );

    const stopMilliseconds = await stopWithin(first, signal, 15_000);
    const processesAfterStop = await waitForProcessesToEnd(duration);

    second = await KritenServer.start({ dataDir: first.dataDir, databaseUrl, env: ONE_SLOT });
    const restarted = new ApiClient(second.baseUrl);
    await restarted.login('root', ROOT_PASSWORD);
    const longJob = await waitForEnd(restarted, longId);
    const queuedJobs = [];
    for (const id of queuedIds) {
      queuedJobs.push(await waitForEnd(restarted, id));
    }
    return { queuedBeforeStop, processesAfterStop, stopMilliseconds, longJob, queuedJobs };
  } finally {
    await first.stop('SIGKILL');
    await second?.stop();
    first.removeDataDir();
  }
}

// The local executor's jobs are processes of the server, so they end with it and are failed.
describeEachTarget(
  databaseTargetsFor('local'),
  'restart with the local executor on $name',
  (target: DatabaseTarget) => {
    let repository: GitRepository;

    beforeAll(() => {
      repository = GitRepository.create({ 'README.md': '# restart suite\n' });
    });

    afterAll(() => {
      rmSync(repository.path, { recursive: true, force: true });
    });

    describe.each<NodeJS.Signals>(['SIGKILL', 'SIGTERM'])('after %s', (signal) => {
      let databaseUrl: string | undefined;
      let outcome: RestartOutcome;

      beforeAll(async () => {
        databaseUrl = await target.create();
        outcome = await restartWithJobs(databaseUrl, repository, signal);
      }, 60_000);

      afterAll(async () => {
        await target.drop(databaseUrl);
      });

      it('jobs were queued before stop', () => {
        expect(outcome.queuedBeforeStop).toEqual(['queued', 'queued']);
      });

      it('server stops within 10 s', () => {
        expect(outcome.stopMilliseconds).toBeLessThan(10_000);
      });

      it('no job process outlives server', () => {
        expect(outcome.processesAfterStop).toEqual([]);
      });

      it('running job is failed with reason', () => {
        expect(outcome.longJob.status).toBe('failed');
        expect(outcome.longJob.failed).toBe(1);
        expect(outcome.longJob.reason).toMatch(/server (stopped|restarted)/);
        expect(outcome.longJob.completion_time).not.toBeNull();
      });

      it('queued jobs run after restart', () => {
        expect(outcome.queuedJobs.map((job) => job.status)).toEqual(['succeeded', 'succeeded']);
        expect(outcome.queuedJobs.map((job) => job.stdout)).toEqual(['quick\n', 'quick\n']);
      });
    });
  },
);

interface AdoptionOutcome {
  queuedBeforeStop: string[];
  longJob: JobView;
  queuedJobs: JobView[];
  violations: unknown[];
}

/**
 * Like restartWithJobs, against the fake Kubernetes API server. Kubernetes Jobs go on running
 * while no server watches them, so the new server takes the long job over and records its end.
 */
async function restartWithKubernetesJobs(
  databaseUrl: string | undefined,
  repository: GitRepository,
  signal: NodeJS.Signals,
): Promise<AdoptionOutcome> {
  const runtime: ExecutorRuntime = await kubernetesExecutor.start();
  const env = { ...runtime.env, ...ONE_SLOT };
  let first: KritenServer | undefined;
  let second: KritenServer | undefined;
  try {
    first = await KritenServer.start({ databaseUrl, env });
    const api = new ApiClient(first.baseUrl);
    await api.login('root', ROOT_PASSWORD);
    await createRunner(api, { name: 'scripts', gitURL: repository.url });
    await createTask(api, {
      name: 'long',
      runner: 'scripts',
      command: 'echo begun; sleep 3; echo finished',
    });
    await createTask(api, { name: 'quick', runner: 'scripts', command: 'echo quick' });

    const longId = await launchJob(api, 'long', {});
    await waitForStatus(api, longId, 'running');
    const queuedIds = [await launchJob(api, 'quick', {}), await launchJob(api, 'quick', {})];
    const queuedBeforeStop = await Promise.all(
      queuedIds.map(async (id) => (await api.get<JobView>(`/api/v1/jobs/${id}`)).body.status),
    );
    await stopWithin(first, signal, 15_000);

    second = await KritenServer.start({ dataDir: first.dataDir, databaseUrl, env });
    const restarted = new ApiClient(second.baseUrl);
    await restarted.login('root', ROOT_PASSWORD);
    const longJob = await waitForEnd(restarted, longId);
    const queuedJobs = [];
    for (const id of queuedIds) {
      queuedJobs.push(await waitForEnd(restarted, id));
    }
    return { queuedBeforeStop, longJob, queuedJobs, violations: runtime.violations() };
  } finally {
    await first?.stop('SIGKILL');
    await second?.stop();
    first?.removeDataDir();
    await runtime.stop();
  }
}

describeEachTarget(
  databaseTargetsFor('kubernetes'),
  'restart with the kubernetes executor on $name',
  (target: DatabaseTarget) => {
    let repository: GitRepository;

    beforeAll(() => {
      repository = GitRepository.create({ 'README.md': '# restart suite\n' });
    });

    afterAll(() => {
      rmSync(repository.path, { recursive: true, force: true });
    });

    describe.each<NodeJS.Signals>(['SIGKILL', 'SIGTERM'])('after %s', (signal) => {
      let databaseUrl: string | undefined;
      let outcome: AdoptionOutcome;

      beforeAll(async () => {
        databaseUrl = await target.create();
        outcome = await restartWithKubernetesJobs(databaseUrl, repository, signal);
      }, 60_000);

      afterAll(async () => {
        await target.drop(databaseUrl);
      });

      it('jobs were queued before stop', () => {
        expect(outcome.queuedBeforeStop).toEqual(['queued', 'queued']);
      });

      it('running job is taken over', () => {
        expect(outcome.longJob.status).toBe('succeeded');
        expect(outcome.longJob.exit_code).toBe(0);
        expect(outcome.longJob.stdout).toBe('begun\nfinished\n');
      });

      it('queued jobs run after restart', () => {
        expect(outcome.queuedJobs.map((job) => job.status)).toEqual(['succeeded', 'succeeded']);
        expect(outcome.queuedJobs.map((job) => job.stdout)).toEqual(['quick\n', 'quick\n']);
      });

      it('fake API server saw no violations', () => {
        expect(outcome.violations).toEqual([]);
      });
    });
  },
);
