import {
  buildContainerArgv,
  buildContainerEnvironment,
  ContainerConfigError,
} from './container-env';
import { expandReferences } from './expansion';

describe('kubelet reference expansion', () => {
  const defined: Record<string, string> = { A: 'alpha', EMPTY: '', 'WEIRD NAME': 'w' };
  const lookup = (name: string): string | undefined => defined[name];

  it.each([
    ['$(A)', 'alpha'],
    ['x$(A)y', 'xalphay'],
    ['$$', '$'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$alpha'],
    ['$$$$(A)', '$$(A)'],
    ['$(NOPE)', '$(NOPE)'],
    ['$(EMPTY)x', 'x'],
    ['$(A', '$(A'],
    ['$(A$(A)', '$(A$(A)'],
    ['$A', '$A'],
    ['a$', 'a$'],
    ['$', '$'],
    ['$()', '$()'],
    ['$(WEIRD NAME)', 'w'],
    ['é$(A)ü', 'éalphaü'],
    ['{"k":"$$"}', '{"k":"$"}'],
  ])('%s expands to %s', (input, expected) => {
    expect(expandReferences(input, lookup)).toBe(expected);
  });
});

describe('container environment', () => {
  const pod = {
    metadata: { name: 'job-abcde', namespace: 'kriten', uid: 'u-1', labels: { task: 't' } },
    spec: {},
    status: {},
  };
  const secrets = (name: string): Record<string, Buffer> | undefined =>
    name === 'runner'
      ? { key: Buffer.from('from-runner'), shared: Buffer.from('$(key)') }
      : undefined;

  it('orders envFrom before env and lets later entries win', () => {
    const { environment, variables } = buildContainerEnvironment(
      pod,
      {
        envFrom: [
          { secretRef: { name: 'runner' } },
          { secretRef: { name: 'runner' }, prefix: 'R_' },
        ],
        env: [
          { name: 'key', value: 'override' },
          { name: 'REF', value: '$(shared)' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'TASK', valueFrom: { fieldRef: { fieldPath: "metadata.labels['task']" } } },
        ],
      },
      secrets,
    );
    expect(variables).toEqual({
      key: 'override',
      shared: '$(key)',
      R_key: 'from-runner',
      R_shared: '$(key)',
      REF: '$(key)',
      POD: 'job-abcde',
      TASK: 't',
    });
    expect(environment.PATH).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(environment.HOSTNAME).toBe('job-abcde');
    expect(environment.JEST_WORKER_ID).toBeUndefined();
  });

  it('missing secret is a config error', () => {
    expect(() =>
      buildContainerEnvironment(pod, { envFrom: [{ secretRef: { name: 'gone' } }] }, secrets),
    ).toThrow(new ContainerConfigError('secret "gone" not found'));
    expect(() =>
      buildContainerEnvironment(
        pod,
        { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'runner', key: 'nope' } } }] },
        secrets,
      ),
    ).toThrow(new ContainerConfigError("couldn't find key nope in Secret kriten/runner"));
    const optional = buildContainerEnvironment(
      pod,
      {
        env: [
          { name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k', optional: true } } },
        ],
      },
      secrets,
    );
    expect(optional.variables.X).toBeUndefined();
  });

  it('argv expands against pod variables only', () => {
    const argv = buildContainerArgv(
      { command: ['sh', '-c', 'echo $(A) $$(A)'], args: ['$(PATH)', '$(A)'] },
      { A: 'x' },
    );
    expect(argv).toEqual(['sh', '-c', 'echo x $(A)', '$(PATH)', 'x']);
  });
});
