import { ApiClient } from './support/http-client';
import { DatabaseTarget, databaseTargets } from './support/databases';
import { GitRepository } from './support/git-repos';
import { createRunner, createTask, launchJob, waitForEnd } from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';
import {
  RoleGrant,
  TRANSPORTS,
  TestCaller,
  Transport,
  createCaller,
  credentials,
  uniqueName,
} from './support/access';

/**
 * Every operation in the server's OpenAPI document must have an entry here. The suite calls each
 * one as every kind of caller over every transport and checks the exact status.
 */
type Kind =
  /** No credentials needed. */
  | 'public'
  /** Any signed-in caller. */
  | 'authenticated'
  /** `access` on `resource`, on the id `id`, or on the collection when `id` is absent. */
  | 'permission';

interface Expectation {
  kind: Kind;
  resource?: string;
  access?: 'read' | 'write';
  /** The id the permission is checked on; absent for a route on a whole collection. */
  id?: string;
  /** The concrete path to call. */
  path: string;
  body?: () => unknown;
  /** The status that an allowed caller gets from the handler. */
  allowed: number;
  /** Only a role with resource_ids ["*"] allows the route, as for records without a natural id. */
  needsAllIds?: boolean;
}

type CallerName = 'none' | 'no roles' | 'read other id' | 'read id' | 'write id' | 'admin';
const CALLER_NAMES: CallerName[] = [
  'none',
  'no roles',
  'read other id',
  'read id',
  'write id',
  'admin',
];

const RUNNER = 'matrix-runner';
const TASK = 'matrix-task';
const TARGET_USER = 'matrix-target';
const GROUP = 'matrix-group';
const ROLE = 'matrix-role';
const BINDING = 'matrix-binding';
const AUDIT_LOG_ID = 'ghost-audit-log';

/** Builds the expectations once the ids created during setup are known. */
function expectationTable(jobId: string, rootTokenId: string): Record<string, Expectation> {
  const members = () => [{ name: TARGET_USER, provider: 'local' }];
  return {
    'POST /api/v1/login': {
      kind: 'public',
      path: '/api/v1/login',
      body: () => ({ username: 'root', password: ROOT_PASSWORD }),
      allowed: 200,
    },
    'GET /api/v1/refresh': { kind: 'authenticated', path: '/api/v1/refresh', allowed: 200 },
    'GET /healthz': { kind: 'public', path: '/healthz', allowed: 200 },
    'GET /readyz': { kind: 'public', path: '/readyz', allowed: 200 },

    'GET /api/v1/runners': permission('runners', 'read', undefined, '/api/v1/runners', 200),
    'POST /api/v1/runners': permission(
      'runners',
      'write',
      undefined,
      '/api/v1/runners',
      200,
      () => ({
        name: uniqueName('runner'),
        image: 'alpine:3.20',
        gitURL: 'https://git.example.com/scripts.git',
      }),
    ),
    'GET /api/v1/runners/{name}': permission(
      'runners',
      'read',
      RUNNER,
      `/api/v1/runners/${RUNNER}`,
      200,
    ),
    'PATCH /api/v1/runners/{name}': permission(
      'runners',
      'write',
      RUNNER,
      `/api/v1/runners/${RUNNER}`,
      200,
      () => ({ image: 'alpine:3.21' }),
    ),
    'DELETE /api/v1/runners/{name}': permission(
      'runners',
      'write',
      'ghost-runner',
      '/api/v1/runners/ghost-runner',
      404,
    ),
    'GET /api/v1/runners/{name}/secret': permission(
      'runners',
      'read',
      RUNNER,
      `/api/v1/runners/${RUNNER}/secret`,
      200,
    ),
    'POST /api/v1/runners/{name}/secret': permission(
      'runners',
      'write',
      RUNNER,
      `/api/v1/runners/${RUNNER}/secret`,
      200,
      () => ({ region: 'eu' }),
    ),
    'DELETE /api/v1/runners/{name}/secret': permission(
      'runners',
      'write',
      RUNNER,
      `/api/v1/runners/${RUNNER}/secret`,
      200,
    ),

    'GET /api/v1/tasks': permission('tasks', 'read', undefined, '/api/v1/tasks', 200),
    'POST /api/v1/tasks': permission('tasks', 'write', undefined, '/api/v1/tasks', 200, () => ({
      name: uniqueName('task'),
      runner: RUNNER,
      command: 'true',
    })),
    'GET /api/v1/tasks/{name}': permission('tasks', 'read', TASK, `/api/v1/tasks/${TASK}`, 200),
    'PATCH /api/v1/tasks/{name}': permission(
      'tasks',
      'write',
      TASK,
      `/api/v1/tasks/${TASK}`,
      200,
      () => ({
        command: 'true',
      }),
    ),
    'DELETE /api/v1/tasks/{name}': permission(
      'tasks',
      'write',
      'ghost-task',
      '/api/v1/tasks/ghost-task',
      404,
    ),
    'GET /api/v1/tasks/{name}/schema': permission(
      'tasks',
      'read',
      TASK,
      `/api/v1/tasks/${TASK}/schema`,
      200,
    ),
    'POST /api/v1/tasks/{name}/schema': permission(
      'tasks',
      'write',
      TASK,
      `/api/v1/tasks/${TASK}/schema`,
      200,
      () => ({ type: 'object' }),
    ),
    'DELETE /api/v1/tasks/{name}/schema': permission(
      'tasks',
      'write',
      TASK,
      `/api/v1/tasks/${TASK}/schema`,
      200,
    ),
    'GET /api/v1/tasks/{name}/secret': permission(
      'tasks',
      'read',
      TASK,
      `/api/v1/tasks/${TASK}/secret`,
      200,
    ),
    'POST /api/v1/tasks/{name}/secret': permission(
      'tasks',
      'write',
      TASK,
      `/api/v1/tasks/${TASK}/secret`,
      200,
      () => ({ region: 'eu' }),
    ),
    'DELETE /api/v1/tasks/{name}/secret': permission(
      'tasks',
      'write',
      TASK,
      `/api/v1/tasks/${TASK}/secret`,
      200,
    ),

    // Permissions on jobs name tasks: the id of a job route is the task recorded on the job.
    'GET /api/v1/jobs': permission('jobs', 'read', undefined, '/api/v1/jobs', 200),
    'POST /api/v1/jobs/{id}': permission(
      'jobs',
      'write',
      TASK,
      `/api/v1/jobs/${TASK}`,
      200,
      () => ({}),
    ),
    'PUT /api/v1/jobs/{id}': permission(
      'jobs',
      'write',
      TASK,
      `/api/v1/jobs/${TASK}`,
      200,
      () => ({}),
    ),
    'GET /api/v1/jobs/{id}': permission('jobs', 'read', TASK, `/api/v1/jobs/${jobId}`, 200),
    'GET /api/v1/jobs/{id}/log': permission('jobs', 'read', TASK, `/api/v1/jobs/${jobId}/log`, 200),
    'GET /api/v1/jobs/{task}/schema': permission(
      'jobs',
      'read',
      TASK,
      `/api/v1/jobs/${TASK}/schema`,
      200,
    ),
    // The job has ended, so an allowed cancel reaches the handler and gets 409.
    'DELETE /api/v1/jobs/{id}': permission('jobs', 'write', TASK, `/api/v1/jobs/${jobId}`, 409),

    'GET /api/v1/users': permission('users', 'read', undefined, '/api/v1/users', 200),
    'POST /api/v1/users': permission('users', 'write', undefined, '/api/v1/users', 200, () => ({
      username: uniqueName('user'),
      password: 'a-long-password',
    })),
    'GET /api/v1/users/{id}': permission(
      'users',
      'read',
      TARGET_USER,
      `/api/v1/users/${TARGET_USER}`,
      200,
    ),
    'PATCH /api/v1/users/{id}': permission(
      'users',
      'write',
      TARGET_USER,
      `/api/v1/users/${TARGET_USER}`,
      200,
      () => ({ password: 'another-long-password' }),
    ),
    'DELETE /api/v1/users/{id}': permission(
      'users',
      'write',
      'ghost-user',
      '/api/v1/users/ghost-user',
      404,
    ),

    'GET /api/v1/groups': permission('groups', 'read', undefined, '/api/v1/groups', 200),
    'POST /api/v1/groups': permission('groups', 'write', undefined, '/api/v1/groups', 200, () => ({
      name: uniqueName('group'),
    })),
    'GET /api/v1/groups/{name}': permission(
      'groups',
      'read',
      GROUP,
      `/api/v1/groups/${GROUP}`,
      200,
    ),
    'DELETE /api/v1/groups/{name}': permission(
      'groups',
      'write',
      'ghost-group',
      '/api/v1/groups/ghost-group',
      404,
    ),
    'GET /api/v1/groups/{name}/users': permission(
      'groups',
      'read',
      GROUP,
      `/api/v1/groups/${GROUP}/users`,
      200,
    ),
    'POST /api/v1/groups/{name}/users': permission(
      'groups',
      'write',
      GROUP,
      `/api/v1/groups/${GROUP}/users`,
      200,
      members,
    ),
    'DELETE /api/v1/groups/{name}/users': permission(
      'groups',
      'write',
      GROUP,
      `/api/v1/groups/${GROUP}/users`,
      200,
      members,
    ),

    'GET /api/v1/roles': permission('roles', 'read', undefined, '/api/v1/roles', 200),
    'POST /api/v1/roles': permission('roles', 'write', undefined, '/api/v1/roles', 200, () => ({
      name: uniqueName('role'),
      resource: 'tasks',
      resource_ids: ['*'],
      access: 'read',
    })),
    'GET /api/v1/roles/{name}': permission('roles', 'read', ROLE, `/api/v1/roles/${ROLE}`, 200),
    'PATCH /api/v1/roles/{name}': permission(
      'roles',
      'write',
      ROLE,
      `/api/v1/roles/${ROLE}`,
      200,
      () => ({
        access: 'read',
      }),
    ),
    'DELETE /api/v1/roles/{name}': permission(
      'roles',
      'write',
      'ghost-role',
      '/api/v1/roles/ghost-role',
      404,
    ),

    'GET /api/v1/role_bindings': permission(
      'role_bindings',
      'read',
      undefined,
      '/api/v1/role_bindings',
      200,
    ),
    'POST /api/v1/role_bindings': permission(
      'role_bindings',
      'write',
      undefined,
      '/api/v1/role_bindings',
      200,
      () => ({
        name: uniqueName('binding'),
        role_name: ROLE,
        subject_kind: 'users',
        subject_name: TARGET_USER,
        subject_provider: 'local',
      }),
    ),
    'GET /api/v1/role_bindings/{name}': permission(
      'role_bindings',
      'read',
      BINDING,
      `/api/v1/role_bindings/${BINDING}`,
      200,
    ),
    'PATCH /api/v1/role_bindings/{name}': permission(
      'role_bindings',
      'write',
      BINDING,
      `/api/v1/role_bindings/${BINDING}`,
      200,
      () => ({ subject_name: TARGET_USER }),
    ),
    'DELETE /api/v1/role_bindings/{name}': permission(
      'role_bindings',
      'write',
      'ghost-binding',
      '/api/v1/role_bindings/ghost-binding',
      404,
    ),

    'GET /api/v1/api_tokens': { kind: 'authenticated', path: '/api/v1/api_tokens', allowed: 200 },
    'POST /api/v1/api_tokens': {
      kind: 'authenticated',
      path: '/api/v1/api_tokens',
      body: () => ({ description: 'matrix' }),
      allowed: 200,
    },
    'GET /api/v1/api_tokens/all': permission(
      'api_tokens',
      'read',
      undefined,
      '/api/v1/api_tokens/all',
      200,
    ),
    // Changing a token is open to its owner (root here, the admin caller) and to api_tokens write.
    'PATCH /api/v1/api_tokens/{id}': permission(
      'api_tokens',
      'write',
      rootTokenId,
      `/api/v1/api_tokens/${rootTokenId}`,
      200,
      () => ({ description: 'root token', enabled: true }),
    ),
    'DELETE /api/v1/api_tokens/{id}': permission(
      'api_tokens',
      'write',
      'ghost-token',
      '/api/v1/api_tokens/ghost-token',
      404,
    ),

    // Audit records have no id a role could name, so reading them needs resource_ids ["*"].
    'GET /api/v1/audit_logs': {
      ...permission('audit_logs', 'read', undefined, '/api/v1/audit_logs', 200),
      needsAllIds: true,
    },
    'GET /api/v1/audit_logs/{id}': {
      ...permission('audit_logs', 'read', undefined, `/api/v1/audit_logs/${AUDIT_LOG_ID}`, 404),
      needsAllIds: true,
    },
  };
}

function permission(
  resource: string,
  access: 'read' | 'write',
  id: string | undefined,
  path: string,
  allowed: number,
  body?: () => unknown,
): Expectation {
  return { kind: 'permission', resource, access, id, path, allowed, body };
}

/** Collects the ids that each resource's routes check, so callers can be granted exactly those. */
function targetsByResource(table: Record<string, Expectation>): Map<string, Set<string>> {
  const targets = new Map<string, Set<string>>();
  for (const expectation of Object.values(table)) {
    if (expectation.kind !== 'permission') {
      continue;
    }
    const ids = targets.get(expectation.resource!) ?? new Set<string>();
    if (expectation.id !== undefined) {
      ids.add(expectation.id);
    }
    targets.set(expectation.resource!, ids);
  }
  // A resource whose routes are all on the collection still needs one id to grant.
  for (const [resource, ids] of targets) {
    if (ids.size === 0) {
      ids.add(`some-${resource}`);
    }
  }
  return targets;
}

/** Returns the status a caller must get, from the route's rule alone. */
function expectedStatus(expectation: Expectation, caller: CallerName): number {
  if (expectation.kind === 'public') {
    return expectation.allowed;
  }
  if (caller === 'none') {
    return 401;
  }
  if (expectation.kind === 'authenticated' || caller === 'admin') {
    return expectation.allowed;
  }
  if (caller === 'no roles' || expectation.needsAllIds) {
    return 403;
  }
  if (expectation.id === undefined) {
    // A list needs read on some id and is filtered; creating needs write on every id.
    return expectation.access === 'read' ? expectation.allowed : 403;
  }
  const allowed = caller === 'write id' || (caller === 'read id' && expectation.access === 'read');
  return allowed ? expectation.allowed : 403;
}

describe.each(databaseTargets())('access matrix on $name', (target: DatabaseTarget) => {
  let server: KritenServer;
  let databaseUrl: string | undefined;
  let admin: ApiClient;
  let table: Record<string, Expectation>;
  let documented: string[];
  const callers = new Map<CallerName, TestCaller>();

  beforeAll(async () => {
    databaseUrl = await target.create();
    server = await KritenServer.start({ databaseUrl });
    admin = new ApiClient(server.baseUrl);
    const rootJwt = await admin.login('root', ROOT_PASSWORD);
    const rootToken = await admin.post('/api/v1/api_tokens', { description: 'matrix root' });

    const repository = GitRepository.create({ 'ok.sh': '#!/bin/sh\necho ok\n' });
    await createRunner(admin, { name: RUNNER, gitURL: repository.url });
    await createTask(admin, { name: TASK, runner: RUNNER, command: './ok.sh' });
    const jobId = await launchJob(admin, TASK);
    await waitForEnd(admin, jobId);
    await admin.post('/api/v1/users', { username: TARGET_USER, password: 'a-long-password' });
    await admin.post('/api/v1/groups', { name: GROUP });
    await admin.post('/api/v1/roles', {
      name: ROLE,
      resource: 'tasks',
      resource_ids: ['*'],
      access: 'read',
    });
    await admin.post('/api/v1/role_bindings', {
      name: BINDING,
      role_name: ROLE,
      subject_kind: 'users',
      subject_name: TARGET_USER,
    });

    table = expectationTable(jobId, rootToken.body.id);
    const targets = targetsByResource(table);
    const grants = (access: 'read' | 'write', ids: (resource: string) => string[]): RoleGrant[] =>
      [...targets.keys()].map((resource) => ({ resource, access, resource_ids: ids(resource) }));

    callers.set('admin', {
      username: 'root',
      password: ROOT_PASSWORD,
      jwt: rootJwt,
      apiToken: rootToken.body.token,
    });
    callers.set('no roles', await createCaller(admin, 'matrix-no-roles'));
    callers.set(
      'read other id',
      await createCaller(
        admin,
        'matrix-read-other',
        grants('read', (resource) => [`other-${resource}`]),
      ),
    );
    callers.set(
      'read id',
      await createCaller(
        admin,
        'matrix-read',
        grants('read', (resource) => [...targets.get(resource)!]),
      ),
    );
    callers.set(
      'write id',
      await createCaller(
        admin,
        'matrix-write',
        grants('write', (resource) => [...targets.get(resource)!]),
      ),
    );

    const document = await admin.get('/swagger/doc.json', { token: null });
    documented = Object.entries(
      document.body.paths as Record<string, Record<string, unknown>>,
    ).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await target.drop(databaseUrl);
  });

  it('every route has an expectation', () => {
    const missing = documented.filter((route) => !(route in table));

    expect(missing.map((route) => `route ${route} has no expectation`)).toEqual([]);
  });

  it('every expectation names a route', () => {
    const stale = Object.keys(table).filter((route) => !documented.includes(route));

    expect(stale.map((route) => `expectation ${route} matches no route`)).toEqual([]);
  });

  it('every caller gets the expected status', async () => {
    const cases: { route: string; caller: CallerName; transport: Transport | 'none' }[] = [];
    for (const route of documented.filter((candidate) => candidate in table)) {
      for (const caller of CALLER_NAMES) {
        const transports: (Transport | 'none')[] = caller === 'none' ? ['none'] : TRANSPORTS;
        for (const transport of transports) {
          cases.push({ route, caller, transport });
        }
      }
    }

    // Calls on one path run one after another, since two writes to one object at once test
    // concurrency, not access; different paths run in parallel.
    const byPath = new Map<string, typeof cases>();
    for (const item of cases) {
      const path = table[item.route].path;
      byPath.set(path, [...(byPath.get(path) ?? []), item]);
    }
    const mismatches: string[] = [];
    const client = new ApiClient(server.baseUrl);
    await Promise.all(
      [...byPath.values()].map(async (pathCases) => {
        for (const { route, caller, transport } of pathCases) {
          const expectation = table[route];
          const method = route.split(' ')[0];
          const headers = transport === 'none' ? {} : credentials(callers.get(caller)!, transport);
          const response = await client.request(method, expectation.path, {
            token: null,
            headers,
            body: expectation.body?.(),
          });
          const expected = expectedStatus(expectation, caller);
          if (response.status !== expected) {
            mismatches.push(
              `${route} as '${caller}' over ${transport}: expected ${expected}, got ${response.status} ${response.text.slice(0, 200)}`,
            );
          }
        }
      }),
    );
    const serverErrors = server.logs.split('\n').filter((line) => /\bERROR\b/.test(line));

    expect(cases.length).toBeGreaterThan(documented.length * 15);
    expect(mismatches.sort()).toEqual([]);
    expect(serverErrors).toEqual([]);
  }, 300_000);

  it('forbidden message names resource, id and access', async () => {
    const response = await new ApiClient(server.baseUrl).get(`/api/v1/runners/${RUNNER}`, {
      token: callers.get('read other id')!.jwt,
    });

    expect(response.status).toBe(403);
    expect(response.body.message).toBe(
      `user 'matrix-read-other' has no read access to runners '${RUNNER}'`,
    );
  });
});
