import {
  maskKeys,
  maskSecrets,
  mergeRunnerAndTaskSecrets,
  mergeSecrets,
  SECRET_MASK,
} from './secret-merge';

describe('mergeSecrets', () => {
  const stored = { username: 'admin', password: 'hunter2' };

  it('adds a new key', () => {
    expect(mergeSecrets(stored, { token: 'abc' })).toEqual({
      username: 'admin',
      password: 'hunter2',
      token: 'abc',
    });
  });

  it('replaces a changed value', () => {
    expect(mergeSecrets(stored, { password: 'correct horse' })).toEqual({
      username: 'admin',
      password: 'correct horse',
    });
  });

  it('deletes a key posted as empty', () => {
    expect(mergeSecrets(stored, { password: '' })).toEqual({ username: 'admin' });
  });

  it('ignores an empty value for a missing key', () => {
    expect(mergeSecrets(stored, { missing: '' })).toEqual(stored);
  });

  it('keeps the stored value for the mask', () => {
    expect(mergeSecrets(stored, { password: SECRET_MASK })).toEqual(stored);
  });

  it('ignores the mask for a missing key', () => {
    const merged = mergeSecrets(stored, { token: SECRET_MASK });

    expect(merged).toEqual(stored);
    expect(Object.values(merged)).not.toContain(SECRET_MASK);
  });

  it('keeps stored keys that are not posted', () => {
    expect(mergeSecrets(stored, {})).toEqual(stored);
  });

  it('merges into empty stored secrets', () => {
    expect(mergeSecrets({}, { token: 'abc', empty: '', masked: SECRET_MASK })).toEqual({
      token: 'abc',
    });
  });

  it('applies all changes of one post', () => {
    const merged = mergeSecrets(
      { keep: 'k', change: 'old', remove: 'r', masked: 'm' },
      { change: 'new', remove: '', masked: SECRET_MASK, added: 'a' },
    );

    expect(merged).toEqual({ keep: 'k', change: 'new', masked: 'm', added: 'a' });
  });

  it('stores values close to the mask', () => {
    const merged = mergeSecrets(stored, {
      password: SECRET_MASK + '*',
      username: ' ',
    });

    expect(merged).toEqual({ username: ' ', password: SECRET_MASK + '*' });
  });

  it('leaves its arguments unchanged', () => {
    const storedCopy = { ...stored };
    const posted = { password: '', token: 'abc' };

    mergeSecrets(storedCopy, posted);

    expect(storedCopy).toEqual(stored);
    expect(posted).toEqual({ password: '', token: 'abc' });
  });

  it('stores __proto__ as an ordinary key', () => {
    const posted = JSON.parse('{"__proto__":"value","constructor":"c"}');

    const merged = mergeSecrets({}, posted);

    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(merged, '__proto__')?.value).toBe('value');
  });

  it('deletes a stored __proto__ key', () => {
    const storedWithProto = JSON.parse('{"__proto__":"value","other":"o"}');

    expect(Object.keys(mergeSecrets(storedWithProto, JSON.parse('{"__proto__":""}')))).toEqual([
      'other',
    ]);
  });
});

describe('maskSecrets', () => {
  it('masks every value', () => {
    expect(maskSecrets({ username: 'admin', password: '', token: 'abc' })).toEqual({
      username: SECRET_MASK,
      password: SECRET_MASK,
      token: SECRET_MASK,
    });
  });

  it('returns an empty object for no secrets', () => {
    expect(maskSecrets({})).toEqual({});
  });

  it('keeps the key order', () => {
    expect(Object.keys(maskSecrets({ b: '1', a: '2', c: '3' }))).toEqual(['b', 'a', 'c']);
  });

  it('round-trips through mergeSecrets unchanged', () => {
    const stored = { username: 'admin', password: 'hunter2' };

    expect(mergeSecrets(stored, maskSecrets(stored))).toEqual(stored);
  });

  it('uses twelve asterisks as the mask', () => {
    expect(SECRET_MASK).toBe('*'.repeat(12));
  });
});

describe('mergeRunnerAndTaskSecrets', () => {
  it('lets task values win', () => {
    const runner = { token: 'runner-token', region: 'eu' };
    const task = { token: 'task-token', bucket: 'backups' };

    expect(mergeRunnerAndTaskSecrets(runner, task)).toEqual({
      token: 'task-token',
      region: 'eu',
      bucket: 'backups',
    });
  });

  it('keeps runner secrets without task secrets', () => {
    expect(mergeRunnerAndTaskSecrets({ a: '1' }, {})).toEqual({ a: '1' });
  });

  it('keeps task secrets without runner secrets', () => {
    expect(mergeRunnerAndTaskSecrets({}, { b: '2' })).toEqual({ b: '2' });
  });

  it('leaves its arguments unchanged', () => {
    const runner = { token: 'r' };
    const task = { token: 't' };

    mergeRunnerAndTaskSecrets(runner, task);

    expect(runner).toEqual({ token: 'r' });
    expect(task).toEqual({ token: 't' });
  });

  it('keeps __proto__ as an ordinary key', () => {
    const merged = mergeRunnerAndTaskSecrets({}, JSON.parse('{"__proto__":"p"}'));

    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(merged, '__proto__')?.value).toBe('p');
  });
});

describe('maskKeys', () => {
  it('masks every listed key', () => {
    expect(maskKeys(['api_key', 'region'])).toEqual({ api_key: SECRET_MASK, region: SECRET_MASK });
  });

  it('returns an empty map for no keys', () => {
    expect(maskKeys([])).toEqual({});
  });
});
