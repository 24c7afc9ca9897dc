import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../temp';
import { startFakeKube, type FakeKube } from './index';
import { kube, openWatch, waitUntil } from './test-client';

const JOBS = '/apis/batch/v1/namespaces/kriten/jobs';
const PODS = '/api/v1/namespaces/kriten/pods';
const SECRETS = '/api/v1/namespaces/kriten/secrets';

jest.setTimeout(60_000);

type Json = Record<string, any>;

function job(
  name: string,
  containers: Json[],
  extra: { initContainers?: Json[]; volumes?: Json[]; spec?: Json } = {},
): Json {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { app: 'kriten' } },
    spec: {
      backoffLimit: 0,
      ...extra.spec,
      template: {
        metadata: { labels: { task: name } },
        spec: {
          restartPolicy: 'Never',
          ...(extra.initContainers === undefined ? {} : { initContainers: extra.initContainers }),
          containers,
          ...(extra.volumes === undefined ? {} : { volumes: extra.volumes }),
        },
      },
    },
  };
}

function shell(name: string, script: string, more: Json = {}): Json {
  return { name, image: 'alpine:3.20', command: ['/bin/sh', '-c', script], ...more };
}

function conditionTypes(object: Json): string[] {
  return ((object.status?.conditions ?? []) as Json[]).map((condition) => condition.type);
}

describe('fake kube pods', () => {
  let fake: FakeKube;

  beforeEach(async () => {
    fake = await startFakeKube({
      bookmarkIntervalMilliseconds: 100,
      podBackoffMilliseconds: 100,
      retryMilliseconds: 100,
      maxGraceMilliseconds: 1000,
    });
  });

  afterEach(async () => {
    await fake.stop();
  });

  async function finished(name: string): Promise<Json> {
    return waitUntil(`job ${name} to finish`, () => {
      const stored = fake.getObject('jobs', name);
      const types = stored === undefined ? [] : conditionTypes(stored);
      return types.includes('Complete') || types.includes('Failed') ? stored : undefined;
    });
  }

  async function podOf(jobName: string): Promise<Json> {
    return waitUntil(`a pod of ${jobName}`, () =>
      fake.listObjects('pods').find((pod) => pod.metadata.labels['job-name'] === jobName),
    );
  }

  async function logOf(pod: Json, container: string): Promise<string> {
    const response = await kube(
      fake,
      'GET',
      `${PODS}/${pod.metadata.name}/log?container=${container}`,
    );
    expect(response.status).toBe(200);
    return response.text;
  }

  it('job runs init then main through an emptyDir', async () => {
    const watch = await openWatch(fake, `${JOBS}?watch=true&labelSelector=app%3Dkriten`);
    const created = await kube(
      fake,
      'POST',
      JOBS,
      job(
        'pipeline',
        [
          shell('main', 'cat /work/greeting; echo "cwd=$(pwd) host=$HOSTNAME"', {
            workingDir: '/work',
            volumeMounts: [{ name: 'work', mountPath: '/work' }],
          }),
        ],
        {
          initContainers: [
            shell('clone', 'echo hello from init > /work/greeting', {
              volumeMounts: [{ name: 'work', mountPath: '/work' }],
            }),
          ],
          volumes: [{ name: 'work', emptyDir: {} }],
        },
      ),
    );
    expect(created.status).toBe(201);

    const done = await finished('pipeline');
    expect(conditionTypes(done)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(done.status).toMatchObject({ succeeded: 1, ready: 0, terminating: 0 });
    expect(done.status.startTime).toBeDefined();
    expect(done.status.completionTime).toBeDefined();
    expect(done.status.conditions[1]).toMatchObject({
      status: 'True',
      reason: 'CompletionsReached',
      message: 'Reached expected number of succeeded pods',
    });

    const pod = await podOf('pipeline');
    expect(pod.metadata.name).toMatch(/^pipeline-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(pod.metadata.labels).toMatchObject({
      task: 'pipeline',
      'job-name': 'pipeline',
      'batch.kubernetes.io/job-name': 'pipeline',
      'controller-uid': created.body.metadata.uid,
    });
    expect(pod.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: 'pipeline',
        uid: created.body.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(pod.status.phase).toBe('Succeeded');
    expect(pod.status.initContainerStatuses[0].state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(await logOf(pod, 'main')).toBe(`hello from init\ncwd=/work host=${pod.metadata.name}\n`);

    await watch.waitFor(
      (event) => event.type === 'MODIFIED' && conditionTypes(event.object).includes('Complete'),
    );
    const active = watch.events.find((event) => event.object.status?.active === 1);
    expect(active).toBeDefined();
    watch.close();
  });

  it('env and args expand like the kubelet', async () => {
    const env = [
      { name: 'A', value: 'alpha' },
      { name: 'REF', value: '$(A)-x' },
      { name: 'ESCAPED', value: '$$(A)' },
      { name: 'DOLLARS', value: 'a$$b$c' },
      { name: 'UNDEFINED', value: '$(NOPE)' },
      { name: 'FORWARD', value: '$(LATER)' },
      { name: 'OPEN', value: 'x$(A' },
      { name: 'LATER', value: 'late' },
      { name: 'EXTRA_VARS', value: '{"name":"$$(A) \\u00e9 \\"q\\""}' },
    ];
    const script =
      'for v in A REF ESCAPED DOLLARS UNDEFINED FORWARD OPEN LATER EXTRA_VARS; do printf "%s=%s\\n" "$v" "$(printenv "$v")"; done; printf "%s|" "$@"; env | grep -c JEST_ || true';
    await kube(
      fake,
      'POST',
      JOBS,
      job('expand', [
        {
          name: 'main',
          image: 'busybox',
          command: ['/bin/sh', '-c', script, 'sh'],
          args: ['$(A)', '$$(A)', '$(PATH)', '$(HOSTNAME)'],
          env,
        },
      ]),
    );
    await finished('expand');
    const log = await logOf(await podOf('expand'), 'main');
    expect(log.split('\n')).toEqual([
      'A=alpha',
      'REF=alpha-x',
      'ESCAPED=$(A)',
      'DOLLARS=a$b$c',
      'UNDEFINED=$(NOPE)',
      'FORWARD=$(LATER)',
      'OPEN=x$(A',
      'LATER=late',
      'EXTRA_VARS={"name":"$(A) \\u00e9 \\"q\\""}',
      'alpha|$(A)|$(PATH)|$(HOSTNAME)|0',
      '',
    ]);
  });

  it('envFrom and projected secret files', async () => {
    await kube(fake, 'POST', SECRETS, {
      metadata: { name: 'runner' },
      stringData: { api_key: 'runner-key', shared: 'from-runner' },
    });
    await kube(fake, 'POST', SECRETS, {
      metadata: { name: 'task' },
      stringData: { shared: 'from-task', 'multi.line': 'a\nb $(A)' },
    });
    const container = shell(
      'main',
      'ls /etc/secret; cat /etc/secret/shared; echo; echo "$api_key/$shared/$P_shared"; cat /etc/secret/nested/key; touch /etc/secret/x 2>/dev/null || echo read-only',
      {
        envFrom: [
          { secretRef: { name: 'runner' } },
          { secretRef: { name: 'task' } },
          { secretRef: { name: 'task' }, prefix: 'P_' },
          { secretRef: { name: 'absent', optional: true } },
        ],
        volumeMounts: [{ name: 'secrets', mountPath: '/etc/secret', readOnly: true }],
      },
    );
    await kube(
      fake,
      'POST',
      JOBS,
      job('secrets', [container], {
        volumes: [
          {
            name: 'secrets',
            projected: {
              sources: [
                { secret: { name: 'runner' } },
                {
                  secret: {
                    name: 'task',
                    items: [
                      { key: 'shared', path: 'shared' },
                      { key: 'multi.line', path: 'nested/key' },
                    ],
                  },
                },
              ],
            },
          },
        ],
      }),
    );
    const done = await finished('secrets');
    expect(conditionTypes(done)).toContain('Complete');
    expect(await logOf(await podOf('secrets'), 'main')).toBe(
      'api_key\nnested\nshared\nfrom-task\nrunner-key/from-task/from-task\na\nb $(A)read-only\n',
    );
  });

  it('missing secret blocks the container until it exists', async () => {
    await kube(
      fake,
      'POST',
      JOBS,
      job('blocked', [
        shell('main', 'echo "$token"', {
          env: [{ name: 'token', valueFrom: { secretKeyRef: { name: 'later', key: 'token' } } }],
        }),
      ]),
    );
    const pod = await podOf('blocked');
    const waiting = await waitUntil('CreateContainerConfigError', () => {
      const current = fake.getObject('pods', pod.metadata.name);
      const state = current?.status?.containerStatuses?.[0]?.state?.waiting;
      return state?.reason === 'CreateContainerConfigError' ? state : undefined;
    });
    expect(waiting.message).toBe('secret "later" not found');
    expect(fake.getObject('pods', pod.metadata.name)?.status.phase).toBe('Pending');
    const log = await kube(fake, 'GET', `${PODS}/${pod.metadata.name}/log`);
    expect(log.status).toBe(400);
    expect(log.body.message).toBe(
      `container "main" in pod "${pod.metadata.name}" is waiting to start: CreateContainerConfigError`,
    );

    await kube(fake, 'POST', SECRETS, {
      metadata: { name: 'later' },
      stringData: { token: 'now' },
    });
    await finished('blocked');
    expect(await logOf(pod, 'main')).toBe('now\n');
  });

  it('missing secret volume keeps the pod creating', async () => {
    await kube(
      fake,
      'POST',
      JOBS,
      job(
        'no-volume',
        [shell('main', 'true', { volumeMounts: [{ name: 's', mountPath: '/etc/secret' }] })],
        { volumes: [{ name: 's', secret: { secretName: 'absent' } }] },
      ),
    );
    const pod = await podOf('no-volume');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const current = fake.getObject('pods', pod.metadata.name) as Json;
    expect(current.status.phase).toBe('Pending');
    expect(current.status.containerStatuses[0].state.waiting.reason).toBe('ContainerCreating');
  });

  it('deadline kills the pod and fails the job', async () => {
    await kube(
      fake,
      'POST',
      JOBS,
      job('slow', [shell('main', 'echo started; sleep 30')], {
        spec: { activeDeadlineSeconds: 1 },
      }),
    );
    const done = await finished('slow');
    expect(conditionTypes(done)).toEqual(['FailureTarget', 'Failed']);
    expect(done.status.conditions[1]).toMatchObject({
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
    expect(done.status.failed).toBe(1);
    await waitUntil('the pod to be removed', () =>
      fake.listObjects('pods').length === 0 ? true : undefined,
    );
  });

  it('backoff limit retries with new pods', async () => {
    const watch = await openWatch(fake, `${PODS}?watch=true&labelSelector=job-name%3Dflaky`);
    await kube(
      fake,
      'POST',
      JOBS,
      job('flaky', [shell('main', 'echo failing; exit 3')], { spec: { backoffLimit: 1 } }),
    );
    const done = await finished('flaky');
    expect(conditionTypes(done)).toEqual(['FailureTarget', 'Failed']);
    expect(done.status.conditions[1].reason).toBe('BackoffLimitExceeded');
    expect(done.status.failed).toBe(2);
    const pods = fake.listObjects('pods');
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.status.phase).toBe('Failed');
      expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({
        exitCode: 3,
        reason: 'Error',
      });
    }
    expect(
      new Set(
        watch.events
          .filter((event) => event.type === 'ADDED')
          .map((event) => event.object.metadata.name),
      ).size,
    ).toBe(2);
    watch.close();
  });

  it('logs follow until the container ends', async () => {
    await kube(
      fake,
      'POST',
      JOBS,
      job('chatty', [shell('main', 'echo one; sleep 1; echo two >&2; sleep 0.3; echo three')]),
    );
    const pod = await podOf('chatty');
    await waitUntil('main to run', () =>
      fake.getObject('pods', pod.metadata.name)?.status?.containerStatuses?.[0]?.state?.running
        ? true
        : undefined,
    );
    const followed = await kube(fake, 'GET', `${PODS}/${pod.metadata.name}/log?follow=true`);
    expect(followed.contentType).toBe('text/plain');
    expect(followed.text).toBe('one\ntwo\nthree\n');
    const tail = await kube(
      fake,
      'GET',
      `${PODS}/${pod.metadata.name}/log?container=main&tailLines=1`,
    );
    expect(tail.text).toBe('three\n');
    const wrong = await kube(fake, 'GET', `${PODS}/${pod.metadata.name}/log?container=nope`);
    expect(wrong.status).toBe(400);
  });

  it('log of several containers needs a name', async () => {
    await kube(
      fake,
      'POST',
      JOBS,
      job('pair', [shell('a', 'true'), shell('b', 'true')], {
        initContainers: [shell('init', 'true')],
      }),
    );
    const pod = await podOf('pair');
    const response = await kube(fake, 'GET', `${PODS}/${pod.metadata.name}/log`);
    expect(response.status).toBe(400);
    expect(response.body.message).toBe(
      `a container name must be specified for pod ${pod.metadata.name}, choose one of: [a b] or one of the init containers: [init]`,
    );
  });

  it('delete propagation policies', async () => {
    const running = (name: string): Json => job(name, [shell('main', 'sleep 30')]);
    for (const name of ['background', 'orphan', 'foreground']) {
      await kube(fake, 'POST', JOBS, running(name));
    }
    const pods: Record<string, Json> = {};
    for (const name of ['background', 'orphan', 'foreground']) {
      pods[name] = await podOf(name);
      await waitUntil(`${name} to run`, () =>
        fake.getObject('pods', pods[name].metadata.name)?.status?.phase === 'Running'
          ? true
          : undefined,
      );
    }

    const background = await kube(fake, 'DELETE', `${JOBS}/background`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Background',
    });
    expect(background.body).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'background', group: 'batch', kind: 'jobs' },
    });
    expect(fake.getObject('jobs', 'background')).toBeUndefined();
    await waitUntil('background pod removal', () =>
      fake.getObject('pods', pods.background.metadata.name) === undefined ? true : undefined,
    );

    const orphan = await kube(fake, 'DELETE', `${JOBS}/orphan`);
    expect(orphan.status).toBe(200);
    expect(orphan.body.metadata.finalizers).toEqual(['orphan']);
    await waitUntil('orphan job removal', () =>
      fake.getObject('jobs', 'orphan') === undefined ? true : undefined,
    );
    const orphaned = fake.getObject('pods', pods.orphan.metadata.name) as Json;
    expect(orphaned.status.phase).toBe('Running');
    expect(orphaned.metadata.ownerReferences).toBeUndefined();

    const foreground = await kube(
      fake,
      'DELETE',
      `${JOBS}/foreground?propagationPolicy=Foreground`,
    );
    expect(foreground.body.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(fake.getObject('jobs', 'foreground')?.metadata.deletionTimestamp).toBeDefined();
    await waitUntil('foreground job removal', () =>
      fake.getObject('jobs', 'foreground') === undefined ? true : undefined,
    );
    expect(fake.getObject('pods', pods.foreground.metadata.name)).toBeUndefined();

    const badPolicy = await kube(
      fake,
      'DELETE',
      `${PODS}/${pods.orphan.metadata.name}?propagationPolicy=background`,
    );
    expect(badPolicy.status).toBe(422);
  });

  it('owned secrets follow their job', async () => {
    const owned = async (jobName: string): Promise<void> => {
      const created = await kube(fake, 'POST', JOBS, job(jobName, [shell('main', 'sleep 30')]));
      const owner = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: jobName,
        uid: created.body.metadata.uid,
      };
      const secret = await kube(fake, 'POST', SECRETS, {
        metadata: { name: `${jobName}-env`, ownerReferences: [owner] },
        stringData: { EXTRA_VARS: '{}' },
      });
      expect(secret.status).toBe(201);
    };
    await owned('collected');
    await owned('kept');

    await kube(fake, 'DELETE', `${JOBS}/collected?propagationPolicy=Background`);
    await waitUntil('the owned secret to be collected', () =>
      fake.getObject('secrets', 'collected-env') === undefined ? true : undefined,
    );

    await kube(fake, 'DELETE', `${JOBS}/kept?propagationPolicy=Orphan`);
    await waitUntil('the orphan job removal', () =>
      fake.getObject('jobs', 'kept') === undefined ? true : undefined,
    );
    expect(fake.getObject('secrets', 'kept-env')?.metadata.ownerReferences).toBeUndefined();

    const dangling = await kube(fake, 'POST', SECRETS, {
      metadata: {
        name: 'dangling',
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: 'gone',
            uid: '00000000-0000-0000-0000-000000000000',
          },
        ],
      },
    });
    expect(dangling.status).toBe(201);
    await waitUntil('the dangling secret to be collected', () =>
      fake.getObject('secrets', 'dangling') === undefined ? true : undefined,
    );
  });

  it('job patch keeps immutable fields', async () => {
    const created = await kube(fake, 'POST', JOBS, job('patched', [shell('main', 'sleep 30')]));
    const merge = { contentType: 'application/merge-patch+json' };
    const labelled = await kube(
      fake,
      'PATCH',
      `${JOBS}/patched`,
      {
        metadata: { annotations: { 'kriten.io/log-saved': 'true' } },
        spec: { activeDeadlineSeconds: 1 },
      },
      merge,
    );
    expect(labelled.status).toBe(200);
    expect(labelled.body.metadata.annotations).toEqual({ 'kriten.io/log-saved': 'true' });
    expect(labelled.body.metadata.generation).toBe(2);
    expect(labelled.body.metadata.uid).toBe(created.body.metadata.uid);

    const template = await kube(
      fake,
      'PATCH',
      `${JOBS}/patched`,
      { spec: { template: { spec: { containers: [{ name: 'main', image: 'other' }] } } } },
      { contentType: 'application/strategic-merge-patch+json' },
    );
    expect(template.status).toBe(422);
    expect(template.body.details.causes.map((cause: { field: string }) => cause.field)).toEqual([
      'spec.template',
    ]);

    const done = await finished('patched');
    expect(done.status.conditions[1].reason).toBe('DeadlineExceeded');
  });

  it('suspend stops pods and resume restarts', async () => {
    await kube(
      fake,
      'POST',
      JOBS,
      job('paused', [shell('main', 'sleep 1; echo resumed')], { spec: { suspend: true } }),
    );
    const suspended = await waitUntil('the Suspended condition', () => {
      const stored = fake.getObject('jobs', 'paused');
      return stored !== undefined && conditionTypes(stored).includes('Suspended')
        ? stored
        : undefined;
    });
    expect(suspended.status.conditions[0]).toMatchObject({
      status: 'True',
      reason: 'JobSuspended',
    });
    expect(suspended.status.startTime).toBeUndefined();
    expect(fake.listObjects('pods')).toHaveLength(0);

    const merge = { contentType: 'application/merge-patch+json' };
    await kube(fake, 'PATCH', `${JOBS}/paused`, { spec: { suspend: false } }, merge);
    const first = await podOf('paused');
    await kube(fake, 'PATCH', `${JOBS}/paused`, { spec: { suspend: true } }, merge);
    await waitUntil('the suspended pod to go', () =>
      fake.getObject('pods', first.metadata.name) === undefined ? true : undefined,
    );
    await kube(fake, 'PATCH', `${JOBS}/paused`, { spec: { suspend: false } }, merge);

    const done = await finished('paused');
    expect(conditionTypes(done)).toEqual(['Suspended', 'SuccessCriteriaMet', 'Complete']);
    expect(done.status.conditions[0]).toMatchObject({ status: 'False', reason: 'JobResumed' });
    expect(done.status.failed).toBeUndefined();
  });

  it('image pull error keeps the pod pending', async () => {
    fake.addPodScenario({
      effect: 'imagePullError',
      image: 'registry.example/missing:1',
      times: 1,
    });
    await kube(
      fake,
      'POST',
      JOBS,
      job('pull', [{ name: 'main', image: 'registry.example/missing:1', command: ['true'] }]),
    );
    const pod = await podOf('pull');
    const waiting = await waitUntil('ImagePullBackOff', () => {
      const state = fake.getObject('pods', pod.metadata.name)?.status?.containerStatuses?.[0]?.state
        ?.waiting;
      return state?.reason === 'ImagePullBackOff' ? state : undefined;
    });
    expect(waiting.message).toBe('Back-off pulling image "registry.example/missing:1"');
    expect(fake.getObject('pods', pod.metadata.name)?.status.phase).toBe('Pending');
    const log = await kube(fake, 'GET', `${PODS}/${pod.metadata.name}/log`);
    expect(log.body.message).toBe(
      `container "main" in pod "${pod.metadata.name}" is waiting to start: trying and failing to pull image`,
    );
  });

  it('oom scenario kills the main container', async () => {
    fake.addPodScenario({ effect: 'oomKill', jobName: 'hungry', afterMilliseconds: 200 });
    await kube(fake, 'POST', JOBS, job('hungry', [shell('main', 'sleep 30')]));
    const done = await finished('hungry');
    expect(conditionTypes(done)).toEqual(['FailureTarget', 'Failed']);
    const pod = fake.listObjects('pods')[0];
    expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({
      exitCode: 137,
      reason: 'OOMKilled',
    });
  });

  it('missing workingDir is created', async () => {
    const inVolume = shell('main', 'pwd; touch made-here', {
      workingDir: '/work/deep/inside',
      volumeMounts: [{ name: 'work', mountPath: '/work' }],
    });
    const inRoot = shell('other', 'pwd', { workingDir: '/usr/share/fresh' });
    await kube(
      fake,
      'POST',
      JOBS,
      job('workdir', [inVolume, inRoot], { volumes: [{ name: 'work', emptyDir: {} }] }),
    );
    const done = await finished('workdir');
    expect(conditionTypes(done)).toContain('Complete');
    const pod = await podOf('workdir');
    expect(await logOf(pod, 'main')).toBe('/work/deep/inside\n');
    expect(await logOf(pod, 'other')).toBe('/usr/share/fresh\n');
  });

  it('root stays read-only outside tmp', async () => {
    const probe =
      'for d in /tmp /root /run /usr /work; do touch $d/probe 2>/dev/null && echo "$d rw" || echo "$d ro"; done';
    const writable = shell('main', probe, { volumeMounts: [{ name: 'work', mountPath: '/work' }] });
    const locked = shell('locked', probe, {
      volumeMounts: [{ name: 'work', mountPath: '/work' }],
      securityContext: { readOnlyRootFilesystem: true },
    });
    await kube(
      fake,
      'POST',
      JOBS,
      job('readonly', [writable, locked], { volumes: [{ name: 'work', emptyDir: {} }] }),
    );
    await finished('readonly');
    const pod = await podOf('readonly');
    expect(await logOf(pod, 'main')).toBe('/tmp rw\n/root rw\n/run rw\n/usr ro\n/work rw\n');
    expect(await logOf(pod, 'locked')).toBe('/tmp ro\n/root ro\n/run ro\n/usr ro\n/work rw\n');
  });

  it('command not on PATH is a StartError', async () => {
    await kube(
      fake,
      'POST',
      JOBS,
      job('typo', [{ name: 'main', image: 'alpine', command: ['no-such-program'] }]),
    );
    await finished('typo');
    const terminated = fake.listObjects('pods')[0].status.containerStatuses[0].state.terminated;
    expect(terminated).toMatchObject({ exitCode: 128, reason: 'StartError' });
    expect(terminated.message).toContain(
      'exec: "no-such-program": executable file not found in $PATH',
    );
  });

  it('NUL byte in a variable is a StartError', async () => {
    await kube(fake, 'POST', SECRETS, {
      metadata: { name: 'binary' },
      data: { blob: Buffer.from('a\0b').toString('base64') },
    });
    await kube(
      fake,
      'POST',
      JOBS,
      job('nul', [shell('main', 'true', { envFrom: [{ secretRef: { name: 'binary' } }] })]),
    );
    const done = await finished('nul');
    expect(conditionTypes(done)).toContain('Failed');
    const terminated = fake.listObjects('pods')[0].status.containerStatuses[0].state.terminated;
    expect(terminated).toMatchObject({ exitCode: 128, reason: 'StartError' });
  });

  it('ttl deletes the finished job and pods', async () => {
    await kube(
      fake,
      'POST',
      JOBS,
      job('short-lived', [shell('main', 'true')], { spec: { ttlSecondsAfterFinished: 1 } }),
    );
    await finished('short-lived');
    await waitUntil('ttl deletion', () =>
      fake.getObject('jobs', 'short-lived') === undefined && fake.listObjects('pods').length === 0
        ? true
        : undefined,
    );
  });

  it('vanished pod is replaced after the pause', async () => {
    await kube(
      fake,
      'POST',
      JOBS,
      job('ghost', [shell('main', 'sleep 1; echo done')], { spec: { backoffLimit: 1 } }),
    );
    const first = await podOf('ghost');
    await fake.vanishPod(first.metadata.name, { controllerPauseMilliseconds: 300 });
    expect(fake.getObject('pods', first.metadata.name)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(fake.listObjects('pods')).toHaveLength(0);
    const done = await finished('ghost');
    expect(conditionTypes(done)).toContain('Complete');
    expect(done.status).toMatchObject({ failed: 1, succeeded: 1 });
  });

  it('slow start delays scheduling', async () => {
    fake.addPodScenario({ effect: 'slowStart', delayMilliseconds: 400 });
    await kube(fake, 'POST', JOBS, job('lazy', [shell('main', 'true')]));
    const pod = await podOf('lazy');
    expect(pod.spec.nodeName).toBeUndefined();
    await finished('lazy');
  });

  it('OnFailure restarts the container in place', async () => {
    const restarting = await startFakeKube({
      restartBackoffMilliseconds: 100,
      retryMilliseconds: 100,
    });
    try {
      const script =
        'if [ -e /work/tried ]; then echo second; else touch /work/tried; echo first; exit 2; fi';
      const onFailure = job(
        'retry',
        [shell('main', script, { volumeMounts: [{ name: 'work', mountPath: '/work' }] })],
        {
          volumes: [{ name: 'work', emptyDir: {} }],
          spec: { backoffLimit: 2 },
        },
      );
      onFailure.spec.template.spec.restartPolicy = 'OnFailure';
      await kube(restarting, 'POST', JOBS, onFailure);
      const done = await waitUntil('the job to complete', () => {
        const stored = restarting.getObject('jobs', 'retry');
        return stored !== undefined && conditionTypes(stored).includes('Complete')
          ? stored
          : undefined;
      });
      expect(done.status.failed).toBeUndefined();

      const pods = restarting.listObjects('pods');
      expect(pods).toHaveLength(1);
      const status = pods[0].status.containerStatuses[0];
      expect(status.restartCount).toBe(1);
      expect(status.lastState.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
      expect(status.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
      const log = await kube(restarting, 'GET', `${PODS}/${pods[0].metadata.name}/log`);
      expect(log.text).toBe('second\n');
      const previous = await kube(
        restarting,
        'GET',
        `${PODS}/${pods[0].metadata.name}/log?previous=true`,
      );
      expect(previous.text).toBe('first\n');
    } finally {
      await restarting.stop();
    }
  });

  it('init container clones a shared repository', async () => {
    const repository = makeTempDir('fake-kube-repo-');
    writeFileSync(join(repository, 'run.sh'), 'echo from the repository\n');
    const git = (...args: string[]): void => {
      execFileSync('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], {
        cwd: repository,
      });
    };
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'add script');

    const stateDir = makeTempDir('fake-kube-state-');
    const isolated = await startFakeKube({ stateDir, retryMilliseconds: 100 });
    try {
      const clone = shell(
        'clone',
        `git clone -q --depth 1 --branch main file://${repository} /workspace/src`,
        {
          volumeMounts: [{ name: 'work', mountPath: '/workspace' }],
        },
      );
      const main = shell(
        'main',
        `sh run.sh; ls -A ${stateDir} | wc -l; touch ${repository}/x 2>/dev/null || echo read-only`,
        {
          workingDir: '/workspace/src',
          volumeMounts: [{ name: 'work', mountPath: '/workspace' }],
        },
      );
      await kube(
        isolated,
        'POST',
        JOBS,
        job('clone', [main], {
          initContainers: [clone],
          volumes: [{ name: 'work', emptyDir: {} }],
        }),
      );
      const pod = await waitUntil('the clone pod to succeed', () =>
        isolated.listObjects('pods').find((candidate) => candidate.status?.phase === 'Succeeded'),
      );
      const log = await kube(isolated, 'GET', `${PODS}/${pod.metadata.name}/log?container=main`);
      expect(log.text).toBe('from the repository\n0\nread-only\n');
    } finally {
      await isolated.stop();
    }
  });
});
