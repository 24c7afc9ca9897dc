import { rmSync } from 'node:fs';
import { ExecutorRuntime, TestTarget, testTargets } from './support/executors';
import { GitRepository } from './support/git-repos';
import { ApiClient } from './support/http-client';
import {
  createRunner,
  createTask,
  JobView,
  launchJob,
  waitForEnd,
  waitForStatus,
} from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';

jest.setTimeout(60_000);

const SLOW_OUTPUT = 'line 1\nline 2\nline 3\nline 4\nline 5\n';

const SCRIPTS = {
  'slow.sh': '#!/bin/sh\nfor i in 1 2 3 4 5; do echo "line $i"; sleep 0.4; done\n',
};

/** One followed response: its chunks as they arrived, and the job's status at the first one. */
interface FollowedLog {
  status: number;
  contentType: string | null;
  text: string;
  jobStatusAtFirstChunk?: string;
}

describe.each(testTargets())(
  'follow logs on $name',
  ({ database: target, executor }: TestTarget) => {
    let runtime: ExecutorRuntime;
    let server: KritenServer;
    let databaseUrl: string | undefined;
    let api: ApiClient;
    let repository: GitRepository;

    async function follow(id: string, signal?: AbortSignal): Promise<FollowedLog> {
      const response = await fetch(`${server.baseUrl}/api/v1/jobs/${id}/log?follow=true`, {
        headers: { authorization: `Bearer ${api.token}` },
        signal,
      });
      const followed: FollowedLog = {
        status: response.status,
        contentType: response.headers.get('content-type'),
        text: '',
      };
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          break;
        }
        if (followed.jobStatusAtFirstChunk === undefined && value.length > 0) {
          followed.jobStatusAtFirstChunk = (
            await api.get<JobView>(`/api/v1/jobs/${id}`)
          ).body.status;
        }
        followed.text += decoder.decode(value, { stream: true });
      }
      return followed;
    }

    beforeAll(async () => {
      runtime = await executor.start();
      databaseUrl = await target.create();
      server = await KritenServer.start({
        databaseUrl,
        env: { ...runtime.env, KRITEN_MAX_CONCURRENT_JOBS: '1' },
      });
      api = new ApiClient(server.baseUrl);
      await api.login('root', ROOT_PASSWORD);
      repository = GitRepository.create(SCRIPTS);
      await createRunner(api, { name: 'scripts', gitURL: repository.url });
      await createTask(api, { name: 'slow', runner: 'scripts', command: './slow.sh' });
      await createTask(api, { name: 'hello', runner: 'scripts', command: 'echo hello' });
      await createTask(api, {
        name: 'long',
        runner: 'scripts',
        command: 'echo started; sleep 20; echo done',
      });
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

    it('streams output while the job runs', async () => {
      const id = await launchJob(api, 'slow');
      const followed = await follow(id);

      expect(followed.status).toBe(200);
      expect(followed.contentType).toMatch(/^text\/plain/);
      expect(followed.jobStatusAtFirstChunk).toBe('running');
      expect(followed.text).toBe(SLOW_OUTPUT);
      expect((await waitForEnd(api, id)).stdout).toBe(SLOW_OUTPUT);
    });

    it('waits for a queued job to start', async () => {
      const blocker = await launchJob(api, 'slow');
      await waitForStatus(api, blocker, 'running');
      const queued = await launchJob(api, 'hello');
      expect((await api.get<JobView>(`/api/v1/jobs/${queued}`)).body.status).toBe('queued');

      const followed = await follow(queued);
      expect(followed.text).toBe('hello\n');
      expect((await waitForEnd(api, blocker)).status).toBe('succeeded');
    });

    it('returns the stored output of a finished job', async () => {
      const id = await launchJob(api, 'hello');
      await waitForEnd(api, id);
      const response = await api.get(`/api/v1/jobs/${id}/log?follow=true`);
      expect(response.status).toBe(200);
      expect(response.text).toBe('hello\n');
    });

    it('ends when the job is cancelled', async () => {
      const id = await launchJob(api, 'long');
      await waitForStatus(api, id, 'running');
      const following = follow(id);
      const before = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await api.delete(`/api/v1/jobs/${id}`)).status).toBe(200);

      const followed = await following;
      expect(Date.now() - before).toBeLessThan(15_000);
      expect(followed.text).toBe('started\n');
      expect((await waitForEnd(api, id)).status).toBe('cancelled');
    });

    it('leaves the job running when the client goes away', async () => {
      const id = await launchJob(api, 'slow');
      const abort = new AbortController();
      const following = follow(id, abort.signal).catch((error: Error) => error);
      await waitForStatus(api, id, 'running');
      await new Promise((resolve) => setTimeout(resolve, 500));
      abort.abort();
      expect(((await following) as Error).name).toBe('AbortError');

      const job = await waitForEnd(api, id);
      expect(job.status).toBe('succeeded');
      expect(job.stdout).toBe(SLOW_OUTPUT);
    });

    it('rejects follow values other than true and false', async () => {
      const id = await launchJob(api, 'hello');
      const response = await api.get(`/api/v1/jobs/${id}/log?follow=1`);
      expect(response.status).toBe(400);
      expect(response.body.message).toBe("follow must be 'true' or 'false'");
      await waitForEnd(api, id);
    });

    it('fake API server saw no violations', () => {
      expect(runtime.violations()).toEqual([]);
    });
  },
);
