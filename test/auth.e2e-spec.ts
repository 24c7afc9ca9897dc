import { createHmac } from 'node:crypto';
import { ApiClient } from './support/http-client';
import { DatabaseTarget, databaseTargets } from './support/databases';
import { KritenServer, ROOT_PASSWORD, startExpectingFailure } from './support/kriten-server';

const PROTECTED_ROUTE = '/api/v1/runners';
const GENERATED_PASSWORD_LINE = /created user root with the generated password: (\S+)/g;

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** Builds an HS256 JWT with the given claims, signed with a key the server does not know. */
function signWithOtherSecret(claims: Record<string, unknown>): string {
  const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}`;
  const signature = createHmac('sha256', 'a-secret-the-server-never-saw')
    .update(unsigned)
    .digest('base64url');
  return `${unsigned}.${signature}`;
}

/** Builds an unsigned JWT (`alg: none`) with the given claims. */
function unsignedToken(claims: Record<string, unknown>): string {
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
}

/** Waits until the clock has entered a later second, so a new token gets a later `iat`. */
async function waitForNextSecond(): Promise<void> {
  const now = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1000 - (now % 1000) + 50));
}

function messageOf(body: { message?: unknown }): string {
  return Array.isArray(body.message) ? body.message.join('; ') : String(body.message ?? '');
}

describe.each(databaseTargets())('auth on $name', (target: DatabaseTarget) => {
  let server: KritenServer;
  let databaseUrl: string | undefined;
  let api: ApiClient;

  beforeAll(async () => {
    databaseUrl = await target.create();
    server = await KritenServer.start({ databaseUrl });
    api = new ApiClient(server.baseUrl);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await target.drop(databaseUrl);
  });

  describe('login', () => {
    it('root login returns a token', async () => {
      const response = await api.post(
        '/api/v1/login',
        { username: 'root', password: ROOT_PASSWORD },
        { token: null },
      );

      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['token']);
      expect(response.body.token.split('.')).toHaveLength(3);
    });

    it('login sets an HttpOnly SameSite cookie', async () => {
      const response = await api.post(
        '/api/v1/login',
        { username: 'root', password: ROOT_PASSWORD },
        { token: null },
      );
      const cookie = response.headers.getSetCookie().find((header) => header.startsWith('token='));

      expect(cookie).toBeDefined();
      expect(cookie).toContain(`token=${response.body.token};`);
      expect(cookie).toMatch(/;\s*HttpOnly/i);
      expect(cookie).toMatch(/;\s*SameSite=(Strict|Lax)/i);
      expect(cookie).toMatch(/;\s*Path=\//i);
    });

    it('login accepts provider local', async () => {
      const response = await api.post(
        '/api/v1/login',
        { username: 'root', password: ROOT_PASSWORD, provider: 'local' },
        { token: null },
      );

      expect(response.status).toBe(200);
    });

    it('wrong password is 401', async () => {
      const response = await api.post(
        '/api/v1/login',
        { username: 'root', password: 'wrong' },
        { token: null },
      );

      expect(response.status).toBe(401);
      expect(messageOf(response.body)).toContain('invalid username or password');
      expect(response.headers.getSetCookie()).toEqual([]);
    });

    it('field names ignore case', async () => {
      const response = await api.post(
        '/api/v1/login',
        { Username: 'root', PASSWORD: ROOT_PASSWORD },
        { token: null },
      );

      expect(response.status).toBe(200);
      expect(typeof response.body.token).toBe('string');
    });

    it('unknown user is 401', async () => {
      const response = await api.post(
        '/api/v1/login',
        { username: 'nobody', password: ROOT_PASSWORD },
        { token: null },
      );

      expect(response.status).toBe(401);
      expect(messageOf(response.body)).toContain('invalid username or password');
    });

    it('uppercase username is 401', async () => {
      const response = await api.post(
        '/api/v1/login',
        { username: 'ROOT', password: ROOT_PASSWORD },
        { token: null },
      );

      expect(response.status).toBe(401);
    });

    it.each([
      ['no fields', {}],
      ['no password', { username: 'root' }],
      ['no username', { password: ROOT_PASSWORD }],
      ['empty username', { username: '', password: ROOT_PASSWORD }],
    ])('missing fields are 400: %s', async (_case, body) => {
      const response = await api.post('/api/v1/login', body, { token: null });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('username and password');
    });

    it.each([
      ['number username', { username: 5, password: ROOT_PASSWORD }],
      ['boolean password', { username: 'root', password: true }],
      ['object password', { username: 'root', password: { value: ROOT_PASSWORD } }],
      ['array username', { username: ['root'], password: ROOT_PASSWORD }],
    ])('wrong types are 400: %s', async (_case, body) => {
      const response = await api.post('/api/v1/login', body, { token: null });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('strings');
    });

    it('unknown provider is 400', async () => {
      const response = await api.post(
        '/api/v1/login',
        { username: 'root', password: ROOT_PASSWORD, provider: 'ldap' },
        { token: null },
      );

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain("provider 'ldap'");
    });

    it('malformed JSON is 400', async () => {
      const response = await api.request('POST', '/api/v1/login', {
        rawBody: '{"username": "root", "password":',
        headers: { 'content-type': 'application/json' },
        token: null,
      });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('not valid JSON');
    });

    it.each([
      ['array', '["root"]'],
      ['string', '"root"'],
      ['null', 'null'],
    ])('non-object body is 400: %s', async (_case, rawBody) => {
      const response = await api.request('POST', '/api/v1/login', {
        rawBody,
        headers: { 'content-type': 'application/json' },
        token: null,
      });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).not.toBe('');
    });
  });

  describe('tokens', () => {
    let token: string;

    beforeAll(async () => {
      token = await new ApiClient(server.baseUrl).login('root', ROOT_PASSWORD);
    });

    it('token works as Bearer', async () => {
      const response = await api.get(PROTECTED_ROUTE, { token });

      expect(response.status).toBe(200);
      expect(Array.isArray(response.body)).toBe(true);
    });

    it('token works as cookie', async () => {
      const response = await api.get(PROTECTED_ROUTE, {
        token: null,
        headers: { cookie: `token=${token}` },
      });

      expect(response.status).toBe(200);
      expect(Array.isArray(response.body)).toBe(true);
    });

    it('token claims name root', async () => {
      const claims = decodePayload(token);

      expect(claims.username).toBe('root');
      expect(claims.provider).toBe('local');
      expect(claims.exp).toEqual(expect.any(Number));
    });

    it('refresh returns a new working token', async () => {
      await waitForNextSecond();
      const response = await api.get('/api/v1/refresh', { token });
      const refreshed: string = response.body.token;

      expect(response.status).toBe(200);
      expect(refreshed).not.toBe(token);
      expect(decodePayload(refreshed).exp).toBeGreaterThan(decodePayload(token).exp as number);
      expect((await api.get(PROTECTED_ROUTE, { token: refreshed })).status).toBe(200);
    });

    it('refresh sets the new cookie', async () => {
      const response = await api.get('/api/v1/refresh', {
        token: null,
        headers: { cookie: `token=${token}` },
      });
      const cookie = response.headers.getSetCookie().find((header) => header.startsWith('token='));

      expect(response.status).toBe(200);
      expect(cookie).toContain(`token=${response.body.token};`);
      expect(cookie).toMatch(/;\s*HttpOnly/i);
    });

    it('refresh without credentials is 401', async () => {
      const response = await api.get('/api/v1/refresh', { token: null });

      expect(response.status).toBe(401);
      expect(messageOf(response.body)).toContain('POST /api/v1/login');
    });

    it('no credentials is 401', async () => {
      const response = await api.get(PROTECTED_ROUTE, { token: null });

      expect(response.status).toBe(401);
      expect(response.body.error).toBe('Unauthorized');
      expect(messageOf(response.body)).toContain('POST /api/v1/login');
    });

    it('garbage token is 401', async () => {
      const response = await api.get(PROTECTED_ROUTE, { token: 'not-a-jwt' });

      expect(response.status).toBe(401);
      expect(messageOf(response.body)).toContain('missing or invalid credentials');
    });

    it('garbage cookie is 401', async () => {
      const response = await api.get(PROTECTED_ROUTE, {
        token: null,
        headers: { cookie: 'token=not-a-jwt' },
      });

      expect(response.status).toBe(401);
      expect(messageOf(response.body)).toContain('missing or invalid credentials');
    });

    it('token with another secret is 401', async () => {
      const forged = signWithOtherSecret(decodePayload(token));
      const response = await api.get(PROTECTED_ROUTE, { token: forged });

      expect(response.status).toBe(401);
      expect(messageOf(response.body)).toContain('missing or invalid credentials');
    });

    it('alg none token is 401', async () => {
      const forged = unsignedToken(decodePayload(token));
      const response = await api.get(PROTECTED_ROUTE, { token: forged });

      expect(response.status).toBe(401);
      expect(messageOf(response.body)).toContain('missing or invalid credentials');
    });

    it('alg none cookie is 401', async () => {
      const forged = unsignedToken(decodePayload(token));
      const response = await api.get(PROTECTED_ROUTE, {
        token: null,
        headers: { cookie: `token=${forged}` },
      });

      expect(response.status).toBe(401);
      expect(messageOf(response.body)).toContain('missing or invalid credentials');
    });

    it('token with altered payload is 401', async () => {
      const [header, , signature] = token.split('.');
      const altered = `${header}.${base64url({ ...decodePayload(token), username: 'admin' })}.${signature}`;
      const response = await api.get(PROTECTED_ROUTE, { token: altered });

      expect(response.status).toBe(401);
      expect(messageOf(response.body)).toContain('missing or invalid credentials');
    });
  });

  describe('swagger', () => {
    it('UI is served as HTML', async () => {
      const response = await api.get('/swagger', { token: null });

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(response.text).toContain('swagger-ui');
    });

    it('document lists every route', async () => {
      const response = await api.get('/swagger/doc.json', { token: null });
      const mapped = [...server.logs.matchAll(/Mapped \{(\/api\/v1\S*), (\w+)\} route/g)].map(
        ([, path, method]) => ({
          path: path.replace(/:(\w+)/g, '{$1}'),
          method: method.toLowerCase(),
        }),
      );
      const documented = new Set(
        Object.entries(response.body.paths as Record<string, object>).flatMap(
          ([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`),
        ),
      );

      expect(response.status).toBe(200);
      expect(mapped).toContainEqual({ path: '/api/v1/login', method: 'post' });
      expect(mapped).toContainEqual({ path: '/api/v1/tasks/{name}/schema', method: 'get' });
      for (const route of mapped) {
        expect(documented).toContain(`${route.method} ${route.path}`);
      }
    });

    it('document paths are under /api/v1 but probes', async () => {
      const response = await api.get('/swagger/doc.json', { token: null });
      const paths = Object.keys(response.body.paths);

      // Kubernetes and load balancers look for the probes at the root.
      expect(paths).toContain('/healthz');
      expect(paths).toContain('/readyz');
      for (const path of paths.filter((item) => !['/healthz', '/readyz'].includes(item))) {
        expect(path).toMatch(/^\/api\/v1\//);
      }
    });

    it('document declares bearer and cookie schemes', async () => {
      const response = await api.get('/swagger/doc.json', { token: null });
      const schemes = response.body.components.securitySchemes;

      expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(schemes.cookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'token' });
      expect(response.body.security).toContainEqual({ bearer: [] });
      expect(response.body.security).toContainEqual({ cookie: [] });
    });
  });

  describe('generated root password', () => {
    let generatedServer: KritenServer | undefined;
    let generatedDatabaseUrl: string | undefined;

    afterAll(async () => {
      await generatedServer?.stop();
      generatedServer?.removeDataDir();
      await target.drop(generatedDatabaseUrl);
    });

    it('generated password is logged once and works', async () => {
      generatedDatabaseUrl = await target.create();
      generatedServer = await KritenServer.start({
        databaseUrl: generatedDatabaseUrl,
        env: { KRITEN_ROOT_PASSWORD: '' },
      });
      const lines = [...generatedServer.logs.matchAll(GENERATED_PASSWORD_LINE)];

      expect(lines).toHaveLength(1);
      const password = lines[0][1];
      const client = new ApiClient(generatedServer.baseUrl);
      await expect(client.login('root', password)).resolves.toEqual(expect.any(String));

      await generatedServer.stop();
      generatedServer = await KritenServer.start({
        databaseUrl: generatedDatabaseUrl,
        dataDir: generatedServer.dataDir,
        env: { KRITEN_ROOT_PASSWORD: '' },
      });

      expect(generatedServer.logs).not.toContain('generated password');
      expect(generatedServer.logs).not.toContain(password);
      const restarted = new ApiClient(generatedServer.baseUrl);
      await expect(restarted.login('root', password)).resolves.toEqual(expect.any(String));
    }, 60_000);
  });
});

describe('configuration', () => {
  it.each([
    ['KRITEN_MAX_CONCURRENT_JOBS', 'abc'],
    ['KRITEN_MAX_CONCURRENT_JOBS', '0'],
    ['KRITEN_EXECUTOR', 'docker'],
    ['KRITEN_DATABASE_URL', 'postgres://x'],
    ['KRITEN_MAX_BODY_BYTES', '-1'],
    ['KRITEN_LOG_LEVEL', 'verbose'],
    ['PORT', '70000'],
    ['KRITEN_LISTEN_HOST', 'local host'],
  ])(
    'start fails on %s=%s',
    async (variable, value) => {
      const { code, output } = await startExpectingFailure({ [variable]: value });
      const lines = output.trim().split('\n');

      expect(code).not.toBe(0);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(variable);
      expect(lines[0]).toContain(`'${value}'`);
    },
    30_000,
  );

  it('start fails without JWT secret in production', async () => {
    const { code, output } = await startExpectingFailure({ NODE_ENV: 'production' });
    const lines = output.trim().split('\n');

    expect(code).not.toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('KRITEN_JWT_SECRET');
  }, 30_000);

  it('database URL password is not printed', async () => {
    const { code, output } = await startExpectingFailure({
      KRITEN_DATABASE_URL: 'postgres://kriten:hunter2@db/kriten',
    });

    expect(code).not.toBe(0);
    expect(output).toContain('KRITEN_DATABASE_URL');
    expect(output).not.toContain('hunter2');
  }, 30_000);
});
