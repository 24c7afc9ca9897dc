import { readFileSync } from 'node:fs';
import { Server, Socket, createServer } from 'node:net';
import {
  DirectoryError,
  LdapDirectory,
  LdapSettings,
} from '../apps/kriten/src/directory/ldap-directory';
import {
  BASE_DN,
  SERVICE_DN,
  SERVICE_PASSWORD,
  Slapd,
  SlapdOptions,
  freePort,
  userDn,
} from './support/slapd';

const DIRECTORY: SlapdOptions = {
  users: [
    { username: 'alice', password: 'alice-password' },
    { username: 'bob', password: 'bob-password' },
    { username: 'carol', password: 'carol-password' },
  ],
  groups: [
    { name: 'developers', memberUsers: ['alice', 'bob'] },
    { name: 'operators', memberUsers: ['alice'] },
    // platform contains developers, and engineering contains platform: alice and bob are in both.
    { name: 'platform', memberGroups: ['developers'] },
    { name: 'engineering', memberGroups: ['platform'] },
    { name: 'finance', memberUsers: ['carol'] },
  ],
};

function settingsFor(url: string, overrides: Partial<LdapSettings> = {}): LdapSettings {
  return {
    url,
    bindDn: SERVICE_DN,
    bindPassword: SERVICE_PASSWORD,
    baseDn: BASE_DN,
    userFilter: '(&(objectClass=inetOrgPerson)(uid={username}))',
    usernameAttribute: 'uid',
    groupAttribute: 'memberOf',
    nestedGroups: 'search',
    connectTimeoutMs: 2000,
    timeoutMs: 5000,
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<DirectoryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DirectoryError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe.each([
  { overlay: false, label: 'without memberOf' },
  { overlay: true, label: 'with the memberof overlay' },
])('LDAP directory $label', ({ overlay }) => {
  let slapd: Slapd;
  let directory: LdapDirectory;

  beforeAll(async () => {
    slapd = await Slapd.start({ ...DIRECTORY, memberOfOverlay: overlay });
    directory = new LdapDirectory(settingsFor(slapd.url));
  }, 30_000);

  afterAll(async () => {
    await slapd?.stop();
  });

  it('user gets direct and nested groups', async () => {
    const account = await directory.authenticate('alice', 'alice-password');

    expect(account.username).toBe('alice');
    expect(account.dn).toBe(userDn('alice'));
    expect(account.groups).toEqual(['developers', 'engineering', 'operators', 'platform']);
  });

  it('groups of another user differ', async () => {
    const account = await directory.authenticate('carol', 'carol-password');

    expect(account.groups).toEqual(['finance']);
  });

  it('nesting off keeps only the group attribute', async () => {
    const flat = new LdapDirectory(settingsFor(slapd.url, { nestedGroups: 'off' }));

    const account = await flat.authenticate('alice', 'alice-password');

    expect(account.groups).toEqual(overlay ? ['developers', 'operators'] : []);
  });

  it('wrong password is invalid credentials', async () => {
    const error = await failureOf(directory.authenticate('alice', 'wrong'));

    expect(error.failure).toBe('invalid_credentials');
    expect(error.message).toBe('invalid username or password');
  });

  it('unknown user is invalid credentials', async () => {
    const error = await failureOf(directory.authenticate('mallory', 'alice-password'));

    expect(error.failure).toBe('invalid_credentials');
  });

  it('empty password is rejected before a bind', async () => {
    const error = await failureOf(directory.authenticate('alice', ''));

    expect(error.failure).toBe('invalid_credentials');
  });

  it.each([['*)(uid=*'], ['*'], ['alice)(|(uid=*'], ['al*'], ['\\2a']])(
    'filter injection %j matches nobody',
    async (username) => {
      const error = await failureOf(directory.authenticate(username, 'alice-password'));

      expect(error.failure).toBe('invalid_credentials');
    },
  );

  it('filter matching several users is rejected', async () => {
    const loose = new LdapDirectory(
      settingsFor(slapd.url, { userFilter: '(|(uid={username})(objectClass=inetOrgPerson))' }),
    );

    const error = await failureOf(loose.authenticate('alice', 'alice-password'));

    expect(error.failure).toBe('invalid_credentials');
  });

  it('wrong service password is misconfigured', async () => {
    const broken = new LdapDirectory(settingsFor(slapd.url, { bindPassword: 'not-the-password' }));

    const error = await failureOf(broken.authenticate('alice', 'alice-password'));

    expect(error.failure).toBe('misconfigured');
    expect(error.message).toContain(SERVICE_DN);
    expect(error.message).toContain('KRITEN_LDAP_BIND_PASSWORD');
    expect(error.message).not.toContain('not-the-password');
  });

  it('missing base DN is misconfigured', async () => {
    const wrongBase = new LdapDirectory(
      settingsFor(slapd.url, { baseDn: 'ou=nowhere,dc=example,dc=test' }),
    );

    const error = await failureOf(wrongBase.authenticate('alice', 'alice-password'));

    expect(error.failure).toBe('misconfigured');
    expect(error.message).toContain('ou=nowhere');
  });

  it('refused connection is unreachable', async () => {
    const url = `ldap://127.0.0.1:${await freePort()}`;
    const unreachable = new LdapDirectory(settingsFor(url));

    const error = await failureOf(unreachable.authenticate('alice', 'alice-password'));

    expect(error.failure).toBe('unreachable');
    expect(error.message).toContain(`directory at ${url} could not be reached`);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('silent server is unreachable after the timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const url = `ldap://127.0.0.1:${port}`;

    try {
      const slow = new LdapDirectory(settingsFor(url, { timeoutMs: 300 }));
      const error = await failureOf(slow.authenticate('alice', 'alice-password'));

      expect(error.failure).toBe('unreachable');
      expect(error.message).toContain(`directory at ${url} could not be reached`);
      expect(error.message).toContain('timed out');
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('LDAP directory over ldaps', () => {
  let slapd: Slapd;

  beforeAll(async () => {
    slapd = await Slapd.start({ ...DIRECTORY, tls: true });
  }, 30_000);

  afterAll(async () => {
    await slapd?.stop();
  });

  it('trusted CA logs in', async () => {
    const directory = new LdapDirectory(
      settingsFor(slapd.url, { tls: { ca: readFileSync(slapd.caFile) } }),
    );

    const account = await directory.authenticate('alice', 'alice-password');

    expect(slapd.url).toMatch(/^ldaps:/);
    expect(account.groups).toEqual(['developers', 'engineering', 'operators', 'platform']);
  });

  it('unknown CA is misconfigured', async () => {
    const directory = new LdapDirectory(settingsFor(slapd.url, { tls: {} }));

    const error = await failureOf(directory.authenticate('alice', 'alice-password'));

    expect(error.failure).toBe('misconfigured');
    expect(error.message).toContain('TLS certificate');
    expect(error.message).toContain('KRITEN_LDAP_CA_FILE');
  });

  it('unverified certificate is accepted when allowed', async () => {
    const directory = new LdapDirectory(
      settingsFor(slapd.url, { tls: { rejectUnauthorized: false } }),
    );

    const account = await directory.authenticate('bob', 'bob-password');

    expect(account.username).toBe('bob');
  });
});
