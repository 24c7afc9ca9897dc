import {
  acceptedRequestId,
  createdNameOf,
  describeRoute,
  redactUrlPasswords,
  resultIdOf,
} from './audit-route';

const PREFIX = '/api/v1';

describe('describeRoute', () => {
  it.each([
    ['POST', '/api/v1/login', {}, { action: 'login', resource: 'users' }],
    ['POST', '/api/v1/runners', {}, { action: 'create', resource: 'runners' }],
    [
      'PATCH',
      '/api/v1/tasks/:name',
      { name: 'backup' },
      { action: 'update', resource: 'tasks', resourceId: 'backup' },
    ],
    [
      'DELETE',
      '/api/v1/roles/:name',
      { name: 'viewers' },
      { action: 'delete', resource: 'roles', resourceId: 'viewers' },
    ],
    [
      'POST',
      '/api/v1/runners/:name/secret',
      { name: 'git' },
      { action: 'update', resource: 'secrets', resourceId: 'runners/git' },
    ],
    [
      'DELETE',
      '/api/v1/tasks/:name/schema',
      { name: 'backup' },
      { action: 'delete', resource: 'schemas', resourceId: 'tasks/backup' },
    ],
    [
      'POST',
      '/api/v1/groups/:name/users',
      { name: 'ops' },
      { action: 'create', resource: 'memberships', resourceId: 'groups/ops' },
    ],
    [
      'DELETE',
      '/api/v1/groups/:name/users',
      { name: 'ops' },
      { action: 'delete', resource: 'memberships', resourceId: 'groups/ops' },
    ],
    ['POST', '/api/v1/jobs/:id', { id: 'backup' }, { action: 'start', resource: 'jobs' }],
    ['PUT', '/api/v1/jobs/:id', { id: 'backup' }, { action: 'start', resource: 'jobs' }],
    [
      'DELETE',
      '/api/v1/jobs/:id',
      { id: 'backup-x1y2z' },
      { action: 'cancel', resource: 'jobs', resourceId: 'backup-x1y2z' },
    ],
    [
      'GET',
      '/api/v1/users/:id',
      { id: 'alice' },
      { action: 'read', resource: 'users', resourceId: 'alice' },
    ],
    ['GET', '/api/v1/api_tokens/all', {}, { action: 'read', resource: 'api_tokens' }],
  ])('%s %s', (method, path, params, expected) => {
    expect(describeRoute(method, path, params, PREFIX)).toEqual(expected);
  });

  it('empty path has no description', () => {
    expect(describeRoute('GET', '/api/v1', {}, PREFIX)).toBeUndefined();
  });
});

describe('acceptedRequestId', () => {
  it.each([['abc-123'], ['a.b_c:d@e'], ['x'.repeat(128)]])('accepts %s', (value) => {
    expect(acceptedRequestId(value)).toBe(value);
  });

  it.each([[undefined], [''], ['x'.repeat(129)], ['a b'], ['id\nforged: line'], [['a', 'b']]])(
    'rejects %j',
    (value) => {
      expect(acceptedRequestId(value)).toBeUndefined();
    },
  );
});

describe('resultIdOf', () => {
  it('takes id of an object', () => {
    expect(resultIdOf({ id: 'backup-x1y2z', msg: 'created' })).toBe('backup-x1y2z');
  });

  it('takes name when there is no id', () => {
    expect(resultIdOf({ name: 'git', image: 'alpine' })).toBe('git');
  });

  it('takes id of serialized job', () => {
    expect(resultIdOf('{"id":"backup-x1y2z","task":"backup","stdout":"..."}')).toBe('backup-x1y2z');
  });

  it.each([[null], [undefined], ['plain text'], [42], [{ token: 'secret' }]])(
    'none for %j',
    (value) => {
      expect(resultIdOf(value)).toBeUndefined();
    },
  );
});

describe('createdNameOf', () => {
  it('reads name', () => {
    expect(createdNameOf({ name: 'git', token: 'ghp_secret' })).toBe('git');
  });

  it('reads username', () => {
    expect(createdNameOf({ username: 'alice', password: 'hunter22' })).toBe('alice');
  });

  it.each([[{ password: 'hunter22' }], [{ name: 5 }], [['name']], [null], ['name']])(
    'ignores %j',
    (body) => {
      expect(createdNameOf(body)).toBeUndefined();
    },
  );
});

describe('redactUrlPasswords', () => {
  it('hides every URL password', () => {
    const message =
      "gitURL 'https://bot:hunter22@git.example/a b' is invalid, as is ssh://me:pw@host/x";

    expect(redactUrlPasswords(message)).toBe(
      "gitURL 'https://bot:***@git.example/a b' is invalid, as is ssh://me:***@host/x",
    );
  });

  it('keeps text without passwords', () => {
    const message = "gitURL 'git@github.com:org/repo.git' is fine, https://host:8443/path too";

    expect(redactUrlPasswords(message)).toBe(message);
  });
});
