import { rmSync } from 'node:fs';
import { DatabaseTarget, databaseTargets } from './support/databases';
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

describe.each(databaseTargets())('restart on $name', (target: DatabaseTarget) => {
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
});
