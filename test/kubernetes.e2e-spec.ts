import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { databaseTargets } from './support/databases';
import { startFakeKube, type FakeKube, type RecordedCall } from './support/fake-kube';
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
} from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD, startExpectingFailure } from './support/kriten-server';
import { makeTempDir } from './support/temp';

jest.setTimeout(60_000);

const NAMESPACE = 'kriten';
const JOB_ID_LABEL = 'kriten.io/job-id';

const SCRIPTS = {
  'hello.sh': '#!/bin/sh\necho hello\n',
  'print-args.sh': '#!/bin/sh\nprintf \'%s|%s\' "$EXTRA_VARS" "$KRITEN_JOB_ID"\n',
  'slow.sh': '#!/bin/sh\nfor i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.5; done\n',
  'secrets.sh':
    '#!/bin/sh\nprintf \'%s,%s,%s\' "$shared" "$(cat /etc/secret/shared)" "$only_runner"\n',
};

/** Requests that read or list Jobs or pods one by one, which a watch-driven executor never makes. */
function pollingCalls(calls: RecordedCall[]): RecordedCall[] {
  return calls.filter(
    (call) =>
      (call.resource === 'jobs' || call.resource === 'pods') &&
      call.subresource === undefined &&
      (call.verb === 'get' || call.verb === 'list'),
  );
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('kubernetes executor', () => {
  let fake: FakeKube;
  let configDir: string;
  let kubeconfig: string;
  let repository: GitRepository;
  let server: KritenServer;
  let api: ApiClient;

  function kritenEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      KRITEN_EXECUTOR: 'kubernetes',
      KUBECONFIG: kubeconfig,
      KRITEN_NAMESPACE: NAMESPACE,
      KRITEN_IMAGE_PULL_GRACE_SECONDS: '1',
      KRITEN_GIT_IMAGE: 'alpine/git:2.47.2',
      ...extra,
    };
  }

  async function startKriten(dataDir?: string): Promise<void> {
    server = await KritenServer.start({ dataDir, env: kritenEnv() });
    api = new ApiClient(server.baseUrl);
    await api.login('root', ROOT_PASSWORD);
  }

  /** Kills the server as a crash would, runs whileDown, and starts it again on the same data. */
  async function restartKriten(whileDown: () => Promise<void> = async () => undefined) {
    const dataDir = server.dataDir;
    await server.stop('SIGKILL');
    try {
      await whileDown();
    } finally {
      await startKriten(dataDir);
    }
  }

  /** Returns the newest pod of a job, as the fake stores it. */
  function podOf(jobId: string): Record<string, any> | undefined {
    return fake
      .listObjects('pods')
      .filter((pod: any) => pod.metadata.labels?.[JOB_ID_LABEL] === jobId)
      .pop() as Record<string, any> | undefined;
  }

  async function waitForMainContainer(jobId: string): Promise<string> {
    return waitFor(`the main container of job ${jobId} to run`, async () => {
      const pod = podOf(jobId);
      const main = pod?.status?.containerStatuses?.find((status: any) => status.name === 'main');
      return main?.state?.running ? (pod!.metadata.name as string) : undefined;
    });
  }

  /** Sends a request to the fake API server as Kriten's user, like kubectl would. */
  async function kubectl(method: string, path: string): Promise<number> {
    const response = await fetch(`${fake.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${fake.token}` },
    });
    await response.text();
    return response.status;
  }

  beforeAll(async () => {
    fake = await startFakeKube({
      namespaces: [NAMESPACE],
      retryMilliseconds: 200,
      bookmarkIntervalMilliseconds: 500,
      maxGraceMilliseconds: 1000,
    });
    configDir = makeTempDir('kriten-kubeconfig-');
    kubeconfig = fake.writeKubeconfig(configDir, { tokenFile: join(configDir, 'token') });
    // The fake kubelet binds the test run's folder into containers, so the clone finds it.
    repository = GitRepository.create(SCRIPTS);

    await startKriten();
    await createRunner(api, {
      name: 'scripts',
      gitURL: repository.url,
      secret: { shared: 'from-runner', only_runner: 'runner-only' },
    });
    await createTask(api, { name: 'hello', runner: 'scripts', command: './hello.sh' });
    await createTask(api, { name: 'print-args', runner: 'scripts', command: './print-args.sh' });
    await createTask(api, { name: 'slow', runner: 'scripts', command: './slow.sh' });
    await createTask(api, {
      name: 'sleeper',
      runner: 'scripts',
      command: 'echo started; sleep 30',
      timeout_seconds: 2,
    });
    await createTask(api, {
      name: 'long',
      runner: 'scripts',
      command: 'echo started; sleep 20; echo done',
    });
    await createTask(api, {
      name: 'secrets',
      runner: 'scripts',
      command: './secrets.sh',
      secret: { shared: 'from-task' },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await fake?.stop();
    if (repository) {
      rmSync(repository.path, { recursive: true, force: true });
    }
  });

  it('runs a job with one create call and no polling', async () => {
    const before = fake.calls.length;
    const id = await launchJob(api, 'hello');
    const job = await waitForEnd(api, id);

    expect(job.status).toBe('succeeded');
    expect(job.exit_code).toBe(0);
    expect(job.stdout).toBe('hello\n');
    expect(job.start_time).not.toBeNull();

    await sleep(500);
    const calls = fake.calls.slice(before);
    const creates = calls.filter((call) => call.verb === 'create' && call.resource === 'jobs');
    expect(creates.map((call) => call.name ?? '')).toHaveLength(1);
    expect(pollingCalls(calls)).toEqual([]);
    const logReads = calls.filter((call) => call.subresource === 'log');
    expect(logReads.length).toBeLessThanOrEqual(1);
  });

  it('passes command, EXTRA_VARS and job id byte for byte', async () => {
    const body = '{"cost":"$(HOME)","double":"$$","end":"$"}';
    const response = await api.request('POST', '/api/v1/jobs/print-args', {
      rawBody: body,
      headers: { 'content-type': 'application/json' },
    });
    const job = await waitForEnd(api, response.body.id);
    expect(job.status).toBe('succeeded');
    expect(job.stdout).toBe(`${body}|${response.body.id}`);
  });

  it('gives task secrets precedence in env and files', async () => {
    const job = await waitForEnd(api, await launchJob(api, 'secrets'));
    expect(job.status).toBe('succeeded');
    expect(job.stdout).toBe('from-task,from-task,runner-only');
  });

  it('follows the log while the job runs', async () => {
    const id = await launchJob(api, 'slow');
    const response = await fetch(`${server.baseUrl}/api/v1/jobs/${id}/log?follow=true`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);

    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let statusAtFirstChunk: string | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      if (statusAtFirstChunk === undefined && value.length > 0) {
        statusAtFirstChunk = (await api.get<JobView>(`/api/v1/jobs/${id}`)).body.status;
      }
      text += decoder.decode(value, { stream: true });
    }

    expect(statusAtFirstChunk).toBe('running');
    expect(text).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n');
    const job = await waitForEnd(api, id);
    expect(job.stdout).toBe(text);
  });

  it('returns a finished job log at once when following', async () => {
    const id = await launchJob(api, 'hello');
    await waitForEnd(api, id);
    const response = await api.get(`/api/v1/jobs/${id}/log?follow=true`);
    expect(response.status).toBe(200);
    expect(response.text).toBe('hello\n');
  });

  it('rejects an invalid follow value', async () => {
    const id = await launchJob(api, 'hello');
    const response = await api.get(`/api/v1/jobs/${id}/log?follow=yes`);
    expect(response.status).toBe(400);
    expect(response.text).toMatch(/follow must be 'true' or 'false'/);
  });

  it('cancels a running job and deletes its Job', async () => {
    const id = await launchJob(api, 'long');
    await waitForMainContainer(id);
    await waitFor('the job to print', async () => {
      const log = await api.get(`/api/v1/jobs/${id}/log`);
      return log.text === 'started\n' ? true : undefined;
    });

    const response = await api.delete(`/api/v1/jobs/${id}`);
    expect(response.status).toBe(200);
    const job = await waitForEnd(api, id);
    expect(job.status).toBe('cancelled');
    expect(job.stdout).toBe('started\n');
    await waitFor('the Job to be deleted', async () =>
      fake.getObject('jobs', id) === undefined ? true : undefined,
    );
  });

  it('fails a job whose image cannot be pulled', async () => {
    fake.addPodScenario({ effect: 'imagePullError', image: 'registry.example/missing:1' });
    await createRunner(api, {
      name: 'missing-image',
      gitURL: repository.url,
      // createRunner sets a default image; this one is what the scenario fails.
      ...({ image: 'registry.example/missing:1' } as object),
    });
    await createTask(api, { name: 'pull', runner: 'missing-image', command: 'echo never' });

    const id = await launchJob(api, 'pull');
    const job = await waitForEnd(api, id, 20_000);
    expect(job.status).toBe('failed');
    expect(job.reason).toMatch(/^image 'registry.example\/missing:1' could not be pulled: /);
    expect(job.start_time).toBeNull();
    await waitFor('the Job to be deleted', async () =>
      fake.getObject('jobs', id) === undefined ? true : undefined,
    );
  });

  it('reports a failed clone with its log', async () => {
    await createRunner(api, { name: 'no-branch', gitURL: repository.url, branch: 'missing' });
    await createTask(api, { name: 'clone-fails', runner: 'no-branch', command: 'echo never' });

    const job = await waitForEnd(api, await launchJob(api, 'clone-fails'));
    expect(job.status).toBe('failed');
    expect(job.reason).toMatch(/^git clone failed with exit code \d+: .*missing/s);
    expect(job.stdout).toMatch(/missing/);
  });

  it('reports a missing Secret as a configuration error', async () => {
    await createRunner(api, {
      name: 'lost-secret',
      gitURL: repository.url,
      secret: { key: 'value' },
    });
    await createTask(api, { name: 'needs-secret', runner: 'lost-secret', command: 'echo never' });
    expect(
      await kubectl('DELETE', `/api/v1/namespaces/${NAMESPACE}/secrets/kriten-runner-lost-secret`),
    ).toBe(200);

    const id = await launchJob(api, 'needs-secret');
    const job = await waitForEnd(api, id);
    expect(job.status).toBe('failed');
    expect(job.reason).toMatch(/could not be configured: .*kriten-runner-lost-secret/);
  });

  it('reports OOMKilled', async () => {
    fake.addPodScenario({ effect: 'oomKill', labels: { 'kriten.io/task': 'oom' } });
    await createTask(api, { name: 'oom', runner: 'scripts', command: 'sleep 10' });

    const job = await waitForEnd(api, await launchJob(api, 'oom'));
    expect(job.status).toBe('failed');
    expect(job.reason).toMatch(/OOMKilled/);
    expect(job.exit_code).toBe(137);
  });

  it('times out at the task deadline', async () => {
    const job = await waitForEnd(api, await launchJob(api, 'sleeper'), 20_000);
    expect(job.status).toBe('failed');
    expect(job.reason).toBe('timed out after 2 s');
  });

  it('fails a job whose pod vanished as lost', async () => {
    const id = await launchJob(api, 'long');
    const pod = await waitForMainContainer(id);
    await fake.vanishPod(pod, { controllerPauseMilliseconds: 10_000 });

    const job = await waitForEnd(api, id);
    expect(job.status).toBe('failed');
    expect(job.reason).toBe(`lost: its pod '${pod}' was deleted before the job ended`);
    await waitFor('the Job to be deleted', async () =>
      fake.getObject('jobs', id) === undefined ? true : undefined,
    );
  });

  it('fails a job whose Job someone else deleted as lost', async () => {
    const id = await launchJob(api, 'long');
    await waitForMainContainer(id);
    expect(
      await kubectl(
        'DELETE',
        `/apis/batch/v1/namespaces/${NAMESPACE}/jobs/${id}?propagationPolicy=Background`,
      ),
    ).toBe(200);

    const job = await waitForEnd(api, id);
    expect(job.status).toBe('failed');
    expect(job.reason).toBe(`lost: its Kubernetes Job '${id}' was deleted before the job ended`);
  });

  it('recovers from dropped watches', async () => {
    const id = await launchJob(api, 'slow');
    await waitForMainContainer(id);
    const before = fake.calls.length;
    fake.dropWatches();

    const job = await waitForEnd(api, id);
    expect(job.status).toBe('succeeded');
    const rewatches = fake.calls
      .slice(before)
      .filter((call) => call.verb === 'watch' && call.query.resourceVersion !== undefined);
    expect(rewatches.length).toBeGreaterThanOrEqual(2);
    expect(server.logs).toMatch(/watch failed: .*retrying in/);
  });

  it('lists again after 410 Gone', async () => {
    const id = await launchJob(api, 'slow');
    await waitForMainContainer(id);
    const before = fake.calls.length;
    fake.compactHistory();
    fake.expireNextWatch(2);
    fake.dropWatches();

    const job = await waitForEnd(api, id);
    expect(job.status).toBe('succeeded');
    const lists = fake.calls
      .slice(before)
      .filter((call) => call.verb === 'list' && call.subresource === undefined);
    // Which watch meets the expired version first depends on timing; at least one lists again.
    expect(lists.length).toBeGreaterThanOrEqual(1);
    expect(server.logs).toMatch(/is gone \(410\), listing again/);
  });

  it('uses a rotated token at once', async () => {
    fake.rotateToken(`rotated-${Date.now()}`);
    const job = await waitForEnd(api, await launchJob(api, 'hello'));
    expect(job.status).toBe('succeeded');
    expect(job.stdout).toBe('hello\n');
  });

  it('rereads a kubeconfig token-file after rotation', async () => {
    const dir = makeTempDir('kriten-kubeconfig-');
    const tokenPath = join(dir, 'token');
    writeFileSync(tokenPath, fake.token);
    const path = join(dir, 'kubeconfig');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters:\n- name: fake\n  cluster:\n    server: ${fake.url}`,
        `users:\n- name: kriten\n  user:\n    token-file: ${tokenPath}`,
        'contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: kriten',
        'current-context: fake',
        '',
      ].join('\n'),
    );
    const other = await KritenServer.start({ env: kritenEnv({ KUBECONFIG: path }) });
    try {
      const otherApi = new ApiClient(other.baseUrl);
      await otherApi.login('root', ROOT_PASSWORD);
      // Other names than the main server's, because both servers share the namespace.
      await createRunner(otherApi, { name: 'token-file', gitURL: repository.url });
      await createTask(otherApi, {
        name: 'token-file-hello',
        runner: 'token-file',
        command: './hello.sh',
      });

      const token = `rotated-file-${Date.now()}`;
      fake.rotateToken(token);
      writeFileSync(tokenPath, token);
      const job = await waitForEnd(otherApi, await launchJob(otherApi, 'token-file-hello'));
      expect(job.status).toBe('succeeded');
      expect(job.stdout).toBe('hello\n');
    } finally {
      await other.stop();
      other.removeDataDir();
    }
  });

  it('takes over a running job after a restart', async () => {
    const id = await launchJob(api, 'slow');
    await waitForMainContainer(id);
    await restartKriten();

    const job = await waitForEnd(api, id);
    expect(job.status).toBe('succeeded');
    expect(job.stdout).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n');
  });

  it('records a job that ended while the server was down', async () => {
    const id = await launchJob(api, 'hello');
    await waitFor('the Job to be created', async () => fake.getObject('jobs', id));
    await restartKriten(async () => {
      await waitFor('the Job to complete', async () => {
        const job = fake.getObject('jobs', id) as any;
        const done = job?.status?.conditions?.some(
          (condition: any) => condition.type === 'Complete' && condition.status === 'True',
        );
        return done ? true : undefined;
      }).catch((error: Error) => {
        throw new Error(
          `${error.message}: ${JSON.stringify(fake.getObject('jobs', id))} ${JSON.stringify(podOf(id))}`,
        );
      });
    });

    const job = await waitForEnd(api, id);
    expect(job.status).toBe('succeeded');
    expect(job.stdout).toBe('hello\n');
  });

  it('fails a job whose Job vanished while the server was down', async () => {
    const id = await launchJob(api, 'long');
    await waitForMainContainer(id);
    await restartKriten(async () => {
      const status = await kubectl(
        'DELETE',
        `/apis/batch/v1/namespaces/${NAMESPACE}/jobs/${id}?propagationPolicy=Background`,
      );
      expect(status).toBe(200);
    });

    const job = await waitForEnd(api, id);
    expect(job.status).toBe('failed');
    expect(job.reason).toMatch(/^its Kubernetes Job no longer exists/);
  });

  it('refuses to start without permissions', async () => {
    fake.deny({ verb: 'create', resource: 'jobs' });
    fake.deny({ verb: 'watch', resource: 'pods' });
    try {
      const { code, output } = await startExpectingFailure(kritenEnv());
      expect(code).not.toBe(0);
      expect(output).toContain(
        "Kubernetes service account may not create jobs.batch, watch pods in namespace 'kriten': grant it with the Role in k8s/",
      );
    } finally {
      fake.allowAll();
    }
  });

  it('refuses to start without a reachable API', async () => {
    const port = await closedPort();
    const dir = makeTempDir('kriten-kubeconfig-');
    const path = join(dir, 'kubeconfig');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: nowhere\n  cluster:\n    server: http://127.0.0.1:${port}`,
        'users:',
        '- name: someone\n  user:\n    token: abc',
        'contexts:',
        '- name: nowhere\n  context:\n    cluster: nowhere\n    user: someone\n    namespace: kriten',
        'current-context: nowhere',
        '',
      ].join('\n'),
    );
    const { code, output } = await startExpectingFailure(kritenEnv({ KUBECONFIG: path }));
    expect(code).not.toBe(0);
    expect(output).toContain(`the Kubernetes API at http://127.0.0.1:${port} cannot be reached`);
  });

  it('is ready while its watches work', async () => {
    const response = await fetch(`${server.baseUrl}/readyz`);
    expect(response.status).toBe(200);
  });

  it('sent only objects that match the Kubernetes schema', () => {
    expect(fake.violations).toEqual([]);
  });
});

/** Two servers on one MariaDB database and one namespace, as two replicas of a Deployment. */
const replicaDatabase = databaseTargets().find((target) => target.name === 'mariadb');

(replicaDatabase ? describe : describe.skip)('kubernetes executor with two replicas', () => {
  let fake: FakeKube;
  let kubeconfig: string;
  let repository: GitRepository;
  let databaseUrl: string | undefined;
  let first: KritenServer;
  let second: KritenServer;
  let firstApi: ApiClient;
  let secondApi: ApiClient;

  async function startReplica(): Promise<[KritenServer, ApiClient]> {
    const server = await KritenServer.start({
      databaseUrl,
      env: {
        KRITEN_EXECUTOR: 'kubernetes',
        KUBECONFIG: kubeconfig,
        KRITEN_NAMESPACE: NAMESPACE,
        // Replicas share the keys, so a token from one is valid on the other.
        KRITEN_JWT_SECRET: 'jwt-secret-shared-by-both-replicas',
        KRITEN_SECRET_KEY: '00'.repeat(32),
      },
    });
    const api = new ApiClient(server.baseUrl);
    await api.login('root', ROOT_PASSWORD);
    return [server, api];
  }

  beforeAll(async () => {
    fake = await startFakeKube({ namespaces: [NAMESPACE], retryMilliseconds: 200 });
    kubeconfig = fake.writeKubeconfig(makeTempDir('kriten-kubeconfig-'));
    databaseUrl = await replicaDatabase!.create();
    repository = GitRepository.create(SCRIPTS);

    [first, firstApi] = await startReplica();
    [second, secondApi] = await startReplica();
    await createRunner(firstApi, { name: 'scripts', gitURL: repository.url });
    await createTask(firstApi, { name: 'slow', runner: 'scripts', command: './slow.sh' });
    await createTask(firstApi, {
      name: 'long',
      runner: 'scripts',
      command: 'echo started; sleep 20; echo done',
    });
  }, 120_000);

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    first?.removeDataDir();
    second?.removeDataDir();
    await replicaDatabase!.drop(databaseUrl);
    await fake?.stop();
    if (repository) {
      rmSync(repository.path, { recursive: true, force: true });
    }
  });

  it('cancels a job that the other replica launched', async () => {
    const id = await launchJob(firstApi, 'long');
    await waitFor('the Job to be created', async () => fake.getObject('jobs', id));

    const response = await secondApi.delete(`/api/v1/jobs/${id}`);
    expect(response.status).toBe(200);
    const job = await waitForEnd(firstApi, id);
    expect(job.status).toBe('cancelled');
    await waitFor('the Job to be deleted', async () =>
      fake.getObject('jobs', id) === undefined ? true : undefined,
    );

    // The launching replica observes the Job's deletion and must not record a second end.
    await sleep(4000);
    const later = (await firstApi.get<JobView>(`/api/v1/jobs/${id}`)).body;
    expect(later.status).toBe('cancelled');
    expect(later.reason).toBe('cancelled');
  });

  it('records the end of a job whose replica stopped', async () => {
    const [third, thirdApi] = await startReplica();
    try {
      const id = await launchJob(thirdApi, 'slow');
      await waitFor('the Job to be created', async () => fake.getObject('jobs', id));
      await third.stop('SIGKILL');

      const job = await waitForEnd(firstApi, id, 30_000);
      expect(job.status).toBe('succeeded');
      expect(job.stdout).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n');
      expect(first.logs + second.logs).toMatch(
        new RegExp(`job '${id}' ended, but the server that launched it has not recorded it`),
      );
    } finally {
      await third.stop();
      third.removeDataDir();
    }
  });

  it('follows on one replica a job that the other launched', async () => {
    const id = await launchJob(firstApi, 'slow');
    const response = await secondApi.get(`/api/v1/jobs/${id}/log?follow=true`);
    expect(response.status).toBe(200);
    expect(response.text).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n');
    expect((await waitForEnd(secondApi, id)).status).toBe('succeeded');
  });

  it('sent only objects that match the Kubernetes schema', () => {
    expect(fake.violations).toEqual([]);
  });
});
