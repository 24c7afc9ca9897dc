import {
  validateKubernetesObject,
  type KubernetesObject,
} from '../../../../test/support/kubernetes-schema';
import type { JobLaunch } from '../job-executor';
import { buildJobManifest, CLONE_SCRIPT, type JobSpecSettings } from './job-spec';

const SETTINGS: JobSpecSettings = {
  namespace: 'kriten',
  gitImage: 'alpine/git:2.47.2',
  jobServiceAccount: 'kriten-job',
  jobsTtlSeconds: 600,
};

function makeLaunch(overrides: Partial<JobLaunch> = {}): JobLaunch {
  return {
    jobId: 'backup-x7k2p',
    taskName: 'backup',
    runnerName: 'ops',
    owner: 'ada@example.com',
    command: './backup.sh --target "$(TARGET)" $$ end$',
    gitUrl: 'https://git.example.com/ops/scripts.git',
    branch: 'main',
    image: 'python:3.12-slim',
    gitToken: 'never-in-the-spec',
    secrets: { api_key: 'never-in-the-spec-either' },
    secretKeys: { runner: ['api_key', 'region'], task: ['region', 'db_password'], gitToken: true },
    resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    extraVars: '{"price":"$(5)","note":"$$"}',
    timeoutSeconds: 120,
    ...overrides,
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are read as plain JSON */
function podSpec(manifest: any): any {
  return manifest.spec.template.spec;
}

describe('buildJobManifest', () => {
  const manifest = buildJobManifest(makeLaunch(), SETTINGS) as any;
  const pod = podSpec(manifest);
  const main = pod.containers[0];
  const clone = pod.initContainers[0];

  it('is a valid batch/v1 Job', () => {
    expect(validateKubernetesObject(manifest as KubernetesObject)).toEqual([]);
  });

  it('names the Job after the job in the namespace', () => {
    expect(manifest.apiVersion).toBe('batch/v1');
    expect(manifest.kind).toBe('Job');
    expect(manifest.metadata.name).toBe('backup-x7k2p');
    expect(manifest.metadata.namespace).toBe('kriten');
  });

  it('labels the Job and its pods with valid values', () => {
    const labels = {
      'app.kubernetes.io/managed-by': 'kriten',
      'kriten.io/job-id': 'backup-x7k2p',
      'kriten.io/task': 'backup',
      'kriten.io/runner': 'ops',
      'kriten.io/owner': expect.stringMatching(/^ada-example.com-[0-9a-f]{10}$/),
    };
    expect(manifest.metadata.labels).toEqual(labels);
    expect(manifest.spec.template.metadata.labels).toEqual(labels);
  });

  it('keeps the exact owner in an annotation', () => {
    expect(manifest.metadata.annotations['kriten.io/owner']).toBe('ada@example.com');
  });

  it('sets deadline, retries and lifetime', () => {
    expect(manifest.spec.activeDeadlineSeconds).toBe(120);
    expect(manifest.spec.backoffLimit).toBe(0);
    expect(manifest.spec.ttlSecondsAfterFinished).toBe(600);
  });

  it('leaves the deadline out for a task without timeout', () => {
    const unlimited = buildJobManifest(makeLaunch({ timeoutSeconds: 0 }), SETTINGS) as any;
    expect(unlimited.spec.activeDeadlineSeconds).toBeUndefined();
  });

  it('runs without a service account token or privilege escalation', () => {
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.serviceAccountName).toBe('kriten-job');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
    expect(main.securityContext).toEqual({ allowPrivilegeEscalation: false });
    expect(clone.securityContext).toEqual({ allowPrivilegeEscalation: false });
  });

  it('runs the command escaped for the kubelet', () => {
    expect(main.image).toBe('python:3.12-slim');
    expect(main.command).toEqual(['sh', '-c', './backup.sh --target "$$(TARGET)" $$$$ end$$']);
    expect(main.workingDir).toBe('/workspace');
  });

  it('sets EXTRA_VARS and KRITEN_JOB_ID escaped', () => {
    expect(main.env).toEqual([
      { name: 'KRITEN_JOB_ID', value: 'backup-x7k2p' },
      { name: 'EXTRA_VARS', value: '{"price":"$$(5)","note":"$$$$"}' },
    ]);
  });

  it('leaves EXTRA_VARS out without a body', () => {
    const noBody = podSpec(buildJobManifest(makeLaunch({ extraVars: undefined }), SETTINGS));
    expect(noBody.containers[0].env.map((entry: any) => entry.name)).toEqual(['KRITEN_JOB_ID']);
  });

  it('loads runner then task secrets, so task keys win', () => {
    expect(main.envFrom).toEqual([
      { secretRef: { name: 'kriten-runner-ops' } },
      { secretRef: { name: 'kriten-task-backup' } },
    ]);
  });

  it('projects both secrets without duplicate paths', () => {
    const volume = pod.volumes.find((entry: any) => entry.name === 'secret');
    expect(volume.projected.sources).toEqual([
      {
        secret: {
          name: 'kriten-runner-ops',
          items: [{ key: 'api_key', path: 'api_key' }],
          optional: true,
        },
      },
      { secret: { name: 'kriten-task-backup', optional: true } },
    ]);
    expect(main.volumeMounts).toContainEqual({
      name: 'secret',
      mountPath: '/etc/secret',
      readOnly: true,
    });
  });

  it('mounts an empty folder when there are no secrets', () => {
    const launch = makeLaunch({ secretKeys: { runner: [], task: [], gitToken: false } });
    const spec = podSpec(buildJobManifest(launch, SETTINGS));
    expect(spec.containers[0].envFrom).toBeUndefined();
    expect(spec.volumes.find((entry: any) => entry.name === 'secret').emptyDir).toBeDefined();
  });

  it('leaves out the runner source when the task overrides every key', () => {
    const launch = makeLaunch({ secretKeys: { runner: ['a'], task: ['a'], gitToken: false } });
    const volume = podSpec(buildJobManifest(launch, SETTINGS)).volumes[1];
    expect(volume.projected.sources).toEqual([
      { secret: { name: 'kriten-task-backup', optional: true } },
    ]);
  });

  it('clones shallowly with the branch and URL as arguments', () => {
    expect(clone.image).toBe('alpine/git:2.47.2');
    expect(clone.command).toEqual(['sh', '-c', CLONE_SCRIPT.split('$').join('$$')]);
    expect(clone.args).toEqual(['git-clone', 'https://git.example.com/ops/scripts.git', 'main']);
    expect(CLONE_SCRIPT).toContain('--depth 1 --single-branch --branch "$2"');
    expect(clone.volumeMounts).toEqual([{ name: 'workspace', mountPath: '/workspace' }]);
  });

  it('gives the git token to the clone only through a Secret reference', () => {
    expect(clone.env).toContainEqual({
      name: 'GIT_TOKEN',
      valueFrom: { secretKeyRef: { name: 'kriten-runner-ops-git', key: 'token' } },
    });
    expect(main.env.map((entry: any) => entry.name)).not.toContain('GIT_TOKEN');
  });

  it('contains no secret value anywhere', () => {
    const text = JSON.stringify(manifest);
    expect(text).not.toContain('never-in-the-spec');
  });

  it('leaves GIT_TOKEN out for a runner without token', () => {
    const launch = makeLaunch({ secretKeys: { runner: [], task: [], gitToken: false } });
    const env = podSpec(buildJobManifest(launch, SETTINGS)).initContainers[0].env;
    expect(env.map((entry: any) => entry.name)).not.toContain('GIT_TOKEN');
  });

  it('sets the requested resources', () => {
    expect(main.resources).toEqual({
      requests: { cpu: '250m', memory: '128Mi' },
      limits: { memory: '256Mi' },
    });
  });

  it('sets no resources when none are given', () => {
    const spec = podSpec(buildJobManifest(makeLaunch({ resources: undefined }), SETTINGS));
    expect(spec.containers[0].resources).toBeUndefined();
  });

  it('rejects a launch without secret key names', () => {
    expect(() => buildJobManifest(makeLaunch({ secretKeys: undefined }), SETTINGS)).toThrow(
      /secret key names/,
    );
  });

  it('is valid for an owner that needs sanitising', () => {
    const launch = makeLaunch({ owner: 'CORP\\' + 'a'.repeat(100) });
    expect(
      validateKubernetesObject(buildJobManifest(launch, SETTINGS) as KubernetesObject),
    ).toEqual([]);
  });
});
