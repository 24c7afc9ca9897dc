import {
  decodeSecretData,
  describeApiFailure,
  encodeSecretData,
  needsCurrentValues,
  secretLabelsOf,
  secretNameOf,
  valuesAfter,
} from './kubernetes-secret-plan';
import { SECRET_MASK } from './secret-merge';
import type { SecretChange } from './secret-store';

const runner = { kind: 'runner', name: 'deploy' } as const;

describe('secretNameOf', () => {
  it('names the runner Secret', () => {
    expect(secretNameOf(runner)).toBe('kriten-runner-deploy');
  });

  it('names the git token Secret', () => {
    expect(secretNameOf({ kind: 'runner_git_token', name: 'deploy' })).toBe(
      'kriten-runner-deploy-git',
    );
  });

  it('names the task Secret', () => {
    expect(secretNameOf({ kind: 'task', name: 'backup' })).toBe('kriten-task-backup');
  });
});

describe('secretLabelsOf', () => {
  it('labels runner Secrets with the runner', () => {
    expect(secretLabelsOf({ kind: 'runner_git_token', name: 'deploy' })).toEqual({
      'app.kubernetes.io/managed-by': 'kriten',
      'kriten.io/runner': 'deploy',
    });
  });

  it('labels task Secrets with the task', () => {
    expect(secretLabelsOf({ kind: 'task', name: 'backup' })).toEqual({
      'app.kubernetes.io/managed-by': 'kriten',
      'kriten.io/task': 'backup',
    });
  });
});

describe('valuesAfter', () => {
  const current = { user: 'admin', password: 'hunter2' };

  it('merges posted values like mergeSecrets', () => {
    const change: SecretChange = {
      owner: runner,
      action: 'merge',
      posted: { user: SECRET_MASK, password: '', region: 'eu' },
    };

    expect(valuesAfter(change, current)).toEqual({ user: 'admin', region: 'eu' });
  });

  it('replaces without the current values', () => {
    const change: SecretChange = { owner: runner, action: 'replace', values: { token: 'abc' } };

    expect(valuesAfter(change, current)).toEqual({ token: 'abc' });
  });

  it('drops empty and masked values on replace', () => {
    const change: SecretChange = {
      owner: runner,
      action: 'replace',
      values: { empty: '', masked: SECRET_MASK, kept: 'k' },
    };

    expect(valuesAfter(change, {})).toEqual({ kept: 'k' });
  });

  it('empties on delete', () => {
    expect(valuesAfter({ owner: runner, action: 'delete' }, current)).toEqual({});
  });

  it('reads current values only for merge', () => {
    expect(needsCurrentValues({ owner: runner, action: 'merge', posted: {} })).toBe(true);
    expect(needsCurrentValues({ owner: runner, action: 'replace', values: {} })).toBe(false);
    expect(needsCurrentValues({ owner: runner, action: 'delete' })).toBe(false);
  });
});

describe('encodeSecretData', () => {
  it('round-trips UTF-8 and newlines', () => {
    const values = { text: 'é 😀\nline two\n', empty_line: '\n', quote: `"'$` };

    const data = encodeSecretData(values);

    expect(data.text).toBe(Buffer.from(values.text).toString('base64'));
    expect(decodeSecretData(data)).toEqual(values);
  });

  it('decodes a Secret without data as empty', () => {
    expect(decodeSecretData(undefined)).toEqual({});
  });
});

describe('describeApiFailure', () => {
  it('names the status and the Status message', () => {
    const error = Object.assign(new Error('HTTP-Code: 403'), {
      code: 403,
      body: JSON.stringify({ kind: 'Status', message: 'secrets is forbidden' }),
    });

    expect(describeApiFailure(error)).toBe('HTTP 403: secrets is forbidden');
  });

  it('keeps a short text body', () => {
    expect(describeApiFailure({ code: 502, body: 'Bad Gateway' })).toBe('HTTP 502: Bad Gateway');
  });

  it('uses the message of a network error', () => {
    expect(describeApiFailure(new Error('connect ECONNREFUSED 127.0.0.1:6443'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:6443',
    );
  });
});
