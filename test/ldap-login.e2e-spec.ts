import { Attribute, Change } from 'ldapts';
import { ApiClient } from './support/http-client';
import { DatabaseTarget, databaseTargets } from './support/databases';
import { waitFor } from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD, startExpectingFailure } from './support/kriten-server';
import {
  BASE_DN,
  SERVICE_DN,
  SERVICE_PASSWORD,
  Slapd,
  freePort,
  groupDn,
  userDn,
} from './support/slapd';

const LOGIN = '/api/v1/login';

const DIRECTORY = {
  users: [
    { username: 'alice', password: 'alice-password' },
    { username: 'bob', password: 'bob-password' },
    { username: 'carol', password: 'carol-password' },
  ],
  groups: [
    { name: 'developers', memberUsers: ['alice', 'bob'] },
    { name: 'operators', memberUsers: ['alice'] },
    { name: 'platform', memberGroups: ['developers'] },
    { name: 'engineering', memberGroups: ['platform'] },
    { name: 'finance', memberUsers: ['carol'] },
  ],
};

/** Settings for a Kriten server that logs in against the test directory. */
function ldapEnv(url: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KRITEN_LDAP_URL: url,
    KRITEN_LDAP_BIND_DN: SERVICE_DN,
    KRITEN_LDAP_BIND_PASSWORD: SERVICE_PASSWORD,
    KRITEN_LDAP_BASE_DN: BASE_DN,
    KRITEN_LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(uid={username}))',
    KRITEN_LDAP_USERNAME_ATTRIBUTE: 'uid',
    KRITEN_LDAP_CONNECT_TIMEOUT_MS: '2000',
    KRITEN_LDAP_TIMEOUT_MS: '5000',
    ...overrides,
  };
}

function directoryLogin(api: ApiClient, username: string, password: string, requestId?: string) {
  return api.post(
    LOGIN,
    { username, password, provider: 'active_directory' },
    { token: null, headers: requestId ? { 'x-request-id': requestId } : {} },
  );
}

async function asDirectoryUser(server: KritenServer, username: string, password: string) {
  const client = new ApiClient(server.baseUrl);
  const response = await directoryLogin(client, username, password);
  if (response.status !== 200) {
    throw new Error(`login of ${username} failed with ${response.status}: ${response.text}`);
  }
  client.token = response.body.token;
  return client;
}

describe.each(databaseTargets())('directory login on $name', (target: DatabaseTarget) => {
  let slapd: Slapd;
  let server: KritenServer;
  let databaseUrl: string | undefined;
  let root: ApiClient;

  beforeAll(async () => {
    slapd = await Slapd.start(DIRECTORY);
    databaseUrl = await target.create();
    server = await KritenServer.start({ databaseUrl, env: ldapEnv(slapd.url) });
    root = new ApiClient(server.baseUrl);
    await root.login('root', ROOT_PASSWORD);

    // engineering contains alice and bob only through platform and developers.
    for (const request of [
      () => root.post('/api/v1/groups', { name: 'engineering', provider: 'active_directory' }),
      () =>
        root.post('/api/v1/roles', {
          name: 'runner-readers',
          resource: 'runners',
          resource_ids: ['*'],
          access: 'read',
        }),
      () =>
        root.post('/api/v1/role_bindings', {
          name: 'engineering-reads-runners',
          role_name: 'runner-readers',
          subject_kind: 'groups',
          subject_name: 'engineering',
          subject_provider: 'active_directory',
        }),
    ]) {
      const response = await request();
      if (response.status !== 200) {
        throw new Error(`setup failed with ${response.status}: ${response.text}`);
      }
    }
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await target.drop(databaseUrl);
    await slapd?.stop();
  });

  it('directory login returns a token', async () => {
    const response = await directoryLogin(root, 'alice', 'alice-password');

    expect(response.status).toBe(200);
    expect(response.body.token.split('.')).toHaveLength(3);
  });

  it('login records user with its groups', async () => {
    await asDirectoryUser(server, 'alice', 'alice-password');
    const users = await root.get('/api/v1/users');
    const alice = users.body.find(
      (user: { username: string; provider: string }) =>
        user.username === 'alice' && user.provider === 'active_directory',
    );

    expect(alice).toBeDefined();
    expect(alice.directory_groups).toEqual(['developers', 'engineering', 'operators', 'platform']);
  });

  it('nested group grants its role', async () => {
    const alice = await asDirectoryUser(server, 'alice', 'alice-password');

    const response = await alice.get('/api/v1/runners');

    expect(response.status).toBe(200);
  });

  it('grant stops at the role', async () => {
    const alice = await asDirectoryUser(server, 'alice', 'alice-password');

    const response = await alice.post('/api/v1/runners', {
      name: 'not-allowed',
      image: 'alpine:3.20',
      gitURL: 'https://example.com/repo.git',
    });

    expect(response.status).toBe(403);
  });

  it('user outside the group is forbidden', async () => {
    const carol = await asDirectoryUser(server, 'carol', 'carol-password');

    const response = await carol.get('/api/v1/runners');

    expect(response.status).toBe(403);
  });

  it('local user of the same name is another user', async () => {
    const created = await root.post('/api/v1/users', {
      username: 'carol',
      password: 'local-carol-password',
    });
    const local = await root.post(
      LOGIN,
      { username: 'carol', password: 'carol-password' },
      { token: null },
    );

    expect(created.status).toBe(200);
    expect(local.status).toBe(401);
  });

  it('wrong password is 401 and audited', async () => {
    const requestId = `ldap-wrong-password-${target.name}`;
    const response = await directoryLogin(root, 'alice', 'not-her-password', requestId);

    expect(response.status).toBe(401);
    expect(response.body.message).toBe('invalid username or password');
    const record = await waitFor('the audit record of the failed login', async () => {
      const records = await root.get('/api/v1/audit_logs?action=login&outcome=failure');
      return records.body.find((entry: { request_id: string }) => entry.request_id === requestId);
    });
    expect(record.user).toBe('alice');
    expect(record.provider).toBe('active_directory');
    expect(record.status_code).toBe(401);
    expect(record.reason).toBe('invalid username or password');
    expect(JSON.stringify(record)).not.toContain('not-her-password');
    expect(server.logs).not.toContain('not-her-password');
  });

  it('unknown user is 401', async () => {
    const response = await directoryLogin(root, 'mallory', 'alice-password');

    expect(response.status).toBe(401);
    expect(response.body.message).toBe('invalid username or password');
  });

  it.each([['*)(uid=*'], ['*'], ['alice)(|(uid=*']])(
    'filter injection %j is 401',
    async (username) => {
      const response = await directoryLogin(root, username, 'alice-password');

      expect(response.status).toBe(401);
    },
  );

  it('empty password is 401', async () => {
    const response = await directoryLogin(root, 'alice', '');

    expect(response.status).toBe(401);
    expect(response.body.message).toBe('invalid username or password');
  });

  it('group removal takes rights at next login', async () => {
    const before = await asDirectoryUser(server, 'bob', 'bob-password');
    expect((await before.get('/api/v1/runners')).status).toBe(200);

    await slapd.admin((client) =>
      client.modify(
        groupDn('developers'),
        new Change({
          operation: 'delete',
          modification: new Attribute({ type: 'member', values: [userDn('bob')] }),
        }),
      ),
    );
    const after = await asDirectoryUser(server, 'bob', 'bob-password');

    expect((await after.get('/api/v1/runners')).status).toBe(403);
  });

  it('no directory password in the log', async () => {
    for (const user of DIRECTORY.users) {
      expect(server.logs).not.toContain(user.password);
    }
    expect(server.logs).not.toContain(SERVICE_PASSWORD);
  });

  // Runs last: it removes the service account from the shared directory.
  it('removed service account is 503', async () => {
    await slapd.deleteEntry(SERVICE_DN);

    const response = await directoryLogin(root, 'alice', 'alice-password');
    const local = await root.post(LOGIN, { username: 'root', password: ROOT_PASSWORD });

    expect(response.status).toBe(503);
    expect(response.body.message).toContain('server configuration problem');
    expect(response.body.message).toContain(SERVICE_DN);
    expect(local.status).toBe(200);
  });
});

describe('directory login failures', () => {
  let slapd: Slapd;
  let wrongBindPassword: KritenServer;
  let unreachable: KritenServer;
  let unconfigured: KritenServer;
  let unreachableUrl: string;

  beforeAll(async () => {
    slapd = await Slapd.start(DIRECTORY);
    unreachableUrl = `ldap://127.0.0.1:${await freePort()}`;
    [wrongBindPassword, unreachable, unconfigured] = await Promise.all([
      KritenServer.start({
        env: ldapEnv(slapd.url, { KRITEN_LDAP_BIND_PASSWORD: 'not-the-service-password' }),
      }),
      KritenServer.start({ env: ldapEnv(unreachableUrl) }),
      KritenServer.start(),
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const server of [wrongBindPassword, unreachable, unconfigured]) {
      await server?.stop();
      server?.removeDataDir();
    }
    await slapd?.stop();
  });

  it('wrong service password is 503', async () => {
    const api = new ApiClient(wrongBindPassword.baseUrl);

    const response = await directoryLogin(api, 'alice', 'alice-password');

    expect(response.status).toBe(503);
    expect(response.body.message).toContain('server configuration problem');
    expect(response.body.message).toContain('KRITEN_LDAP_BIND_PASSWORD');
    expect(response.body.message).not.toContain('not-the-service-password');
    expect(wrongBindPassword.logs).not.toContain('not-the-service-password');
  });

  it('unreachable directory is 503', async () => {
    const api = new ApiClient(unreachable.baseUrl);

    const response = await directoryLogin(api, 'alice', 'alice-password');

    expect(response.status).toBe(503);
    expect(response.body.message).toContain(`directory at ${unreachableUrl} could not be reached`);
    expect(response.body.message).toContain('provider "local"');
  });

  it('local login works while directory is down', async () => {
    const api = new ApiClient(unreachable.baseUrl);

    const response = await api.post(LOGIN, {
      username: 'root',
      password: ROOT_PASSWORD,
      provider: 'local',
    });

    expect(response.status).toBe(200);
  });

  it('unconfigured provider is 400', async () => {
    const api = new ApiClient(unconfigured.baseUrl);

    const response = await directoryLogin(api, 'alice', 'alice-password');

    expect(response.status).toBe(400);
    expect(response.body.message).toContain('provider active_directory is not configured');
  });
});

describe('directory login over ldaps', () => {
  let slapd: Slapd;
  let trusting: KritenServer;
  let distrusting: KritenServer;

  beforeAll(async () => {
    slapd = await Slapd.start({ ...DIRECTORY, tls: true });
    [trusting, distrusting] = await Promise.all([
      KritenServer.start({ env: ldapEnv(slapd.url, { KRITEN_LDAP_CA_FILE: slapd.caFile }) }),
      KritenServer.start({ env: ldapEnv(slapd.url) }),
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const server of [trusting, distrusting]) {
      await server?.stop();
      server?.removeDataDir();
    }
    await slapd?.stop();
  });

  it('configured CA file logs in', async () => {
    const response = await directoryLogin(
      new ApiClient(trusting.baseUrl),
      'alice',
      'alice-password',
    );

    expect(response.status).toBe(200);
  });

  it('untrusted certificate is 503', async () => {
    const response = await directoryLogin(
      new ApiClient(distrusting.baseUrl),
      'alice',
      'alice-password',
    );

    expect(response.status).toBe(503);
    expect(response.body.message).toContain('server configuration problem');
    expect(response.body.message).toContain('KRITEN_LDAP_CA_FILE');
  });
});

describe('directory settings', () => {
  it.each([
    [{ KRITEN_LDAP_URL: 'http://127.0.0.1:389' }, 'invalid KRITEN_LDAP_URL'],
    [{ KRITEN_LDAP_URL: 'ldap://user:secret@127.0.0.1' }, 'invalid KRITEN_LDAP_URL'],
    [{ KRITEN_LDAP_URL: 'ldap://127.0.0.1/dc=example' }, 'invalid KRITEN_LDAP_URL'],
    [{ KRITEN_LDAP_BASE_DN: '' }, 'KRITEN_LDAP_BASE_DN is missing'],
    [{ KRITEN_LDAP_BIND_PASSWORD: '' }, 'KRITEN_LDAP_BIND_PASSWORD is missing'],
    [{ KRITEN_LDAP_USER_FILTER: '(uid=alice)' }, 'invalid KRITEN_LDAP_USER_FILTER'],
    [{ KRITEN_LDAP_GROUP_ATTRIBUTE: 'member of' }, 'invalid KRITEN_LDAP_GROUP_ATTRIBUTE'],
    [{ KRITEN_LDAP_NESTED_GROUPS: 'deep' }, 'invalid KRITEN_LDAP_NESTED_GROUPS'],
    [{ KRITEN_LDAP_TIMEOUT_MS: '5s' }, 'invalid KRITEN_LDAP_TIMEOUT_MS'],
    [{ KRITEN_LDAP_CA_FILE: '/nonexistent/ca.pem' }, 'invalid KRITEN_LDAP_CA_FILE'],
    [{ KRITEN_TRUST_PROXY: 'everyone' }, 'invalid KRITEN_TRUST_PROXY'],
  ])('invalid setting %j stops the start', async (override, message) => {
    const { code, output } = await startExpectingFailure({
      ...ldapEnv('ldaps://127.0.0.1:636'),
      ...override,
    });

    expect(code).toBe(1);
    expect(output).toContain(message);
    expect(output).not.toContain(SERVICE_PASSWORD);
  });
});
