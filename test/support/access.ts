import { ApiClient } from './http-client';

export interface RoleGrant {
  resource: string;
  access: 'read' | 'write';
  resource_ids: string[];
}

/** The three ways a caller can present credentials. */
export type Transport = 'bearer' | 'cookie' | 'api_token';
export const TRANSPORTS: Transport[] = ['bearer', 'cookie', 'api_token'];

/** A local user with a JWT and an API token of its own. */
export interface TestCaller {
  username: string;
  password: string;
  jwt: string;
  apiToken: string;
}

let sequence = 0;

/** Returns a name unique within the test run, usable as a role, binding or user name. */
export function uniqueName(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}

async function expectOk(
  response: Promise<{ status: number; text: string }>,
  action: string,
): Promise<void> {
  const { status, text } = await response;
  if (status !== 200) {
    throw new Error(`${action} failed with ${status}: ${text}`);
  }
}

/** Creates a local user; with grants, one role and one binding per grant, bound to the user. */
export async function createCaller(
  admin: ApiClient,
  username: string,
  grants: RoleGrant[] = [],
): Promise<TestCaller> {
  const password = `pw-${username}-secret`;
  await expectOk(admin.post('/api/v1/users', { username, password }), `creating user ${username}`);
  await bindRoles(admin, { kind: 'users', name: username }, grants);

  const client = new ApiClient(admin.baseUrl);
  const jwt = await client.login(username, password);
  const created = await client.post('/api/v1/api_tokens', { description: `token of ${username}` });
  if (created.status !== 200) {
    throw new Error(`creating an API token for ${username} failed: ${created.text}`);
  }
  return { username, password, jwt, apiToken: created.body.token };
}

/** Creates one role per grant and binds it to the subject. */
export async function bindRoles(
  admin: ApiClient,
  subject: { kind: 'users' | 'groups'; name: string; provider?: string },
  grants: RoleGrant[],
): Promise<void> {
  for (const grant of grants) {
    const role = uniqueName('role');
    await expectOk(admin.post('/api/v1/roles', { name: role, ...grant }), `creating role ${role}`);
    await expectOk(
      admin.post('/api/v1/role_bindings', {
        name: uniqueName('binding'),
        role_name: role,
        subject_kind: subject.kind,
        subject_name: subject.name,
        subject_provider: subject.provider ?? 'local',
      }),
      `binding role ${role} to ${subject.name}`,
    );
  }
}

/** Returns the request headers that present a caller's credentials over one transport. */
export function credentials(caller: TestCaller, transport: Transport): Record<string, string> {
  switch (transport) {
    case 'bearer':
      return { authorization: `Bearer ${caller.jwt}` };
    case 'cookie':
      return { cookie: `token=${caller.jwt}` };
    case 'api_token':
      return { token: caller.apiToken };
  }
}
