import { rmSync } from 'node:fs';
import { ExecutorRuntime, TestTarget, testTargets } from './support/executors';
import { GitRepository } from './support/git-repos';
import { ApiClient } from './support/http-client';
import {
  createRunner,
  createTask,
  JobView,
  launchJob,
  sleep,
  waitFor,
  waitForEnd,
  waitForStatus,
} from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';

jest.setTimeout(30_000);

const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const TRUNCATION_MARKER = '[kriten: output truncated';

/** A result whose number spellings and key order JSON.parse followed by JSON.stringify would change. */
const EXACT_JSON = '{"b":1.0,"a":[1e2,12345678901234567890]}';

const SCRIPTS = {
  'README.md': '# scripts for the jobs suite\n',
  'exact-json.sh': `#!/bin/sh\necho before\necho '^JSON'\necho '${EXACT_JSON}'\necho '^JSON'\necho after\n`,
  'invalid-json.sh': `#!/bin/sh\necho '^JSON'\necho '{"a":'\necho '^JSON'\n`,
  'exit-3.sh': '#!/bin/sh\necho going to fail\nexit 3\n',
  'invalid-utf8.sh': "#!/bin/sh\nprintf 'a\\377\\376b\\300c\\n'\n",
  'interleaved.sh': '#!/bin/sh\necho one\necho two >&2\necho three\necho four >&2\n',
  'print-extra-vars.sh': '#!/bin/sh\nprintf \'%s\' "$EXTRA_VARS"\n',
  'extra-vars-state.sh':
    '#!/bin/sh\nif [ -z "${EXTRA_VARS+set}" ]; then echo unset; else printf \'set:%s\\n\' "$EXTRA_VARS"; fi\n',
};

const INPUT_SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name'],
  additionalProperties: false,
};

function messageOf(body: { message?: unknown }): string {
  return Array.isArray(body.message) ? body.message.join('; ') : String(body.message ?? '');
}

async function countJobs(api: ApiClient): Promise<number> {
  const response = await api.get('/api/v1/jobs?limit=1');
  return Number(response.headers.get('x-total-count'));
}

describe.each(testTargets())('jobs on $name', ({ database: target, executor }: TestTarget) => {
  let runtime: ExecutorRuntime;
  /** What the fake API server of the server with 2 job slots recorded before it stopped. */
  let limitedViolations: unknown[] = [];
  let server: KritenServer;
  let databaseUrl: string | undefined;
  let api: ApiClient;
  let repository: GitRepository;

  beforeAll(async () => {
    runtime = await executor.start();
    databaseUrl = await target.create();
    server = await KritenServer.start({
      databaseUrl,
      env: { ...runtime.env, KRITEN_MAX_CONCURRENT_JOBS: '8' },
    });
    api = new ApiClient(server.baseUrl);
    await api.login('root', ROOT_PASSWORD);
    repository = GitRepository.create(SCRIPTS);
    await createRunner(api, { name: 'scripts', gitURL: repository.url });
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

  describe('launch', () => {
    beforeAll(async () => {
      await createTask(api, { name: 'echo-async', runner: 'scripts', command: 'echo hello' });
      await createTask(api, {
        name: 'echo-sync',
        runner: 'scripts',
        command: 'echo hello',
        synchronous: true,
      });
      await createTask(api, {
        name: 'slow-sync',
        runner: 'scripts',
        command: 'sleep 2; echo done',
        synchronous: true,
        sync_timeout_seconds: 1,
      });
    });

    it('async launch returns id and msg', async () => {
      const response = await api.post('/api/v1/jobs/echo-async', {});

      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['id', 'msg']);
      expect(response.body.id).toMatch(/^echo-async-[a-z0-9]{5}$/);
      expect(response.body.msg).toContain(response.body.id);
    });

    it('async job ends succeeded', async () => {
      const id = await launchJob(api, 'echo-async', {});

      const job = await waitForEnd(api, id);

      expect(job.status).toBe('succeeded');
      expect(job.stdout).toBe('hello\n');
    });

    it('sync launch returns finished job', async () => {
      const response = await api.post<JobView>('/api/v1/jobs/echo-sync', {});
      const job = response.body;

      expect(response.status).toBe(200);
      expect(job.id).toMatch(/^echo-sync-[a-z0-9]{5}$/);
      expect(job.task).toBe('echo-sync');
      expect(job.owner).toBe('root');
      expect(job.status).toBe('succeeded');
      expect(job.start_time).toMatch(RFC_3339);
      expect(job.completion_time).toMatch(RFC_3339);
      expect(Date.parse(job.completion_time!)).toBeGreaterThanOrEqual(Date.parse(job.start_time!));
      expect(job.failed).toBe(0);
      expect(job.completed).toBe(1);
      expect(job.exit_code).toBe(0);
      expect(job.stdout).toBe('hello\n');
      expect(job.json_data).toBeNull();
    });

    it('sync launch past sync timeout returns id', async () => {
      const startedAt = Date.now();
      const response = await api.post('/api/v1/jobs/slow-sync', {});
      const elapsed = Date.now() - startedAt;

      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['id', 'msg']);
      expect(response.body.id).toMatch(/^slow-sync-[a-z0-9]{5}$/);
      expect(elapsed).toBeLessThan(2_000);
      const job = await waitForEnd(api, response.body.id);
      expect(job.status).toBe('succeeded');
      expect(job.stdout).toBe('done\n');
    });

    it('PUT launches like POST', async () => {
      const asyncResponse = await api.put('/api/v1/jobs/echo-async', {});
      const syncResponse = await api.put<JobView>('/api/v1/jobs/echo-sync', {});

      expect(asyncResponse.status).toBe(200);
      expect(asyncResponse.body.id).toMatch(/^echo-async-[a-z0-9]{5}$/);
      expect(syncResponse.status).toBe(200);
      expect(syncResponse.body.status).toBe('succeeded');
      expect(syncResponse.body.stdout).toBe('hello\n');
    });

    it('unknown task returns 404', async () => {
      const before = await countJobs(api);

      const response = await api.post('/api/v1/jobs/no-such-task', {});

      expect(response.status).toBe(404);
      expect(messageOf(response.body)).toContain("task 'no-such-task' not found");
      expect(await countJobs(api)).toBe(before);
    });
  });

  describe('request body', () => {
    beforeAll(async () => {
      await createTask(api, {
        name: 'print-extra-vars',
        runner: 'scripts',
        command: './print-extra-vars.sh',
        synchronous: true,
      });
      await createTask(api, {
        name: 'extra-vars-state',
        runner: 'scripts',
        command: './extra-vars-state.sh',
        synchronous: true,
      });
      await createTask(api, {
        name: 'print-job-id',
        runner: 'scripts',
        command: 'printf %s "$KRITEN_JOB_ID"',
        synchronous: true,
      });
      await createTask(api, {
        name: 'with-schema',
        runner: 'scripts',
        command: 'echo accepted',
        synchronous: true,
        schema: INPUT_SCHEMA,
      });
    });

    it('EXTRA_VARS equals the raw body', async () => {
      const rawBody =
        '{ "quote": "say \\"hi\\"", "backslash": "C:\\\\temp\\\\", "unicode": "é 😀 \\u00e9",\n' +
        '  "command": "$(touch /tmp/x) `id` $HOME", "number": 1.50, "nested": {"list": [1, 2]} }\n';

      const response = await api.request<JobView>('POST', '/api/v1/jobs/print-extra-vars', {
        rawBody,
        headers: { 'content-type': 'application/json' },
      });

      expect(response.status).toBe(200);
      expect(response.body.status).toBe('succeeded');
      expect(response.body.stdout).toBe(rawBody);
    });

    it('EXTRA_VARS unset without body', async () => {
      const response = await api.post<JobView>('/api/v1/jobs/extra-vars-state');

      expect(response.status).toBe(200);
      expect(response.body.stdout).toBe('unset\n');
    });

    it('EXTRA_VARS set for empty object', async () => {
      const response = await api.request<JobView>('POST', '/api/v1/jobs/extra-vars-state', {
        rawBody: '{}',
      });

      expect(response.status).toBe(200);
      expect(response.body.stdout).toBe('set:{}\n');
    });

    it('KRITEN_JOB_ID is the job id', async () => {
      const response = await api.post<JobView>('/api/v1/jobs/print-job-id', {});

      expect(response.body.status).toBe('succeeded');
      expect(response.body.stdout).toBe(response.body.id);
    });

    it('body matching schema is accepted', async () => {
      const response = await api.post<JobView>('/api/v1/jobs/with-schema', {
        name: 'Ada',
        age: 36,
      });

      expect(response.status).toBe(200);
      expect(response.body.stdout).toBe('accepted\n');
    });

    it('body against schema returns 422', async () => {
      const response = await api.post('/api/v1/jobs/with-schema', { nam: 'Ada', age: 'old' });
      const message = messageOf(response.body);

      expect(response.status).toBe(422);
      expect(message).toContain("input rejected by the schema of task 'with-schema'");
      expect(message).toContain("must have required property 'name'");
      expect(message).toContain("must NOT have additional properties 'nam'");
      expect(message).toContain('/age: must be integer');
      expect(response.body.details).toHaveLength(3);
    });

    it('missing body is checked against schema', async () => {
      const response = await api.post('/api/v1/jobs/with-schema');

      expect(response.status).toBe(422);
      expect(messageOf(response.body)).toContain("must have required property 'name'");
    });

    it('rejected body creates no job', async () => {
      const before = await countJobs(api);

      await api.post('/api/v1/jobs/with-schema', { nam: 'Ada' });

      expect(await countJobs(api)).toBe(before);
    });

    it.each([
      ['array', '[{"name": "Ada"}]'],
      ['string', '"Ada"'],
      ['null', 'null'],
      ['number', '42'],
    ])('%s body returns 400 and creates no job', async (_case, rawBody) => {
      const before = await countJobs(api);

      const response = await api.request('POST', '/api/v1/jobs/print-extra-vars', {
        rawBody,
        headers: { 'content-type': 'application/json' },
      });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('must be a JSON object');
      expect(await countJobs(api)).toBe(before);
    });

    it('malformed JSON returns 400', async () => {
      const before = await countJobs(api);

      const response = await api.request('POST', '/api/v1/jobs/print-extra-vars', {
        rawBody: '{"name": "Ada",',
        headers: { 'content-type': 'application/json' },
      });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('not valid JSON');
      expect(await countJobs(api)).toBe(before);
    });

    it('oversize body returns 413', async () => {
      const before = await countJobs(api);
      const rawBody = JSON.stringify({ padding: 'x'.repeat(1024 * 1024 + 1) });

      const response = await api.request('POST', '/api/v1/jobs/print-extra-vars', {
        rawBody,
        headers: { 'content-type': 'application/json' },
      });

      expect(response.status).toBe(413);
      expect(messageOf(response.body)).toContain('KRITEN_MAX_BODY_BYTES');
      expect(await countJobs(api)).toBe(before);
    });
  });

  describe('result', () => {
    beforeAll(async () => {
      const tasks = {
        'exact-json': './exact-json.sh',
        'invalid-json': './invalid-json.sh',
        'exit-3': './exit-3.sh',
        'invalid-utf8': './invalid-utf8.sh',
      };
      for (const [name, command] of Object.entries(tasks)) {
        await createTask(api, { name, runner: 'scripts', command, synchronous: true });
      }
    });

    it('json_data is the printed text', async () => {
      const launch = await api.post('/api/v1/jobs/exact-json', {});
      const read = await api.get(`/api/v1/jobs/${launch.body.id}`);

      expect(launch.status).toBe(200);
      expect(launch.text).toContain(`"json_data":${EXACT_JSON}`);
      expect(read.text).toContain(`"json_data":${EXACT_JSON}`);
      expect(read.body.json_error).toBeNull();
      expect(read.body.stdout).toBe(`before\n^JSON\n${EXACT_JSON}\n^JSON\nafter\n`);
    });

    it('json_data null without markers', async () => {
      const response = await api.post<JobView>('/api/v1/jobs/echo-sync', {});

      expect(response.body.json_data).toBeNull();
      expect(response.body.json_error).toBeNull();
    });

    it('invalid JSON sets json_error', async () => {
      const launch = await api.post<JobView>('/api/v1/jobs/invalid-json', {});
      const read = await api.get<JobView>(`/api/v1/jobs/${launch.body.id}`);

      expect(launch.status).toBe(200);
      expect(read.status).toBe(200);
      expect(read.body.json_data).toBeNull();
      expect(read.body.json_error).toContain('invalid JSON between ^JSON markers');
      expect(read.body.status).toBe('succeeded');
      expect(read.body.exit_code).toBe(0);
    });

    it('exit code 3 marks job failed', async () => {
      const response = await api.post<JobView>('/api/v1/jobs/exit-3', {});

      expect(response.body.status).toBe('failed');
      expect(response.body.exit_code).toBe(3);
      expect(response.body.failed).toBe(1);
      expect(response.body.completed).toBe(0);
      expect(response.body.stdout).toBe('going to fail\n');
    });

    it('invalid UTF-8 is replaced deterministically', async () => {
      const first = await api.post<JobView>('/api/v1/jobs/invalid-utf8', {});
      const second = await api.post<JobView>('/api/v1/jobs/invalid-utf8', {});

      expect(first.body.status).toBe('succeeded');
      expect(first.body.stdout).toContain('\uFFFD');
      expect(first.body.stdout.startsWith('a')).toBe(true);
      expect(first.body.stdout.endsWith('c\n')).toBe(true);
      expect(second.body.stdout).toBe(first.body.stdout);
    });
  });

  describe('listing', () => {
    const succeededIds: string[] = [];
    let failedId: string;

    beforeAll(async () => {
      await createTask(api, { name: 'listed', runner: 'scripts', command: 'true' });
      await createTask(api, { name: 'listed-failing', runner: 'scripts', command: 'exit 1' });
      for (let i = 0; i < 3; i++) {
        succeededIds.push(await launchJob(api, 'listed', {}));
        // Keeps the creation times apart, so the order does not rest on the id tie-break.
        await sleep(5);
      }
      failedId = await launchJob(api, 'listed-failing', {});
      for (const id of [...succeededIds, failedId]) {
        await waitForEnd(api, id);
      }
    });

    it('list is newest first', async () => {
      const response = await api.get('/api/v1/jobs?task=listed');

      expect(response.status).toBe(200);
      expect(response.body.map((job: JobView) => job.id)).toEqual([...succeededIds].reverse());
    });

    it('list sets X-Total-Count', async () => {
      const response = await api.get('/api/v1/jobs?task=listed&limit=1');

      expect(response.headers.get('x-total-count')).toBe('3');
      expect(response.body).toHaveLength(1);
    });

    it('list pages with limit and offset', async () => {
      const response = await api.get('/api/v1/jobs?task=listed&limit=1&offset=1');

      expect(response.body.map((job: JobView) => job.id)).toEqual([succeededIds[1]]);
      expect(response.headers.get('x-total-count')).toBe('3');
    });

    it('list offset past end is empty', async () => {
      const response = await api.get('/api/v1/jobs?task=listed&offset=3');

      expect(response.status).toBe(200);
      expect(response.body).toEqual([]);
      expect(response.headers.get('x-total-count')).toBe('3');
    });

    it('list filters by status', async () => {
      const failed = await api.get('/api/v1/jobs?status=failed&task=listed-failing');
      const succeeded = await api.get('/api/v1/jobs?status=succeeded&task=listed-failing');
      const allFailed = await api.get('/api/v1/jobs?status=failed');

      expect(failed.body.map((job: JobView) => job.id)).toEqual([failedId]);
      expect(succeeded.body).toEqual([]);
      expect(allFailed.body.every((job: JobView) => job.status === 'failed')).toBe(true);
    });

    it('list filters by owner', async () => {
      const root = await api.get('/api/v1/jobs?owner=root&task=listed');
      const nobody = await api.get('/api/v1/jobs?owner=nobody');

      expect(root.headers.get('x-total-count')).toBe('3');
      expect(nobody.body).toEqual([]);
      expect(nobody.headers.get('x-total-count')).toBe('0');
    });

    it('list items carry no output', async () => {
      const response = await api.get('/api/v1/jobs?task=listed&limit=1');

      expect(response.body[0].status).toBe('succeeded');
      expect(response.body[0].start_time).toMatch(RFC_3339);
      expect(response.body[0]).not.toHaveProperty('stdout');
    });

    it.each(['limit=0', 'limit=abc', 'limit=1001', 'offset=-1', 'status=bogus', 'colour=red'])(
      'list rejects %s with 400',
      async (query) => {
        const response = await api.get(`/api/v1/jobs?${query}`);

        expect(response.status).toBe(400);
        expect(messageOf(response.body)).not.toBe('');
      },
    );
  });

  describe('log and schema', () => {
    beforeAll(async () => {
      await createTask(api, {
        name: 'interleaved',
        runner: 'scripts',
        command: './interleaved.sh',
        synchronous: true,
      });
      await createTask(api, {
        name: 'prints-then-waits',
        runner: 'scripts',
        command: 'echo started; echo warming up >&2; sleep 30',
      });
    });

    it('log interleaves stdout and stderr', async () => {
      const launch = await api.post('/api/v1/jobs/interleaved', {});

      const response = await api.get(`/api/v1/jobs/${launch.body.id}/log`);

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(response.text).toBe('one\ntwo\nthree\nfour\n');
    });

    it('log shows output while running', async () => {
      const id = await launchJob(api, 'prints-then-waits', {});

      const log = await waitFor('the first lines in the log', async () => {
        const response = await api.get(`/api/v1/jobs/${id}/log`);
        return response.text.includes('warming up') ? response.text : undefined;
      });
      const job = await api.get<JobView>(`/api/v1/jobs/${id}`);
      await api.delete(`/api/v1/jobs/${id}`);

      expect(log).toBe('started\nwarming up\n');
      expect(job.body.status).toBe('running');
    });

    it('log of unknown job returns 404', async () => {
      const response = await api.get('/api/v1/jobs/no-such-job-abcde/log');

      expect(response.status).toBe(404);
    });

    it('schema route returns task schema', async () => {
      const response = await api.get('/api/v1/jobs/with-schema/schema');

      expect(response.status).toBe(200);
      expect(response.body).toEqual(INPUT_SCHEMA);
    });

    it('schema route without schema returns {}', async () => {
      const response = await api.get('/api/v1/jobs/interleaved/schema');

      expect(response.status).toBe(200);
      expect(response.body).toEqual({});
    });

    it('schema route of unknown task returns 404', async () => {
      const response = await api.get('/api/v1/jobs/no-such-task/schema');

      expect(response.status).toBe(404);
    });
  });

  describe('cancel', () => {
    beforeAll(async () => {
      await createTask(api, {
        name: 'waits',
        runner: 'scripts',
        command: 'echo waiting; sleep 30',
      });
    });

    it('cancel stops running job', async () => {
      const id = await launchJob(api, 'waits', {});
      await waitFor('the job to print', async () => {
        const response = await api.get(`/api/v1/jobs/${id}/log`);
        return response.text.includes('waiting') ? true : undefined;
      });

      const response = await api.delete(`/api/v1/jobs/${id}`);
      const job = await waitForEnd(api, id, 5_000);

      expect(response.status).toBe(200);
      expect(response.body.id).toBe(id);
      expect(job.status).toBe('cancelled');
      expect(job.failed).toBe(1);
      expect(job.completed).toBe(0);
      expect(job.completion_time).toMatch(RFC_3339);
      expect(job.stdout).toBe('waiting\n');
    });

    it('cancel of finished job returns 409', async () => {
      const launch = await api.post<JobView>('/api/v1/jobs/echo-sync', {});

      const response = await api.delete(`/api/v1/jobs/${launch.body.id}`);
      const job = await api.get<JobView>(`/api/v1/jobs/${launch.body.id}`);

      expect(response.status).toBe(409);
      expect(messageOf(response.body)).toContain('already ended');
      expect(job.body.status).toBe('succeeded');
    });

    it('cancel of unknown job returns 404', async () => {
      const response = await api.delete('/api/v1/jobs/no-such-job-abcde');

      expect(response.status).toBe(404);
    });
  });

  describe('with 2 job slots and 4 KiB output', () => {
    let limitedRuntime: ExecutorRuntime;
    let limitedServer: KritenServer;
    let limitedDatabaseUrl: string | undefined;
    let limited: ApiClient;

    beforeAll(async () => {
      // A runtime of its own, so that two servers never share one namespace's Jobs.
      limitedRuntime = await executor.start();
      limitedDatabaseUrl = await target.create();
      limitedServer = await KritenServer.start({
        databaseUrl: limitedDatabaseUrl,
        env: {
          ...limitedRuntime.env,
          KRITEN_MAX_CONCURRENT_JOBS: '2',
          KRITEN_MAX_OUTPUT_BYTES: '4096',
        },
      });
      limited = new ApiClient(limitedServer.baseUrl);
      await limited.login('root', ROOT_PASSWORD);
      await createRunner(limited, { name: 'scripts', gitURL: repository.url });
      await createTask(limited, { name: 'blocker', runner: 'scripts', command: 'sleep 30' });
      await createTask(limited, { name: 'short-sleep', runner: 'scripts', command: 'sleep 1' });
      await createTask(limited, {
        name: 'long-output',
        runner: 'scripts',
        command: "head -c 20000 /dev/zero | tr '\\0' x; echo; echo last line",
        synchronous: true,
      });
    }, 60_000);

    afterAll(async () => {
      await limitedServer?.stop();
      limitedServer?.removeDataDir();
      await target.drop(limitedDatabaseUrl);
      limitedViolations = limitedRuntime?.violations() ?? [];
      await limitedRuntime?.stop();
    });

    it('long output is truncated', async () => {
      const response = await limited.post<JobView>('/api/v1/jobs/long-output', {});
      const job = response.body;

      expect(job.status).toBe('succeeded');
      expect(job.stdout_truncated).toBe(true);
      expect(job.stdout).toContain(TRUNCATION_MARKER);
      expect(job.stdout.startsWith('xxxx')).toBe(true);
      expect(job.stdout.endsWith('\nlast line\n')).toBe(true);
      expect(Buffer.byteLength(job.stdout)).toBeLessThan(4096 + 100);
    });

    it('cancel removes queued job', async () => {
      const blockers = [
        await launchJob(limited, 'blocker', {}),
        await launchJob(limited, 'blocker', {}),
      ];
      for (const id of blockers) {
        await waitForStatus(limited, id, 'running');
      }
      const queuedId = await launchJob(limited, 'short-sleep', {});
      const before = await limited.get<JobView>(`/api/v1/jobs/${queuedId}`);

      const response = await limited.delete(`/api/v1/jobs/${queuedId}`);
      const after = await limited.get<JobView>(`/api/v1/jobs/${queuedId}`);
      for (const id of blockers) {
        await limited.delete(`/api/v1/jobs/${id}`);
        await waitForEnd(limited, id);
      }
      // Once the slots are free, a cancelled job must stay out of the queue.
      await sleep(300);
      const later = await limited.get<JobView>(`/api/v1/jobs/${queuedId}`);

      expect(before.body.status).toBe('queued');
      expect(response.status).toBe(200);
      expect(after.body.status).toBe('cancelled');
      expect(after.body.start_time).toBeNull();
      expect(after.body.completion_time).toMatch(RFC_3339);
      expect(later.body.status).toBe('cancelled');
      expect(later.body.start_time).toBeNull();
    });

    it('at most 2 jobs run at once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(await launchJob(limited, 'short-sleep', {}));
      }

      const runningCounts: number[] = [];
      await waitFor(
        'all 5 jobs to end',
        async () => {
          const response = await limited.get<JobView[]>('/api/v1/jobs?task=short-sleep&limit=10');
          const jobs = response.body.filter((job) => ids.includes(job.id));
          runningCounts.push(jobs.filter((job) => job.status === 'running').length);
          return jobs.every((job) => ['succeeded', 'failed', 'cancelled'].includes(job.status))
            ? true
            : undefined;
        },
        20_000,
      );
      const statuses = await Promise.all(
        ids.map(async (id) => (await limited.get<JobView>(`/api/v1/jobs/${id}`)).body.status),
      );

      expect(Math.max(...runningCounts)).toBe(2);
      expect(statuses).toEqual(Array(5).fill('succeeded'));
    });
  });

  if (executor.name === 'kubernetes') {
    it('fake API server saw no violations', () => {
      expect(runtime.violations()).toEqual([]);
      expect(limitedViolations).toEqual([]);
    });
  }
});
