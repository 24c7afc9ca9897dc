import { createHmac, generateKeyPairSync, createSign } from 'node:crypto';
import { ApiClient } from './support/http-client';
import { DatabaseTarget, databaseTargets } from './support/databases';
import { GitRepository } from './support/git-repos';
import { createRunner, createTask, launchJob, sleep, waitForEnd } from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';
import { bindRoles, createCaller, uniqueName } from './support/access';

const JWT_SECRET = 'identity-suite-jwt-secret-0123456789';

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** Signs claims with an HMAC algorithm and the server's own secret. */
function signHmac(claims: object, algorithm: 'HS256' | 'HS512'): string {
  const unsigned = `${base64url({ alg: algorithm, typ: 'JWT' })}.${base64url(claims)}`;
  const digest = algorithm === 'HS256' ? 'sha256' : 'sha512';
  const signature = createHmac(digest, JWT_SECRET).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

function signRs256(claims: object): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const unsigned = `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url(claims)}`;
  const signature = createSign('RSA-SHA256')
    .update(unsigned)
    .sign(privateKey)
    .toString('base64url');
  return `${unsigned}.${signature}`;
}

function messageOf(body: { message?: unknown }): string {
  return String(body.message ?? '');
}

describe.each(databaseTargets())('identity on $name', (target: DatabaseTarget) => {
  let server: KritenServer;
  let databaseUrl: string | undefined;
  let admin: ApiClient;
  let api: ApiClient;

  beforeAll(async () => {
    databaseUrl = await target.create();
    server = await KritenServer.start({
      databaseUrl,
      env: { KRITEN_JWT_SECRET: JWT_SECRET, KRITEN_COOKIE_SECURE: 'true' },
    });
    admin = new ApiClient(server.baseUrl);
    await admin.login('root', ROOT_PASSWORD);
    api = new ApiClient(server.baseUrl);

    const repository = GitRepository.create({ 'ok.sh': '#!/bin/sh\necho "ran $KRITEN_JOB_ID"\n' });
    await createRunner(admin, { name: 'identity-runner', gitURL: repository.url });
    for (const name of ['allowed-task', 'other-task']) {
      await createTask(admin, { name, runner: 'identity-runner', command: './ok.sh' });
    }
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await target.drop(databaseUrl);
  });

  describe('users', () => {
    it('create hides the password', async () => {
      const response = await admin.post('/api/v1/users', {
        username: 'ada',
        password: 'ada-password',
      });

      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual([
        'builtin',
        'created_time',
        'directory_groups',
        'id',
        'provider',
        'updated_time',
        'username',
      ]);
      expect(response.body.provider).toBe('local');
      expect(response.body.created_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      expect(response.text).not.toContain('ada-password');
    });

    it('get works by id and username', async () => {
      const byName = await admin.get('/api/v1/users/ada');
      const byId = await admin.get(`/api/v1/users/${byName.body.id}`);

      expect(byName.status).toBe(200);
      expect(byId.status).toBe(200);
      expect(byId.body).toEqual(byName.body);
    });

    it('duplicate username is 409', async () => {
      const response = await admin.post('/api/v1/users', {
        username: 'ada',
        password: 'another-password',
      });

      expect(response.status).toBe(409);
      expect(messageOf(response.body)).toContain("user 'ada'");
    });

    it.each([
      ['short password', { username: 'bob', password: 'short' }, 'at least 8'],
      ['long password', { username: 'bob', password: 'x'.repeat(73) }, 'at most 72 bytes'],
      ['bad username', { username: 'bob smith', password: 'long-enough' }, "username 'bob smith'"],
      [
        'directory user',
        { username: 'bob', password: 'long-enough', provider: 'active_directory' },
        'first log in',
      ],
    ])('invalid create is 400: %s', async (_case, body, expected) => {
      const response = await admin.post('/api/v1/users', body);

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain(expected);
      expect((await admin.get('/api/v1/users/bob')).status).toBe(404);
    });

    it('root cannot be deleted', async () => {
      const response = await admin.delete('/api/v1/users/root');

      expect(response.status).toBe(409);
      expect(messageOf(response.body)).toContain("user 'root' is built in");
    });

    it('unknown user is 404', async () => {
      const response = await admin.get('/api/v1/users/nobody-here');

      expect(response.status).toBe(404);
      expect(messageOf(response.body)).toContain("user 'nobody-here' not found");
    });

    it('password change revokes tokens', async () => {
      const caller = await createCaller(admin, uniqueName('changer'));
      const before = await api.get('/api/v1/refresh', { token: caller.jwt });
      const changed = await admin.patch(`/api/v1/users/${caller.username}`, {
        password: 'a-new-password',
      });

      expect(before.status).toBe(200);
      expect(changed.status).toBe(200);
      expect((await api.get('/api/v1/refresh', { token: caller.jwt })).status).toBe(401);
      expect(
        (await api.get('/api/v1/api_tokens', { token: null, headers: { token: caller.apiToken } }))
          .status,
      ).toBe(401);
      await expect(
        new ApiClient(server.baseUrl).login(caller.username, 'a-new-password'),
      ).resolves.toEqual(expect.any(String));
    });

    it('delete revokes tokens', async () => {
      const caller = await createCaller(admin, uniqueName('leaver'));
      const deleted = await admin.delete(`/api/v1/users/${caller.username}`);

      expect(deleted.status).toBe(200);
      expect((await api.get('/api/v1/refresh', { token: caller.jwt })).status).toBe(401);
      expect(
        (await api.get('/api/v1/api_tokens', { token: null, headers: { token: caller.apiToken } }))
          .status,
      ).toBe(401);
    });
  });

  describe('groups', () => {
    it('Admin group contains root', async () => {
      const group = await admin.get('/api/v1/groups/Admin');
      const members = await admin.get('/api/v1/groups/Admin/users');

      expect(group.body).toMatchObject({ name: 'Admin', provider: 'local', builtin: true });
      expect(members.body).toEqual([expect.objectContaining({ name: 'root', provider: 'local' })]);
    });

    it('Admin group cannot be deleted', async () => {
      const response = await admin.delete('/api/v1/groups/Admin');

      expect(response.status).toBe(409);
      expect(messageOf(response.body)).toContain('built in');
    });

    it('root cannot leave Admin', async () => {
      const response = await admin.request('DELETE', '/api/v1/groups/Admin/users', {
        body: [{ name: 'root', provider: 'local' }],
      });

      expect(response.status).toBe(409);
      expect((await admin.get('/api/v1/groups/Admin/users')).body).toHaveLength(1);
    });

    it('members are added and removed', async () => {
      await admin.post('/api/v1/groups', { name: 'ops', provider: 'local' });
      const added = await admin.post('/api/v1/groups/ops/users', [
        { name: 'ada', provider: 'local' },
      ]);
      const listed = await admin.get('/api/v1/groups/ops/users');
      const removed = await admin.request('DELETE', '/api/v1/groups/ops/users', {
        body: [{ name: 'ada' }],
      });

      expect(added.status).toBe(200);
      expect(listed.body.map((member: { name: string }) => member.name)).toEqual(['ada']);
      expect(removed.status).toBe(200);
      expect(removed.body).toEqual([]);
    });

    it('unknown member is 404 and adds nothing', async () => {
      await admin.post('/api/v1/groups', { name: 'devs' });
      const response = await admin.post('/api/v1/groups/devs/users', [
        { name: 'ada', provider: 'local' },
        { name: 'ghost', provider: 'local' },
      ]);

      expect(response.status).toBe(404);
      expect(messageOf(response.body)).toContain("'ghost' (local)");
      expect((await admin.get('/api/v1/groups/devs/users')).body).toEqual([]);
    });

    it('member list must be an array', async () => {
      const response = await admin.post('/api/v1/groups/devs/users', { name: 'ada' });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('JSON array');
    });

    it('invalid local group name is 400', async () => {
      const response = await admin.post('/api/v1/groups', { name: 'Ops Team' });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('RFC 1123');
    });

    it('directory group keeps its name', async () => {
      const response = await admin.post('/api/v1/groups', {
        name: 'Domain Admins',
        provider: 'active_directory',
      });

      expect(response.status).toBe(200);
      expect((await admin.get('/api/v1/groups/Domain%20Admins')).body.provider).toBe(
        'active_directory',
      );
    });
  });

  describe('roles and bindings', () => {
    it('built-in roles exist', async () => {
      const response = await admin.get('/api/v1/roles?limit=1000');
      const names = response.body.map((role: { name: string }) => role.name);

      expect(names).toEqual(
        expect.arrayContaining([
          'Admin',
          'WriteAllRunners',
          'WriteAllJobs',
          'WriteAllRoleBindings',
        ]),
      );
      expect(response.headers.get('x-total-count')).toBe(String(names.length));
    });

    it('built-in role cannot change', async () => {
      const patched = await admin.patch('/api/v1/roles/Admin', { access: 'read' });
      const deleted = await admin.delete('/api/v1/roles/Admin');

      expect(patched.status).toBe(409);
      expect(deleted.status).toBe(409);
      expect((await admin.get('/api/v1/roles/Admin')).body.access).toBe('write');
    });

    it('built-in binding cannot change', async () => {
      const patched = await admin.patch('/api/v1/role_bindings/Admin', { subject_name: 'ops' });
      const deleted = await admin.delete('/api/v1/role_bindings/Admin');

      expect(patched.status).toBe(409);
      expect(deleted.status).toBe(409);
    });

    it('resources_ids is accepted', async () => {
      const response = await admin.post('/api/v1/roles', {
        name: 'alias-role',
        resource: 'tasks',
        resources_ids: ['allowed-task'],
        access: 'read',
      });

      expect(response.status).toBe(200);
      expect(response.body.resource_ids).toEqual(['allowed-task']);
    });

    it('unknown resource is 400', async () => {
      const response = await admin.post('/api/v1/roles', {
        name: 'bad-role',
        resource: 'printers',
        resource_ids: ['*'],
        access: 'read',
      });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain("resource 'printers' is unknown");
      expect(messageOf(response.body)).toContain('runners, tasks, jobs');
    });

    it('unknown access is 400', async () => {
      const response = await admin.post('/api/v1/roles', {
        name: 'bad-role',
        resource: 'tasks',
        resource_ids: ['*'],
        access: 'admin',
      });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain("access 'admin'");
    });

    it('binding to missing role is 404', async () => {
      const response = await admin.post('/api/v1/role_bindings', {
        name: 'dangling',
        role_name: 'no-such-role',
        subject_kind: 'users',
        subject_name: 'ada',
        subject_provider: 'local',
      });

      expect(response.status).toBe(404);
      expect(messageOf(response.body)).toContain("role 'no-such-role' not found");
    });

    it('binding to missing group is 404', async () => {
      const response = await admin.post('/api/v1/role_bindings', {
        name: 'dangling',
        role_name: 'alias-role',
        subject_kind: 'groups',
        subject_name: 'no-such-group',
      });

      expect(response.status).toBe(404);
      expect(messageOf(response.body)).toContain("group 'no-such-group'");
    });

    it('bound role cannot be deleted', async () => {
      await admin.post('/api/v1/role_bindings', {
        name: 'alias-binding',
        role_name: 'alias-role',
        subject_kind: 'users',
        subject_name: 'ada',
      });
      const response = await admin.delete('/api/v1/roles/alias-role');

      expect(response.status).toBe(409);
      expect(messageOf(response.body)).toContain("'alias-binding'");
    });
  });

  describe('decisions', () => {
    it('jobs write starts jobs of that task only', async () => {
      const caller = await createCaller(admin, uniqueName('launcher'), [
        { resource: 'jobs', access: 'write', resource_ids: ['allowed-task'] },
      ]);
      const allowed = await api.post('/api/v1/jobs/allowed-task', {}, { token: caller.jwt });
      const other = await api.post('/api/v1/jobs/other-task', {}, { token: caller.jwt });

      expect(allowed.status).toBe(200);
      expect(other.status).toBe(403);
      expect(messageOf(other.body)).toBe(
        `user '${caller.username}' has no write access to jobs 'other-task'`,
      );
    });

    it('jobs read reads but cannot cancel', async () => {
      const id = await launchJob(admin, 'allowed-task');
      await waitForEnd(admin, id);
      const caller = await createCaller(admin, uniqueName('reader'), [
        { resource: 'jobs', access: 'read', resource_ids: ['allowed-task'] },
      ]);

      expect((await api.get(`/api/v1/jobs/${id}`, { token: caller.jwt })).status).toBe(200);
      expect((await api.get(`/api/v1/jobs/${id}/log`, { token: caller.jwt })).text).toContain(
        `ran ${id}`,
      );
      const cancel = await api.delete(`/api/v1/jobs/${id}`, { token: caller.jwt });
      expect(cancel.status).toBe(403);
      expect(messageOf(cancel.body)).toContain(
        `write access to jobs of task 'allowed-task' (job '${id}')`,
      );
    });

    it('job of another task is 403', async () => {
      const id = await launchJob(admin, 'other-task');
      const caller = await createCaller(admin, uniqueName('reader'), [
        { resource: 'jobs', access: 'read', resource_ids: ['allowed-task'] },
      ]);
      const response = await api.get(`/api/v1/jobs/${id}`, { token: caller.jwt });

      expect(response.status).toBe(403);
      expect(messageOf(response.body)).toContain("task 'other-task'");
    });

    it('job id with a known task prefix is not trusted', async () => {
      const caller = await createCaller(admin, uniqueName('reader'), [
        { resource: 'jobs', access: 'read', resource_ids: ['allowed-task'] },
      ]);
      const response = await api.get('/api/v1/jobs/allowed-task-zzzzz', { token: caller.jwt });

      expect(response.status).toBe(404);
    });

    it('missing job is 403 without jobs access', async () => {
      const caller = await createCaller(admin, uniqueName('nobody'));
      const response = await api.get('/api/v1/jobs/allowed-task-zzzzz', { token: caller.jwt });

      expect(response.status).toBe(403);
    });

    it('job list is filtered with its total', async () => {
      await launchJob(admin, 'other-task');
      const caller = await createCaller(admin, uniqueName('lister'), [
        { resource: 'jobs', access: 'read', resource_ids: ['allowed-task'] },
      ]);
      const all = await admin.get('/api/v1/jobs?limit=1000');
      const mine = await api.get('/api/v1/jobs?limit=1', { token: caller.jwt });
      const expectedTotal = all.body.filter(
        (job: { task: string }) => job.task === 'allowed-task',
      ).length;

      expect(mine.status).toBe(200);
      expect(mine.body).toHaveLength(1);
      expect(mine.body[0].task).toBe('allowed-task');
      expect(mine.headers.get('x-total-count')).toBe(String(expectedTotal));
      expect(Number(all.headers.get('x-total-count'))).toBeGreaterThan(expectedTotal);
    });

    it('filtering by another task is empty', async () => {
      const caller = await createCaller(admin, uniqueName('lister'), [
        { resource: 'jobs', access: 'read', resource_ids: ['allowed-task'] },
      ]);
      const response = await api.get('/api/v1/jobs?task=other-task', { token: caller.jwt });

      expect(response.body).toEqual([]);
      expect(response.headers.get('x-total-count')).toBe('0');
    });

    it('task list is filtered', async () => {
      const caller = await createCaller(admin, uniqueName('lister'), [
        { resource: 'tasks', access: 'read', resource_ids: ['other-task', 'no-such-task'] },
      ]);
      const response = await api.get('/api/v1/tasks', { token: caller.jwt });

      expect(response.body.map((task: { name: string }) => task.name)).toEqual(['other-task']);
      expect(response.headers.get('x-total-count')).toBe('1');
    });

    it('collection write needs every id', async () => {
      const caller = await createCaller(admin, uniqueName('creator'), [
        { resource: 'runners', access: 'write', resource_ids: ['new-runner'] },
      ]);
      const response = await api.post(
        '/api/v1/runners',
        { name: 'new-runner', image: 'alpine', gitURL: 'https://example.com/r.git' },
        { token: caller.jwt },
      );

      expect(response.status).toBe(403);
      expect(messageOf(response.body)).toContain('all of runners');
    });

    it('group bindings apply to members', async () => {
      const caller = await createCaller(admin, uniqueName('member'));
      await admin.post('/api/v1/groups', { name: 'task-readers' });
      await admin.post('/api/v1/groups/task-readers/users', [{ name: caller.username }]);
      await bindRoles(admin, { kind: 'groups', name: 'task-readers' }, [
        { resource: 'tasks', access: 'read', resource_ids: ['allowed-task'] },
      ]);

      expect((await api.get('/api/v1/tasks/allowed-task', { token: caller.jwt })).status).toBe(200);
      expect((await api.get('/api/v1/tasks/other-task', { token: caller.jwt })).status).toBe(403);

      await admin.request('DELETE', '/api/v1/groups/task-readers/users', {
        body: [{ name: caller.username }],
      });
      expect((await api.get('/api/v1/tasks/allowed-task', { token: caller.jwt })).status).toBe(403);
    });

    it('star resource grants every resource', async () => {
      const caller = await createCaller(admin, uniqueName('auditor'), [
        { resource: '*', access: 'read', resource_ids: ['*'] },
      ]);

      expect((await api.get('/api/v1/runners/identity-runner', { token: caller.jwt })).status).toBe(
        200,
      );
      expect((await api.get('/api/v1/roles/Admin', { token: caller.jwt })).status).toBe(200);
      expect(
        (
          await api.patch(
            '/api/v1/tasks/allowed-task',
            { command: './ok.sh' },
            { token: caller.jwt },
          )
        ).status,
      ).toBe(403);
    });
  });

  describe('api tokens', () => {
    it('token is shown once and hashed', async () => {
      const created = await admin.post('/api/v1/api_tokens', { description: 'ci' });
      const listed = await admin.get('/api/v1/api_tokens');

      expect(created.status).toBe(200);
      expect(created.body.token).toMatch(/^kri_[0-9A-Za-z]{32,}$/);
      expect(listed.text).not.toContain(created.body.token);
      expect(listed.body.map((token: { id: string }) => token.id)).toContain(created.body.id);
    });

    it('Token header ignores case', async () => {
      const created = await admin.post('/api/v1/api_tokens', {});
      const response = await api.get('/api/v1/roles/Admin', {
        token: null,
        headers: { TOKEN: created.body.token },
      });

      expect(response.status).toBe(200);
    });

    it('token acts with owner permissions', async () => {
      const caller = await createCaller(admin, uniqueName('scoped'), [
        { resource: 'tasks', access: 'read', resource_ids: ['allowed-task'] },
      ]);
      const headers = { token: caller.apiToken };

      expect((await api.get('/api/v1/tasks/allowed-task', { token: null, headers })).status).toBe(
        200,
      );
      expect((await api.get('/api/v1/tasks/other-task', { token: null, headers })).status).toBe(
        403,
      );
    });

    it('disabled token is 401', async () => {
      const created = await admin.post('/api/v1/api_tokens', { enabled: false });
      const response = await api.get('/api/v1/api_tokens', {
        token: null,
        headers: { token: created.body.token },
      });
      await admin.patch(`/api/v1/api_tokens/${created.body.id}`, { enabled: true });
      const enabled = await api.get('/api/v1/api_tokens', {
        token: null,
        headers: { token: created.body.token },
      });

      expect(response.status).toBe(401);
      expect(enabled.status).toBe(200);
    });

    it('expired token is 401', async () => {
      const expires = new Date(Date.now() + 1500).toISOString();
      const created = await admin.post('/api/v1/api_tokens', { expires });
      const headers = { token: created.body.token };

      expect(created.body.expires).toBe(expires);
      expect((await api.get('/api/v1/api_tokens', { token: null, headers })).status).toBe(200);
      await sleep(1700);
      expect((await api.get('/api/v1/api_tokens', { token: null, headers })).status).toBe(401);
    });

    it('past expiry is 400', async () => {
      const response = await admin.post('/api/v1/api_tokens', { expires: '2001-01-01T00:00:00Z' });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('in the past');
    });

    it('invalid expiry is 400', async () => {
      const response = await admin.post('/api/v1/api_tokens', { expires: 'tomorrow' });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('RFC 3339');
    });

    it('deleted token is 401', async () => {
      const created = await admin.post('/api/v1/api_tokens', {});
      const deleted = await admin.delete(`/api/v1/api_tokens/${created.body.id}`);
      const response = await api.get('/api/v1/api_tokens', {
        token: null,
        headers: { token: created.body.token },
      });

      expect(deleted.status).toBe(200);
      expect(response.status).toBe(401);
    });

    it('unknown token is 401', async () => {
      const response = await api.get('/api/v1/api_tokens', {
        token: null,
        headers: { token: `kri_${'a'.repeat(43)}` },
      });

      expect(response.status).toBe(401);
    });

    it('other users cannot change a token', async () => {
      const created = await admin.post('/api/v1/api_tokens', {});
      const caller = await createCaller(admin, uniqueName('meddler'));
      const response = await api.delete(`/api/v1/api_tokens/${created.body.id}`, {
        token: caller.jwt,
      });

      expect(response.status).toBe(403);
      expect(messageOf(response.body)).toContain(`api_tokens '${created.body.id}'`);
    });

    it('owner can delete own token', async () => {
      const caller = await createCaller(admin, uniqueName('owner'));
      const own = await api.get('/api/v1/api_tokens', { token: caller.jwt });
      const response = await api.delete(`/api/v1/api_tokens/${own.body[0].id}`, {
        token: caller.jwt,
      });

      expect(response.status).toBe(200);
    });

    it('all tokens need api_tokens read', async () => {
      const caller = await createCaller(admin, uniqueName('plain'));
      const forbidden = await api.get('/api/v1/api_tokens/all', { token: caller.jwt });
      const all = await admin.get('/api/v1/api_tokens/all');

      expect(forbidden.status).toBe(403);
      expect(all.status).toBe(200);
      expect(all.body.map((token: { owner: string }) => token.owner)).toContain(caller.username);
    });
  });

  describe('jwt hardening', () => {
    let claims: Record<string, unknown>;

    beforeAll(() => {
      claims = decodePayload(admin.token!);
    });

    it('token carries exp', () => {
      expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    });

    it('HS256 with the secret works', async () => {
      const response = await api.get('/api/v1/refresh', { token: signHmac(claims, 'HS256') });

      expect(response.status).toBe(200);
    });

    it.each([
      ['HS512', () => signHmac(claims, 'HS512')],
      ['RS256', () => signRs256(claims)],
      ['none', () => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`],
      [
        'expired',
        () =>
          signHmac(
            {
              ...claims,
              iat: Math.floor(Date.now() / 1000) - 7200,
              exp: Math.floor(Date.now() / 1000) - 60,
            },
            'HS256',
          ),
      ],
    ])('%s token is 401', async (_case, build) => {
      const token = build();

      expect((await api.get('/api/v1/refresh', { token })).status).toBe(401);
      expect(
        (await api.get('/api/v1/refresh', { token: null, headers: { cookie: `token=${token}` } }))
          .status,
      ).toBe(401);
    });

    it('cookie is Secure when configured', async () => {
      const response = await api.post(
        '/api/v1/login',
        { username: 'root', password: ROOT_PASSWORD },
        { token: null },
      );
      const cookie = response.headers.getSetCookie().find((header) => header.startsWith('token='));

      expect(cookie).toMatch(/;\s*Secure/i);
      expect(cookie).toMatch(/;\s*HttpOnly/i);
      expect(cookie).toMatch(/;\s*SameSite=Strict/i);
    });
  });
});

describe('login rate limit', () => {
  let server: KritenServer;
  let api: ApiClient;

  /** Sends a login with a wrong password as if from the given client address. */
  function attempt(username: string, address: string) {
    return api.post(
      '/api/v1/login',
      { username, password: 'wrong-password' },
      { token: null, headers: { 'x-forwarded-for': address } },
    );
  }

  beforeAll(async () => {
    // One trusted proxy hop: the client address comes from X-Forwarded-For, so one test
    // process can log in from several addresses.
    server = await KritenServer.start({
      env: { KRITEN_LOGIN_RATE_LIMIT: '3', KRITEN_TRUST_PROXY: '1' },
    });
    api = new ApiClient(server.baseUrl);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
  });

  it('username limit spans addresses', async () => {
    const statuses: number[] = [];
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      statuses.push((await attempt('root', address)).status);
    }
    const limited = await api.post(
      '/api/v1/login',
      { username: 'root', password: ROOT_PASSWORD },
      { token: null, headers: { 'x-forwarded-for': '10.0.0.4' } },
    );

    expect(statuses).toEqual([401, 401, 401]);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect([...limited.headers.keys()].filter((name) => name.startsWith('retry-after'))).toEqual([
      'retry-after',
    ]);
    expect(messageOf(limited.body)).toContain("too many login attempts for username 'root'");
    expect(messageOf(limited.body)).toContain('at most 3 per minute');
  });

  it('address limit spans usernames', async () => {
    const statuses: number[] = [];
    for (const username of ['alpha', 'bravo', 'charlie']) {
      statuses.push((await attempt(username, '10.0.1.1')).status);
    }
    const limited = await attempt('delta', '10.0.1.1');

    expect(statuses).toEqual([401, 401, 401]);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(messageOf(limited.body)).toContain(
      'too many login attempts for client address 10.0.1.1',
    );
  });

  it('other addresses and usernames still log in', async () => {
    const response = await attempt('echo', '10.0.2.1');

    expect(response.status).toBe(401);
  });

  it('other routes are not limited', async () => {
    const response = await api.get('/api/v1/runners', { token: null });

    expect(response.status).toBe(401);
  });
});
