import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig } from './kriten-config';

describe('loadConfig kubernetes settings', () => {
  it('uses defaults', () => {
    const config = loadConfig({ KRITEN_EXECUTOR: 'kubernetes' });
    expect(config.gitImage).toBe('alpine/git:2.47.2');
    expect(config.jobServiceAccount).toBe('kriten-job');
    expect(config.imagePullGraceSeconds).toBe(30);
    expect(config.jobsTtlSeconds).toBe(3600);
    expect(config.namespace).toBeUndefined();
    expect(config.kubeconfig).toBeUndefined();
  });

  it('reads every setting', () => {
    const config = loadConfig({
      KRITEN_EXECUTOR: 'kubernetes',
      KRITEN_NAMESPACE: 'jobs',
      KRITEN_GIT_IMAGE: 'registry.example.com:5000/tools/git@sha256:0123abcd',
      KRITEN_JOB_SERVICE_ACCOUNT: 'runner.jobs',
      KRITEN_IMAGE_PULL_GRACE_SECONDS: '5',
      KRITEN_JOBS_TTL_SECONDS: '60',
      KUBECONFIG: '/etc/kube/a:/etc/kube/b',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
    });
    expect(config.namespace).toBe('jobs');
    expect(config.gitImage).toBe('registry.example.com:5000/tools/git@sha256:0123abcd');
    expect(config.jobServiceAccount).toBe('runner.jobs');
    expect(config.imagePullGraceSeconds).toBe(5);
    expect(config.jobsTtlSeconds).toBe(60);
    expect(config.kubeconfig).toBe('/etc/kube/a:/etc/kube/b');
    expect(config.kubernetesServiceHost).toBe('10.0.0.1');
  });

  it('allows 100 jobs at once on kubernetes and one per CPU locally', () => {
    expect(loadConfig({ KRITEN_EXECUTOR: 'kubernetes' }).maxConcurrentJobs).toBe(100);
    expect(loadConfig({}).maxConcurrentJobs).toBe(availableParallelism());
    expect(
      loadConfig({ KRITEN_EXECUTOR: 'kubernetes', KRITEN_MAX_CONCURRENT_JOBS: '7' })
        .maxConcurrentJobs,
    ).toBe(7);
  });

  it.each([
    ['KRITEN_GIT_IMAGE', 'alpine/git; rm -rf /'],
    ['KRITEN_GIT_IMAGE', '-alpine'],
    ['KRITEN_JOB_SERVICE_ACCOUNT', 'Kriten_Job'],
    ['KRITEN_IMAGE_PULL_GRACE_SECONDS', '-1'],
    ['KRITEN_IMAGE_PULL_GRACE_SECONDS', '3601'],
  ])('rejects %s=%p naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(`invalid ${name}='${value}'`);
  });
});
