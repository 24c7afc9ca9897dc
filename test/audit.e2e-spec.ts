import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ApiClient } from './support/http-client';
import { DatabaseTarget, databaseTargets } from './support/databases';
import { GitRepository } from './support/git-repos';
import { createRunner, createTask, launchJob, waitFor, waitForEnd } from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';

interface AuditRecord {
  id: number;
  time: string;
  user: string | null;
  provider: string | null;
  action: string;
  resource: string;
  resource_id: string | null;
  outcome: string;
  status_code: number;
  reason: string | null;
  method: string;
  path: string;
  client_address: string | null;
  request_id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LOOPBACK = ['127.0.0.1', '::ffff:127.0.0.1'];

/** Values that must never reach an audit record or the server log. */
const SECRETS = {
  gitToken: 'ghp_AuditGitToken0001',
  runnerSecret: 'runner-secret-AuditValue0002',
  taskSecret: 'task-secret-AuditValue0003',
  userPassword: 'user-password-Audit0004',
  wrongPassword: 'wrong-password-Audit0005',
  changedPassword: 'changed-password-Audit0006',
};

/**
 * A password in a git URL. The response to the invalid runner quotes it, and the server log
 * line of that rejection does too, so only audit records are checked for it.
 */
const URL_PASSWORD = 'url-password-Audit0007';

/** Waits until a record with the request id exists; records are written once a response ends. */
async function recordOf(api: ApiClient, requestId: string): Promise<AuditRecord> {
  return waitFor(`audit record of request ${requestId}`, async () => {
    const response = await api.get<AuditRecord[]>('/api/v1/audit_logs?limit=1000');
    return response.body.find((record) => record.request_id === requestId);
  });
}

describe.each(databaseTargets())('audit logs on $name', (target: DatabaseTarget) => {
  let server: KritenServer;
  let databaseUrl: string | undefined;
  let api: ApiClient;
  let stranger: ApiClient;
  let repository: GitRepository;
  let sequence = 0;

  /** Sends a request with a fresh X-Request-Id and returns the response and that id. */
  async function send(
    client: ApiClient,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; requestId: string; body: any; headers: Headers }> {
    const requestId = `audit-test-${target.name}-${++sequence}`;
    const response = await client.request(method, path, {
      body,
      headers: { 'x-request-id': requestId },
    });
    return { status: response.status, requestId, body: response.body, headers: response.headers };
  }

  beforeAll(async () => {
    databaseUrl = await target.create();
    server = await KritenServer.start({ databaseUrl });
    api = new ApiClient(server.baseUrl);
    await api.login('root', ROOT_PASSWORD);

    const created = await api.post('/api/v1/users', {
      username: 'stranger',
      password: SECRETS.userPassword,
    });
    expect(created.status).toBe(200);
    stranger = new ApiClient(server.baseUrl);
    await stranger.login('stranger', SECRETS.userPassword);
    repository = GitRepository.create({ 'hello.sh': 'echo hello\n' });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await target.drop(databaseUrl);
  });

  describe('request id', () => {
    it('plain incoming id is echoed', async () => {
      const { headers, requestId } = await send(api, 'GET', '/api/v1/runners');

      expect(headers.get('x-request-id')).toBe(requestId);
    });

    it.each([['has spaces'], ['x'.repeat(129)], ['semi;colon']])(
      'unsafe incoming id %j is replaced',
      async (incoming) => {
        const response = await api.get('/api/v1/runners', {
          headers: { 'x-request-id': incoming },
        });

        expect(response.headers.get('x-request-id')).toMatch(UUID);
      },
    );

    it('missing id gets a UUID', async () => {
      const response = await api.get('/api/v1/runners');

      expect(response.headers.get('x-request-id')).toMatch(UUID);
    });
  });

  describe('logins', () => {
    it('successful login is recorded', async () => {
      const { status, requestId } = await send(api, 'POST', '/api/v1/login', {
        username: 'root',
        password: ROOT_PASSWORD,
      });
      const record = await recordOf(api, requestId);

      expect(status).toBe(200);
      expect(record.action).toBe('login');
      expect(record.user).toBe('root');
      expect(record.provider).toBe('local');
      expect(record.resource).toBe('users');
      expect(record.resource_id).toBe('root');
      expect(record.outcome).toBe('success');
      expect(record.status_code).toBe(200);
      expect(record.reason).toBeNull();
      expect(record.method).toBe('POST');
      expect(record.path).toBe('/api/v1/login');
      expect(LOOPBACK).toContain(record.client_address);
      expect(Date.parse(record.time)).toBeGreaterThan(Date.now() - 60_000);
    });

    it('wrong password is recorded with reason', async () => {
      const { status, requestId } = await send(api, 'POST', '/api/v1/login', {
        username: 'stranger',
        password: SECRETS.wrongPassword,
      });
      const record = await recordOf(api, requestId);

      expect(status).toBe(401);
      expect(record.user).toBe('stranger');
      expect(record.outcome).toBe('failure');
      expect(record.status_code).toBe(401);
      expect(record.reason).toBe('invalid username or password');
    });

    it('missing fields are recorded', async () => {
      const { status, requestId } = await send(api, 'POST', '/api/v1/login', {});
      const record = await recordOf(api, requestId);

      expect(status).toBe(400);
      expect(record.user).toBeNull();
      expect(record.outcome).toBe('failure');
      expect(record.reason).toContain('username and password are required');
    });
  });

  describe('changes', () => {
    it('runner create, update and delete are recorded', async () => {
      const created = await send(api, 'POST', '/api/v1/runners', {
        name: 'audited',
        image: 'alpine:3.20',
        gitURL: repository.url,
        branch: 'main',
        token: SECRETS.gitToken,
        secret: { API_KEY: SECRETS.runnerSecret },
      });
      const updated = await send(api, 'PATCH', '/api/v1/runners/audited', { branch: 'main' });
      const secrets = await send(api, 'POST', '/api/v1/runners/audited/secret', {
        OTHER: SECRETS.runnerSecret,
      });
      const deleted = await send(api, 'DELETE', '/api/v1/runners/audited');

      expect([created.status, updated.status, secrets.status, deleted.status]).toEqual([
        200, 200, 200, 200,
      ]);
      const records = await Promise.all(
        [created, updated, secrets, deleted].map(({ requestId }) => recordOf(api, requestId)),
      );
      expect(
        records.map(({ action, resource, resource_id, outcome, user }) => ({
          action,
          resource,
          resource_id,
          outcome,
          user,
        })),
      ).toEqual([
        {
          action: 'create',
          resource: 'runners',
          resource_id: 'audited',
          outcome: 'success',
          user: 'root',
        },
        {
          action: 'update',
          resource: 'runners',
          resource_id: 'audited',
          outcome: 'success',
          user: 'root',
        },
        {
          action: 'update',
          resource: 'secrets',
          resource_id: 'runners/audited',
          outcome: 'success',
          user: 'root',
        },
        {
          action: 'delete',
          resource: 'runners',
          resource_id: 'audited',
          outcome: 'success',
          user: 'root',
        },
      ]);
    });

    it('rejected write is a failure with reason', async () => {
      const { status, requestId } = await send(api, 'DELETE', '/api/v1/tasks/no-such-task');
      const record = await recordOf(api, requestId);

      expect(status).toBe(404);
      expect(record.action).toBe('delete');
      expect(record.outcome).toBe('failure');
      expect(record.status_code).toBe(404);
      expect(record.reason).toBe("task 'no-such-task' not found");
    });

    it('rejection log line names request id', async () => {
      const { requestId } = await send(api, 'DELETE', '/api/v1/tasks/another-missing-task');

      const line = await waitFor('the log line of the rejection', async () =>
        server.logs.split('\n').find((text) => text.includes(`(request ${requestId})`)),
      );
      expect(line).toContain('DELETE /api/v1/tasks/another-missing-task rejected with 404');
    });

    it('reason hides URL passwords', async () => {
      const { status, requestId } = await send(api, 'POST', '/api/v1/runners', {
        name: 'bad-url',
        image: 'alpine:3.20',
        gitURL: `https://bot:${URL_PASSWORD}@git.example/repo with space.git`,
      });
      const record = await recordOf(api, requestId);

      expect(status).toBe(400);
      expect(record.outcome).toBe('failure');
      expect(record.reason).toContain('https://bot:***@git.example');
      expect(record.reason).not.toContain(URL_PASSWORD);
    });

    it('forbidden write is denied', async () => {
      const { status, requestId } = await send(stranger, 'POST', '/api/v1/runners', {
        name: 'not-allowed',
        image: 'alpine:3.20',
        gitURL: repository.url,
      });
      const record = await recordOf(api, requestId);

      expect(status).toBe(403);
      expect(record.user).toBe('stranger');
      expect(record.action).toBe('create');
      expect(record.resource).toBe('runners');
      expect(record.resource_id).toBe('not-allowed');
      expect(record.outcome).toBe('denied');
      expect(record.status_code).toBe(403);
      expect(record.reason).toContain("user 'stranger' has no write access");
    });

    it('forbidden read is denied', async () => {
      const { status, requestId } = await send(stranger, 'GET', '/api/v1/runners/anything');
      const record = await recordOf(api, requestId);

      expect(status).toBe(403);
      expect(record.action).toBe('read');
      expect(record.resource_id).toBe('anything');
      expect(record.outcome).toBe('denied');
    });

    it('unauthenticated write is denied without user', async () => {
      const requestId = `audit-test-${target.name}-anonymous`;
      const response = await api.request('DELETE', '/api/v1/runners/anything', {
        token: null,
        headers: { 'x-request-id': requestId },
      });
      const record = await recordOf(api, requestId);

      expect(response.status).toBe(401);
      expect(record.user).toBeNull();
      expect(record.outcome).toBe('denied');
      expect(record.status_code).toBe(401);
    });

    it('successful read is not recorded', async () => {
      const { requestId } = await send(api, 'GET', '/api/v1/runners');
      const marker = await send(api, 'DELETE', '/api/v1/runners/marker-after-read');
      await recordOf(api, marker.requestId);

      const all = await api.get<AuditRecord[]>('/api/v1/audit_logs?limit=1000');
      expect(all.body.some((record) => record.request_id === requestId)).toBe(false);
    });

    it('user create and password change are recorded', async () => {
      const created = await send(api, 'POST', '/api/v1/users', {
        username: 'audited-user',
        password: SECRETS.userPassword,
      });
      const changed = await send(api, 'PATCH', `/api/v1/users/audited-user`, {
        password: SECRETS.changedPassword,
      });
      const createdRecord = await recordOf(api, created.requestId);
      const changedRecord = await recordOf(api, changed.requestId);

      expect(created.status).toBe(200);
      expect(changed.status).toBe(200);
      expect(createdRecord.action).toBe('create');
      expect(createdRecord.resource).toBe('users');
      expect(createdRecord.resource_id).toBe('audited-user');
      expect(changedRecord.action).toBe('update');
      expect(changedRecord.resource_id).toBe('audited-user');
    });
  });

  describe('jobs', () => {
    beforeAll(async () => {
      await createRunner(api, { name: 'audit-scripts', gitURL: repository.url });
      await createTask(api, {
        name: 'audit-echo',
        runner: 'audit-scripts',
        command: 'sh hello.sh',
        secret: { TASK_KEY: SECRETS.taskSecret },
      });
      await createTask(api, {
        name: 'audit-sleep',
        runner: 'audit-scripts',
        command: 'sleep 30',
      });
    });

    it('job start is recorded with job id', async () => {
      const { status, requestId, body } = await send(api, 'POST', '/api/v1/jobs/audit-echo', {
        greeting: 'hi',
      });
      const record = await recordOf(api, requestId);

      expect(status).toBe(200);
      expect(record.action).toBe('start');
      expect(record.resource).toBe('jobs');
      expect(record.resource_id).toBe(body.id);
      expect(record.path).toBe('/api/v1/jobs/audit-echo');
      await waitForEnd(api, body.id);
    });

    it('job cancel is recorded', async () => {
      const id = await launchJob(api, 'audit-sleep');
      const { status, requestId } = await send(api, 'DELETE', `/api/v1/jobs/${id}`);
      const record = await recordOf(api, requestId);

      expect(status).toBe(200);
      expect(record.action).toBe('cancel');
      expect(record.resource_id).toBe(id);
      expect(record.outcome).toBe('success');
    });
  });

  describe('listing', () => {
    it('filters by user, action and outcome', async () => {
      const response = await api.get<AuditRecord[]>(
        '/api/v1/audit_logs?user=stranger&action=create&outcome=denied',
      );

      expect(response.status).toBe(200);
      expect(response.body.length).toBeGreaterThan(0);
      for (const record of response.body) {
        expect(record.user).toBe('stranger');
        expect(record.action).toBe('create');
        expect(record.outcome).toBe('denied');
      }
    });

    it('filters by resource and resource id', async () => {
      const response = await api.get<AuditRecord[]>(
        '/api/v1/audit_logs?resource=secrets&resource_id=runners/audited',
      );

      expect(response.body).toHaveLength(1);
      expect(response.body[0].action).toBe('update');
    });

    it('pages newest first with total', async () => {
      const all = await api.get<AuditRecord[]>('/api/v1/audit_logs?limit=1000');
      const page = await api.get<AuditRecord[]>('/api/v1/audit_logs?limit=2&offset=1');
      const total = Number(all.headers.get('x-total-count'));

      expect(total).toBe(all.body.length);
      expect(Number(page.headers.get('x-total-count'))).toBeGreaterThanOrEqual(total);
      expect(page.body.map((record) => record.id)).toEqual(
        all.body.slice(1, 3).map((record) => record.id),
      );
      const ids = all.body.map((record) => record.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
    });

    it('filters by time range', async () => {
      const all = await api.get<AuditRecord[]>('/api/v1/audit_logs?limit=1000');
      const oldest = all.body[all.body.length - 1];
      const future = new Date(Date.now() + 3_600_000).toISOString();

      const since = await api.get<AuditRecord[]>(`/api/v1/audit_logs?since=${future}`);
      const until = await api.get<AuditRecord[]>(
        `/api/v1/audit_logs?until=${encodeURIComponent(oldest.time)}`,
      );
      const range = await api.get<AuditRecord[]>(
        `/api/v1/audit_logs?limit=1000&since=${encodeURIComponent(oldest.time)}&until=${future}`,
      );

      expect(since.body).toEqual([]);
      expect(until.body).toEqual([]);
      expect(range.body.length).toBe(all.body.length);
    });

    it.each([
      ['since=yesterday', 'since must be an RFC 3339 time'],
      ['until=2026-13-01T00:00:00Z', 'until must be an RFC 3339 time'],
      ['outcome=maybe', 'outcome'],
      ['action=steal', 'action'],
      ['limit=0', 'limit'],
    ])('invalid filter %s is 400', async (query, field) => {
      const response = await api.get(`/api/v1/audit_logs?${query}`);

      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body.message)).toContain(field);
    });

    it('one record by id', async () => {
      const [first] = (await api.get<AuditRecord[]>('/api/v1/audit_logs?limit=1')).body;
      const response = await api.get<AuditRecord>(`/api/v1/audit_logs/${first.id}`);

      expect(response.status).toBe(200);
      expect(response.body).toEqual(first);
    });

    it.each([['999999999'], ['abc']])('unknown id %s is 404', async (id) => {
      const response = await api.get(`/api/v1/audit_logs/${id}`);

      expect(response.status).toBe(404);
      expect(response.body.message).toBe(`audit log '${id}' not found`);
    });

    it('reading needs a role on audit_logs', async () => {
      const list = await stranger.get('/api/v1/audit_logs');
      const one = await stranger.get('/api/v1/audit_logs/1');

      expect(list.status).toBe(403);
      expect(one.status).toBe(403);
    });
  });

  describe('secrecy', () => {
    it('API token create records its id only', async () => {
      const created = await send(api, 'POST', '/api/v1/api_tokens', {
        description: 'audit check',
      });
      const record = await recordOf(api, created.requestId);
      const records = await api.get('/api/v1/audit_logs?limit=1000');

      expect(created.status).toBe(200);
      expect(typeof created.body.token).toBe('string');
      expect(record.action).toBe('create');
      expect(record.resource).toBe('api_tokens');
      expect(record.resource_id).toBe(created.body.id);
      expect(records.text).not.toContain(created.body.token);
      expect(server.logs).not.toContain(created.body.token);
    });

    it('no secret reaches records or the log', async () => {
      const sync = await send(api, 'POST', '/api/v1/tasks/audit-echo/secret', {
        TASK_KEY: SECRETS.taskSecret,
      });
      await recordOf(api, sync.requestId);

      const records = await api.get('/api/v1/audit_logs?limit=1000');
      for (const value of Object.values(SECRETS)) {
        expect(records.text).not.toContain(value);
        expect(server.logs).not.toContain(value);
      }
      expect(records.text).not.toContain(URL_PASSWORD);
      expect(records.text).not.toContain(ROOT_PASSWORD);
      expect(records.text).not.toContain(api.token!);
      expect(server.logs).not.toContain(api.token!);
    });
  });
});

describe('audit logs with a proxy', () => {
  let direct: KritenServer;
  let proxied: KritenServer;

  beforeAll(async () => {
    [direct, proxied] = await Promise.all([
      KritenServer.start(),
      KritenServer.start({ env: { KRITEN_TRUST_PROXY: 'loopback' } }),
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const server of [direct, proxied]) {
      await server?.stop();
      server?.removeDataDir();
    }
  });

  async function recordedAddress(server: KritenServer): Promise<string | null> {
    const api = new ApiClient(server.baseUrl);
    await api.login('root', ROOT_PASSWORD);
    const requestId = `proxy-test-${server.port}`;
    await api.request('DELETE', '/api/v1/runners/anything', {
      headers: { 'x-request-id': requestId, 'x-forwarded-for': '203.0.113.7' },
    });
    return (await recordOf(api, requestId)).client_address;
  }

  it('forwarded address is ignored by default', async () => {
    expect(LOOPBACK).toContain(await recordedAddress(direct));
  });

  it('forwarded address is used behind a trusted proxy', async () => {
    expect(await recordedAddress(proxied)).toBe('203.0.113.7');
  });
});

describe('audit write failure', () => {
  let server: KritenServer;

  beforeAll(async () => {
    server = await KritenServer.start();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
  });

  it('request still succeeds and the error is logged', async () => {
    const api = new ApiClient(server.baseUrl);
    await api.login('root', ROOT_PASSWORD);
    const database = new Database(join(server.dataDir, 'kriten.sqlite'));
    database.exec('ALTER TABLE audit_logs RENAME TO audit_logs_moved');
    database.close();

    const response = await api.request('DELETE', '/api/v1/runners/anything', {
      headers: { 'x-request-id': 'write-failure-check' },
    });

    expect(response.status).toBe(404);
    await waitFor('the audit write error in the log', async () =>
      server.logs.includes('could not be written') ? true : undefined,
    );
    expect(server.logs).toMatch(
      /audit record of delete on runners by 'root' \(request write-failure-check\) could not be written: .*audit_logs/,
    );
  });
});
