import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseTarget } from './support/databases';
import {
  databaseTargetsFor,
  describeEachTarget,
  ExecutorRuntime,
  TestTarget,
  testTargets,
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
  sleep,
  waitFor,
  waitForEnd,
  waitForProcessesToEnd,
  waitForStatus,
} from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';

jest.setTimeout(30_000);

const SERVER_ONLY_VARIABLE = 'KRITEN_MARKER_VAR';

describe.each(testTargets())(
  'job environment on $name',
  ({ database: target, executor }: TestTarget) => {
    let runtime: ExecutorRuntime;
    let server: KritenServer;
    let databaseUrl: string | undefined;
    let api: ApiClient;
    let repository: GitRepository;

    /** Creates a synchronous task on the runner `files` and returns the finished job it runs. */
    async function runCommand(name: string, command: string): Promise<JobView> {
      await createTask(api, { name, runner: 'files', command, synchronous: true });
      const response = await api.post<JobView>(`/api/v1/jobs/${name}`, {});
      if (response.body.status === undefined) {
        throw new Error(
          `job of task '${name}' did not end within its sync timeout: ${response.text}`,
        );
      }
      return response.body;
    }

    beforeAll(async () => {
      runtime = await executor.start();
      databaseUrl = await target.create();
      server = await KritenServer.start({
        databaseUrl,
        env: { ...runtime.env, KRITEN_MAX_CONCURRENT_JOBS: '8', [SERVER_ONLY_VARIABLE]: 'leak' },
      });
      api = new ApiClient(server.baseUrl);
      await api.login('root', ROOT_PASSWORD);
      repository = GitRepository.create({
        'README.md': '# sandbox suite\n',
        'version.txt': 'v1\n',
      });
      await createRunner(api, { name: 'files', gitURL: repository.url });
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      server?.removeDataDir();
      await target.drop(databaseUrl);
      await runtime?.stop();
      if (repository) {
        rmSync(repository.path, { recursive: true, force: true });
      }
    });

    describe('secrets', () => {
      let output: string;

      beforeAll(async () => {
        await createRunner(api, {
          name: 'with-secrets',
          gitURL: repository.url,
          secret: { shared: 'from-runner', runner_only: 'runner-value' },
        });
        await createTask(api, {
          name: 'read-secrets',
          runner: 'with-secrets',
          synchronous: true,
          secret: { shared: 'from-task', task_only: 'task-value' },
          command: [
            'for key in shared runner_only task_only; do printf "file %s=%s\\n" "$key" "$(cat /etc/secret/$key)"; done',
            'printf "env shared=%s runner_only=%s task_only=%s\\n" "$shared" "$runner_only" "$task_only"',
            'if (echo changed > /etc/secret/shared) 2>/dev/null; then echo "write allowed"; else echo "write rejected"; fi',
            'if rm -f /etc/secret/shared 2>/dev/null; then echo "remove allowed"; else echo "remove rejected"; fi',
            'if touch /etc/secret/added 2>/dev/null; then echo "create allowed"; else echo "create rejected"; fi',
            'echo "listing $(ls /etc/secret | tr "\\n" " ")"',
          ].join('\n'),
        });
        const response = await api.post<JobView>('/api/v1/jobs/read-secrets', {});
        output = response.body.stdout;
      });

      it('secret files merge runner and task', () => {
        expect(output).toContain('file shared=from-task\n');
        expect(output).toContain('file runner_only=runner-value\n');
        expect(output).toContain('file task_only=task-value\n');
      });

      it('secret folder holds merged keys only', () => {
        expect(output).toContain('listing runner_only shared task_only \n');
      });

      it('secret files are read-only', () => {
        expect(output).toContain('write rejected\n');
        expect(output).toContain('remove rejected\n');
        expect(output).toContain('create rejected\n');
      });

      it('secrets are env vars', () => {
        expect(output).toContain(
          'env shared=from-task runner_only=runner-value task_only=task-value\n',
        );
      });
    });

    describe('environment', () => {
      let job: JobView;

      beforeAll(async () => {
        job = await runCommand('print-env', 'env');
      });

      it('job env lacks server variables', () => {
        expect(job.status).toBe('succeeded');
        expect(job.stdout).not.toContain(SERVER_ONLY_VARIABLE);
        expect(job.stdout).not.toContain('KRITEN_ROOT_PASSWORD');
        expect(job.stdout).not.toContain(ROOT_PASSWORD);
        expect(job.stdout).not.toContain('KRITEN_DATA_DIR');
        expect(job.stdout).not.toContain('KRITEN_LOG_LEVEL');
      });

      it('job env has KRITEN_JOB_ID', () => {
        expect(job.stdout).toContain(`KRITEN_JOB_ID=${job.id}\n`);
      });
    });

    describe('limits', () => {
      it('timeout fails the job', async () => {
        await createTask(api, {
          name: 'exceeds-timeout',
          runner: 'files',
          command: 'echo started; sleep 30',
          timeout_seconds: 2,
        });

        const id = await launchJob(api, 'exceeds-timeout', {});
        const job = await waitForEnd(api, id, 15_000);

        expect(job.status).toBe('failed');
        expect(job.reason).toContain('timed out');
        expect(job.completion_time).not.toBeNull();
      });

      it('cancel ends a running job', async () => {
        await createTask(api, {
          name: 'cancelled',
          runner: 'files',
          command: 'echo started; sleep 30',
        });

        const id = await launchJob(api, 'cancelled', {});
        await waitForStatus(api, id, 'running');
        const response = await api.delete(`/api/v1/jobs/${id}`);
        const job = await waitForEnd(api, id, 10_000);

        expect(response.status).toBe(200);
        expect(job.status).toBe('cancelled');
      });
    });

    describe('git', () => {
      it('git token stays out of output and logs', async () => {
        const token = `tok-${randomBytes(12).toString('hex')}`;
        await createRunner(api, { name: 'with-token', gitURL: repository.url, token });
        await createTask(api, {
          name: 'inspect-checkout',
          runner: 'with-token',
          synchronous: true,
          command: 'env; ls -A; cat .git/config 2>/dev/null; exit 0',
        });

        const response = await api.post<JobView>('/api/v1/jobs/inspect-checkout', {});

        expect(response.body.status).toBe('succeeded');
        expect(response.body.stdout).toContain('README.md');
        expect(response.body.stdout).not.toContain(token);
        expect(server.logs).not.toContain(token);
      });
    });

    if (executor.name === 'kubernetes') {
      it('fake API server saw no violations', () => {
        expect(runtime.violations()).toEqual([]);
      });
    }
  },
);

// These cases inspect this host's processes and file system, which only the local executor's
// sandbox shares with the test.
describeEachTarget(
  databaseTargetsFor('local'),
  'local sandbox on $name (host processes and files, local executor only)',
  (target: DatabaseTarget) => {
    let server: KritenServer;
    let databaseUrl: string | undefined;
    let api: ApiClient;
    let repository: GitRepository;

    /** Creates a synchronous task on the runner `files` and returns the finished job it runs. */
    async function runCommand(name: string, command: string): Promise<JobView> {
      await createTask(api, { name, runner: 'files', command, synchronous: true });
      const response = await api.post<JobView>(`/api/v1/jobs/${name}`, {});
      if (response.body.status === undefined) {
        throw new Error(
          `job of task '${name}' did not end within its sync timeout: ${response.text}`,
        );
      }
      return response.body;
    }

    beforeAll(async () => {
      databaseUrl = await target.create();
      server = await KritenServer.start({
        databaseUrl,
        env: { KRITEN_MAX_CONCURRENT_JOBS: '8', [SERVER_ONLY_VARIABLE]: 'leak' },
      });
      api = new ApiClient(server.baseUrl);
      await api.login('root', ROOT_PASSWORD);
      repository = GitRepository.create({
        'README.md': '# sandbox suite\n',
        'version.txt': 'v1\n',
      });
      await createRunner(api, { name: 'files', gitURL: repository.url });
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      server?.removeDataDir();
      await target.drop(databaseUrl);
      if (repository) {
        rmSync(repository.path, { recursive: true, force: true });
      }
    });

    describe('file system', () => {
      it('data directory is hidden', async () => {
        const dataDir = server.dataDir;
        const jwtSecretPath = join(dataDir, 'jwt-secret');

        const job = await runCommand(
          'list-data-dir',
          `ls -A '${dataDir}'; echo "---"; cat '${jwtSecretPath}'; echo "cat exit $?"`,
        );
        const listed = job.stdout.split('---')[0].split('\n').filter(Boolean);

        expect(existsSync(jwtSecretPath)).toBe(true);
        expect(readdirSync(dataDir).length).toBeGreaterThan(1);
        // The tmpfs that hides the data directory contains only the path down to the checkout.
        expect(listed).toEqual(['work']);
        expect(job.stdout).toMatch(/cat exit [1-9]/);
        expect(job.stdout).not.toContain(readFileSync(jwtSecretPath, 'utf8').trim());
      });

      it('cwd is the checkout', async () => {
        const job = await runCommand('list-cwd', 'ls -A');

        expect(job.status).toBe('succeeded');
        expect(job.stdout.split('\n').filter(Boolean).sort()).toEqual(['README.md', 'version.txt']);
      });

      it('root file system is read-only', async () => {
        const job = await runCommand(
          'write-probes',
          [
            'if touch /kriten-probe 2>/dev/null; then echo "root writable"; else echo "root read-only"; fi',
            'if touch /usr/kriten-probe 2>/dev/null; then echo "usr writable"; else echo "usr read-only"; fi',
            'if echo x > written.txt && [ "$(cat written.txt)" = x ]; then echo "cwd writable"; fi',
            'if touch /tmp/probe; then echo "tmp writable"; fi',
          ].join('\n'),
        );

        expect(job.stdout).toContain('root read-only\n');
        expect(job.stdout).toContain('usr read-only\n');
        expect(job.stdout).toContain('cwd writable\n');
        expect(job.stdout).toContain('tmp writable\n');
        expect(existsSync('/kriten-probe')).toBe(false);
      });
    });

    describe('processes', () => {
      it('job has own PID namespace', async () => {
        const job = await runCommand(
          'list-pids',
          'echo "shell $$"; echo "pids $(ls /proc | grep -E "^[0-9]+$" | tr "\\n" " ")"',
        );
        const shellPid = Number(/shell (\d+)/.exec(job.stdout)?.[1]);
        const pids = (/pids ([\d ]*)/.exec(job.stdout)?.[1] ?? '').split(' ').filter(Boolean);

        expect(shellPid).toBeLessThan(10);
        expect(pids.length).toBeGreaterThan(0);
        expect(pids.length).toBeLessThan(10);
        expect(pids).not.toContain(String(server.pid));
      });

      it('timeout kills process tree', async () => {
        const duration = markedSleepDuration();
        await createTask(api, {
          name: 'outlives-timeout',
          runner: 'files',
          command: `sleep ${duration} & sleep ${duration}`,
          timeout_seconds: 2,
        });

        const id = await launchJob(api, 'outlives-timeout', {});
        await waitForStatus(api, id, 'running');
        const sleeps = await waitFor('both sleeps to start', async () => {
          const found = findProcesses(`sleep ${duration}`, 'equals');
          return found.length === 2 ? found : undefined;
        });
        const job = await waitForEnd(api, id, 10_000);
        const left = await waitForProcessesToEnd(duration);

        expect(sleeps).toHaveLength(2);
        expect(job.status).toBe('failed');
        expect(job.reason).toContain('timed out');
        expect(left).toEqual([]);
      });

      it('cancel kills process tree', async () => {
        const duration = markedSleepDuration();
        await createTask(api, {
          name: 'cancelled-tree',
          runner: 'files',
          command: `sleep ${duration} & sleep ${duration}`,
        });

        const id = await launchJob(api, 'cancelled-tree', {});
        await waitForStatus(api, id, 'running');
        const sleeps = await waitFor('both sleeps to start', async () => {
          const found = findProcesses(`sleep ${duration}`, 'equals');
          return found.length === 2 ? found : undefined;
        });
        const response = await api.delete(`/api/v1/jobs/${id}`);
        const job = await waitForEnd(api, id, 10_000);
        const left = await waitForProcessesToEnd(duration);

        expect(sleeps).toHaveLength(2);
        expect(response.status).toBe(200);
        expect(job.status).toBe('cancelled');
        expect(left).toEqual([]);
      });
    });

    describe('git', () => {
      it('new commit reaches later job', async () => {
        const moving = GitRepository.create({ 'version.txt': 'v1\n' });
        await createRunner(api, { name: 'moving', gitURL: moving.url });
        await createTask(api, {
          name: 'read-version',
          runner: 'moving',
          command: 'cat version.txt',
          synchronous: true,
        });

        const first = await api.post<JobView>('/api/v1/jobs/read-version', {});
        moving.commit({ 'version.txt': 'v2\n' });
        // KRITEN_REPO_REFRESH_SECONDS is 1 in the test server.
        await sleep(1_100);
        const second = await api.post<JobView>('/api/v1/jobs/read-version', {});

        rmSync(moving.path, { recursive: true, force: true });

        expect(first.body.stdout).toBe('v1\n');
        expect(second.body.stdout).toBe('v2\n');
      });

      it('missing repository fails the job', async () => {
        const missingPath = `/nonexistent-kriten-repo-${randomBytes(4).toString('hex')}`;
        await createRunner(api, { name: 'missing-repo', gitURL: `file://${missingPath}` });
        await createTask(api, {
          name: 'never-checked-out',
          runner: 'missing-repo',
          command: 'echo unreachable',
          synchronous: true,
        });

        const response = await api.post<JobView>('/api/v1/jobs/never-checked-out', {});

        expect(response.status).toBe(200);
        expect(response.body.status).toBe('failed');
        expect(response.body.exit_code).toBeNull();
        expect(response.body.reason).toContain('checkout');
        expect(response.body.reason).toContain(missingPath);
        expect(response.body.stdout).toBe('');
      });

      it('long failure reason is shortened', async () => {
        // git quotes the missing path in its error, so the reason exceeds the 1024-character column.
        const missingPath = `/nonexistent-kriten-repo/${'d'.repeat(600)}`;
        await createRunner(api, { name: 'long-missing-repo', gitURL: `file://${missingPath}` });
        await createTask(api, {
          name: 'long-reason',
          runner: 'long-missing-repo',
          command: 'echo unreachable',
          synchronous: true,
          sync_timeout_seconds: 5,
        });

        const response = await api.post<JobView>('/api/v1/jobs/long-reason', {});

        expect(response.body.status).toBe('failed');
        expect(response.body.reason).toContain('checkout');
        expect(response.body.reason!.length).toBeLessThanOrEqual(1024);
      });
    });
  },
);
