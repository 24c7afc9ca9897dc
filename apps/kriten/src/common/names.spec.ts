import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  gitRefProblem,
  MAX_BRANCH_LENGTH,
  MAX_NAME_LENGTH,
  MAX_SECRET_KEY_LENGTH,
  nameProblem,
  secretKeyProblem,
} from './names';

describe('nameProblem', () => {
  it('sets the maximum name length to 57', () => {
    // A job id `<task>-xxxxx` must fit a 63-character Kubernetes label value.
    expect(MAX_NAME_LENGTH).toBe(57);
    expect(MAX_NAME_LENGTH + '-xxxxx'.length).toBe(63);
  });

  it.each([
    'a',
    '0',
    'backup',
    'my-task-1',
    '1st-task',
    'task-2',
    'a--b',
    'a'.repeat(MAX_NAME_LENGTH),
  ])('accepts %p', (name) => {
    expect(nameProblem(name)).toBeNull();
  });

  it.each([
    '',
    'Foo',
    'fOO',
    '-a',
    'a-',
    '-',
    'a_b',
    'a.b',
    'a b',
    ' a',
    'a/b',
    'é',
    'a\n',
    'a'.repeat(MAX_NAME_LENGTH + 1),
  ])('rejects %p', (name) => {
    expect(nameProblem(name)).toMatch(/^name '.*' is invalid: /s);
  });

  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    [5, 'number'],
    [{}, 'object'],
    [['a'], 'array'],
  ])('rejects non-string %p', (name, type) => {
    expect(nameProblem(name)).toBe(`name must be a string, got ${type}`);
  });

  it('states the rule for a bad character', () => {
    expect(nameProblem('Foo')).toBe(
      "name 'Foo' is invalid: use lowercase letters, digits and '-', starting and ending " +
        'with a letter or digit (RFC 1123 label), at most 57 characters',
    );
  });

  it('states the length of a long name', () => {
    const problem = nameProblem('a'.repeat(58));

    expect(problem).toContain('it has 58 characters, at most 57 are allowed');
  });

  it('cuts a long name in the message', () => {
    const problem = nameProblem('x'.repeat(10_000)) as string;

    expect(problem.length).toBeLessThan(200);
    expect(problem).toContain('x'.repeat(80) + '...');
  });

  it('escapes control characters in the message', () => {
    const problem = nameProblem('bad\nname\u0007') as string;

    expect(problem).toContain("'bad\\u000aname\\u0007'");
    expect(problem).not.toContain('\n');
  });
});

describe('secretKeyProblem', () => {
  it.each([
    'password',
    'API_TOKEN',
    'db.password',
    'tls.crt',
    '-leading-dash',
    '_underscore',
    '.hidden',
    '...',
    'a..b',
    'x'.repeat(MAX_SECRET_KEY_LENGTH),
  ])('accepts %p', (key) => {
    expect(secretKeyProblem(key)).toBeNull();
  });

  it.each([
    '',
    '.',
    '..',
    'a b',
    'a/b',
    'a:b',
    'a=b',
    'clé',
    'tab\tkey',
    'x'.repeat(MAX_SECRET_KEY_LENGTH + 1),
  ])('rejects %p', (key) => {
    expect(secretKeyProblem(key)).toMatch(/^secret key '.*' is invalid: /s);
  });

  it('states the rule for a bad key', () => {
    expect(secretKeyProblem('a b')).toBe(
      "secret key 'a b' is invalid: use letters, digits, '-', '_' and '.', at most 253 " +
        "characters, and not '.' or '..' (Kubernetes secret key)",
    );
  });

  it('states the length of a long key', () => {
    expect(secretKeyProblem('k'.repeat(254))).toContain(
      'it has 254 characters, at most 253 are allowed',
    );
  });
});

describe('gitRefProblem', () => {
  const validBranches = [
    'main',
    'master',
    'feature/login',
    'release/2024.01/hotfix',
    'v1.2.3',
    'foo./bar',
    'a.lockx',
    'a@b',
    '@a',
    'a@',
    'a{b}',
    'x-',
    'x/HEAD',
    'refs/heads/x',
    'héllo',
    'emoji-😀',
    'UPPER_case',
  ];

  const invalidBranches = [
    'a..b',
    '..a',
    'a.',
    '.foo',
    'a/.b',
    'a/./b',
    'a/..',
    '-x',
    '/a',
    'a/',
    'a//b',
    'a.lock',
    'a.lock/b',
    'b/a.lock',
    'a b',
    'a~b',
    'a^b',
    'a:b',
    'a?b',
    'a*b',
    'a[b',
    'a\\b',
    'a\tb',
    'a\u007fb',
    'a@{b',
    '@{-1}',
    'HEAD',
    '.',
    '..',
  ];

  it.each(validBranches)('accepts %p', (branch) => {
    expect(gitRefProblem(branch)).toBeNull();
  });

  it.each(invalidBranches)('rejects %p', (branch) => {
    expect(gitRefProblem(branch)).toMatch(/^branch '.*' is invalid: /s);
  });

  it('rejects an empty branch', () => {
    expect(gitRefProblem('')).toBe("branch '' is invalid: it must not be empty");
  });

  it('rejects @, which git reads as HEAD', () => {
    // git check-ref-format --branch accepts '@', so this case is not cross-checked.
    expect(gitRefProblem('@')).toContain("it must not be '@'");
  });

  it('rejects a NUL character', () => {
    expect(gitRefProblem('a\u0000b')).toContain('control characters');
  });

  it('accepts the maximum length', () => {
    expect(gitRefProblem('b'.repeat(MAX_BRANCH_LENGTH))).toBeNull();
  });

  it('rejects one character over the maximum', () => {
    expect(gitRefProblem('b'.repeat(MAX_BRANCH_LENGTH + 1))).toContain(
      'it has 256 characters, at most 255 are allowed',
    );
  });

  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    [42, 'number'],
    [['main'], 'array'],
  ])('rejects non-string %p', (branch, type) => {
    expect(gitRefProblem(branch)).toBe(`branch must be a string, got ${type}`);
  });

  it.each([
    ['a..b', "it must not contain '..'"],
    ['a b', "it must not contain ' '"],
    ['a@{b', "it must not contain '@{'"],
    ['-x', "it must not start with '-'"],
    ['a//b', "it must not start or end with '/' or contain '//'"],
    ['a.', "it must not end with '.'"],
    ['HEAD', "it must not be 'HEAD'"],
    ['x/.hidden', "its component '.hidden' must not start with '.'"],
    ['x.lock/y', "its component 'x.lock' must not end with '.lock'"],
  ])('names the broken rule for %p', (branch, reason) => {
    expect(gitRefProblem(branch)).toBe(`branch '${branch}' is invalid: ${reason}`);
  });

  describe('against git check-ref-format', () => {
    let workingDirectory: string;

    beforeAll(() => {
      // Outside any repository, so git does not resolve names like @{-1} against a reflog.
      workingDirectory = mkdtempSync(join(tmpdir(), 'kriten-git-'));
    });

    afterAll(() => {
      rmSync(workingDirectory, { recursive: true, force: true });
    });

    function gitAccepts(branch: string): boolean {
      const result = spawnSync('git', ['check-ref-format', '--branch', branch], {
        cwd: workingDirectory,
        env: { ...process.env, GIT_CEILING_DIRECTORIES: workingDirectory },
        encoding: 'utf8',
      });
      if (result.error !== undefined) {
        throw new Error(`git check-ref-format failed to start: ${result.error.message}`);
      }
      return result.status === 0;
    }

    it.each([...validBranches, ...invalidBranches])('agrees with git on %p', (branch) => {
      expect(gitRefProblem(branch) === null).toBe(gitAccepts(branch));
    });
  });
});
