import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../temp';
import { startFakeKube, type FakeKube } from './index';
import { kube, openWatch } from './test-client';

const SECRETS = '/api/v1/namespaces/kriten/secrets';
const JOBS = '/apis/batch/v1/namespaces/kriten/jobs';

function secret(
  name: string,
  labels: Record<string, string> = {},
  data: Record<string, string> = {},
): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, labels }, stringData: data };
}

function job(name: string, spec: Record<string, unknown> = {}): Record<string, any> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'alpine:3.20', command: ['true'] }],
        },
      },
      ...spec,
    },
  };
}

describe('fake kube API server', () => {
  let fake: FakeKube;

  beforeEach(async () => {
    fake = await startFakeKube({ bookmarkIntervalMilliseconds: 100 });
  });

  afterEach(async () => {
    await fake.stop();
  });

  it('unknown path returns 404 Status', async () => {
    const response = await kube(fake, 'GET', '/api/v1/namespaces/kriten/widgets');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
    });
  });

  it('wrong token returns 401 Unauthorized', async () => {
    const response = await kube(fake, 'GET', SECRETS, undefined, { token: 'wrong' });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
  });

  it('health is open without a token', async () => {
    const health = await fetch(`${fake.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    const anonymous = await fetch(`${fake.url}${SECRETS}`);
    expect(anonymous.status).toBe(401);
    const badToken = await kube(fake, 'GET', '/healthz', undefined, { token: 'wrong' });
    expect(badToken.status).toBe(401);
  });

  it('rotated token rejects the old one', async () => {
    const old = fake.token;
    fake.rotateToken('new-token');
    expect((await kube(fake, 'GET', SECRETS, undefined, { token: old })).status).toBe(401);
    expect((await kube(fake, 'GET', SECRETS, undefined, { token: 'new-token' })).status).toBe(200);
  });

  it('kept token works until revoked', async () => {
    const old = fake.token;
    fake.rotateToken('second', { keepOld: true });
    expect((await kube(fake, 'GET', SECRETS, undefined, { token: old })).status).toBe(200);
    expect((await kube(fake, 'GET', SECRETS, undefined, { token: 'second' })).status).toBe(200);
    fake.revokeToken(old);
    expect((await kube(fake, 'GET', SECRETS, undefined, { token: old })).status).toBe(401);
  });

  it('token file follows rotation', async () => {
    const dir = makeTempDir('fake-kube-token-');
    const tokenFile = join(dir, 'token');
    const kubeconfig = readFileSync(fake.writeKubeconfig(dir, { tokenFile }), 'utf8');
    expect(kubeconfig).toContain(`tokenFile: "${tokenFile}"`);
    expect(kubeconfig).toContain('namespace: "kriten"');
    expect(readFileSync(tokenFile, 'utf8')).toBe(fake.token);
    fake.rotateToken('rotated');
    expect(readFileSync(tokenFile, 'utf8')).toBe('rotated');
  });

  it('secret create merges stringData and hides it', async () => {
    const created = await kube(fake, 'POST', SECRETS, {
      ...secret('runner-a', { app: 'kriten' }, { token: 'hunter2' }),
      data: { other: Buffer.from('x').toString('base64') },
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toEqual({
      token: Buffer.from('hunter2').toString('base64'),
      other: 'eA==',
    });
    expect(created.body.stringData).toBeUndefined();
    expect(created.body.type).toBe('Opaque');
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(created.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const read = await kube(fake, 'GET', `${SECRETS}/runner-a`);
    expect(read.body.data.token).toBe(Buffer.from('hunter2').toString('base64'));
  });

  it('secret errors use the server wording', async () => {
    await kube(fake, 'POST', SECRETS, secret('dup'));
    const duplicate = await kube(fake, 'POST', SECRETS, secret('dup'));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({
      reason: 'AlreadyExists',
      message: 'secrets "dup" already exists',
      details: { name: 'dup', kind: 'secrets' },
    });

    const missing = await kube(fake, 'GET', `${SECRETS}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('secrets "nope" not found');

    const missingJob = await kube(fake, 'GET', `${JOBS}/nope`);
    expect(missingJob.body.message).toBe('jobs.batch "nope" not found');
    expect(missingJob.body.details).toEqual({ name: 'nope', group: 'batch', kind: 'jobs' });

    const badBase64 = await kube(fake, 'POST', SECRETS, {
      metadata: { name: 'b64' },
      data: { k: 'abc' },
    });
    expect(badBase64.status).toBe(400);
    expect(badBase64.body.message).toContain('illegal base64 data at input byte');
  });

  it('invalid names and labels return 422 with causes', async () => {
    const response = await kube(
      fake,
      'POST',
      SECRETS,
      secret('Bad_Name', { team: 'has space' }, { 'bad key': 'v' }),
    );
    expect(response.status).toBe(422);
    expect(response.body.reason).toBe('Invalid');
    expect(response.body.message).toMatch(
      /^Secret "Bad_Name" is invalid: \[metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    const fields = response.body.details.causes.map((cause: { field: string }) => cause.field);
    expect(fields).toEqual(['metadata.name', 'metadata.labels', 'data[bad key]']);
    expect(response.body.details.kind).toBe('Secret');

    const longLabel = await kube(fake, 'POST', SECRETS, secret('long', { owner: 'a'.repeat(64) }));
    expect(longLabel.status).toBe(422);
    expect(longLabel.body.details.causes[0].message).toContain(
      'must be no more than 63 characters',
    );

    const noName = await kube(fake, 'POST', SECRETS, { metadata: {} });
    expect(noName.body.message).toBe(
      'Secret "" is invalid: metadata.name: Required value: name or generateName is required',
    );
  });

  it('generateName appends five characters', async () => {
    const response = await kube(fake, 'POST', SECRETS, { metadata: { generateName: 'task-' } });
    expect(response.status).toBe(201);
    expect(response.body.metadata.name).toMatch(/^task-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('secret replace, patches and delete', async () => {
    const created = await kube(fake, 'POST', SECRETS, secret('s1', {}, { a: '1', b: '2' }));

    const stale = await kube(fake, 'PUT', `${SECRETS}/s1`, {
      metadata: { name: 's1', resourceVersion: '1' },
      data: {},
    });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toBe(
      'Operation cannot be fulfilled on secrets "s1": the object has been modified; please apply your changes to the latest version and try again',
    );

    const wrongName = await kube(fake, 'PUT', `${SECRETS}/s1`, { metadata: { name: 's2' } });
    expect(wrongName.status).toBe(400);

    const replaced = await kube(fake, 'PUT', `${SECRETS}/s1`, {
      metadata: { name: 's1', resourceVersion: created.body.metadata.resourceVersion },
      stringData: { c: '3' },
    });
    expect(replaced.status).toBe(200);
    expect(Object.keys(replaced.body.data)).toEqual(['c']);
    expect(replaced.body.metadata.uid).toBe(created.body.metadata.uid);

    const merged = await kube(
      fake,
      'PATCH',
      `${SECRETS}/s1`,
      { data: { c: null, d: 'NA==' } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(merged.body.data).toEqual({ d: 'NA==' });

    const strategic = await kube(
      fake,
      'PATCH',
      `${SECRETS}/s1`,
      { stringData: { e: '5' } },
      { contentType: 'application/strategic-merge-patch+json' },
    );
    expect(strategic.body.data).toEqual({ d: 'NA==', e: 'NQ==' });

    const jsonPatch = await kube(
      fake,
      'PATCH',
      `${SECRETS}/s1`,
      [
        { op: 'remove', path: '/data/d' },
        { op: 'add', path: '/data/f', value: 'Ng==' },
      ],
      { contentType: 'application/json-patch+json' },
    );
    expect(jsonPatch.body.data).toEqual({ e: 'NQ==', f: 'Ng==' });

    const unsupported = await kube(
      fake,
      'PATCH',
      `${SECRETS}/s1`,
      { data: {} },
      { contentType: 'application/json' },
    );
    expect(unsupported.status).toBe(415);

    const deleted = await kube(fake, 'DELETE', `${SECRETS}/s1`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 's1', kind: 'secrets', uid: created.body.metadata.uid },
    });
    expect((await kube(fake, 'GET', `${SECRETS}/s1`)).status).toBe(404);
  });

  it('delete collection by label', async () => {
    await kube(fake, 'POST', SECRETS, secret('one', { job: 'a' }));
    await kube(fake, 'POST', SECRETS, secret('two', { job: 'a' }));
    await kube(fake, 'POST', SECRETS, secret('three', { job: 'b' }));
    const response = await kube(fake, 'DELETE', `${SECRETS}?labelSelector=job%3Da`);
    expect(response.status).toBe(200);
    expect(response.body.kind).toBe('SecretList');
    expect(
      response.body.items.map((item: { metadata: { name: string } }) => item.metadata.name),
    ).toEqual(['one', 'two']);
    const left = await kube(fake, 'GET', SECRETS);
    expect(
      left.body.items.map((item: { metadata: { name: string } }) => item.metadata.name),
    ).toEqual(['three']);
    expect(fake.calls[fake.calls.length - 2].verb).toBe('deletecollection');
  });

  it('secret type and immutable data stay', async () => {
    await kube(fake, 'POST', SECRETS, { ...secret('frozen', {}, { a: '1' }), immutable: true });
    const changedData = await kube(
      fake,
      'PATCH',
      `${SECRETS}/frozen`,
      { stringData: { a: '2' } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(changedData.status).toBe(422);
    expect(changedData.body.details.causes[0]).toEqual({
      reason: 'FieldValueForbidden',
      message: 'Forbidden: field is immutable when `immutable` is set',
      field: 'data',
    });
    await kube(fake, 'POST', SECRETS, secret('typed'));
    const changedType = await kube(
      fake,
      'PATCH',
      `${SECRETS}/typed`,
      { type: 'kubernetes.io/basic-auth' },
      { contentType: 'application/merge-patch+json' },
    );
    expect(changedType.status).toBe(422);
    expect(changedType.body.details.causes[0].field).toBe('type');
  });

  it('label and field selectors filter lists', async () => {
    await kube(fake, 'POST', SECRETS, secret('a', { tier: 'web', env: 'prod' }));
    await kube(fake, 'POST', SECRETS, secret('b', { tier: 'db', env: 'dev' }));
    await kube(fake, 'POST', SECRETS, secret('c', { tier: 'web' }));
    const names = async (query: string): Promise<string[]> => {
      const response = await kube(fake, 'GET', `${SECRETS}?${query}`);
      expect(response.body.kind).toBe('SecretList');
      return response.body.items.map((item: { metadata: { name: string } }) => item.metadata.name);
    };
    expect(await names('labelSelector=tier%3Dweb')).toEqual(['a', 'c']);
    expect(await names('labelSelector=tier!%3Dweb')).toEqual(['b']);
    expect(await names(`labelSelector=${encodeURIComponent('env in (prod,dev)')}`)).toEqual([
      'a',
      'b',
    ]);
    expect(await names(`labelSelector=${encodeURIComponent('env notin (prod)')}`)).toEqual([
      'b',
      'c',
    ]);
    expect(await names('labelSelector=env')).toEqual(['a', 'b']);
    expect(await names(`labelSelector=${encodeURIComponent('!env')}`)).toEqual(['c']);
    expect(await names(`labelSelector=${encodeURIComponent('tier=web,env=prod')}`)).toEqual(['a']);
    expect(await names('fieldSelector=metadata.name%3Db')).toEqual(['b']);

    const firstPage = await kube(fake, 'GET', `${SECRETS}?limit=2`);
    expect(firstPage.body.items).toHaveLength(2);
    expect(firstPage.body.metadata.remainingItemCount).toBe(1);
    const secondPage = await kube(
      fake,
      'GET',
      `${SECRETS}?limit=2&continue=${firstPage.body.metadata.continue}`,
    );
    expect(
      secondPage.body.items.map((item: { metadata: { name: string } }) => item.metadata.name),
    ).toEqual(['c']);
    expect(secondPage.body.items[0].kind).toBeUndefined();
  });

  it('watch replays, streams and sends bookmarks', async () => {
    await kube(fake, 'POST', SECRETS, secret('before', { watched: 'yes' }));
    const synthetic = await openWatch(fake, `${SECRETS}?watch=true&labelSelector=watched%3Dyes`);
    await synthetic.waitFor(
      (event) => event.type === 'ADDED' && event.object.metadata.name === 'before',
    );
    const listed = await kube(fake, 'GET', SECRETS);
    const fromVersion = listed.body.metadata.resourceVersion;

    const watch = await openWatch(
      fake,
      `${SECRETS}?watch=1&resourceVersion=${fromVersion}&allowWatchBookmarks=true&labelSelector=watched%3Dyes`,
    );
    await kube(fake, 'POST', SECRETS, secret('after', { watched: 'yes' }));
    await kube(fake, 'POST', SECRETS, secret('ignored', { watched: 'no' }));
    await kube(
      fake,
      'PATCH',
      `${SECRETS}/after`,
      { metadata: { labels: { watched: 'no' } } },
      { contentType: 'application/merge-patch+json' },
    );
    await kube(fake, 'DELETE', `${SECRETS}/before`);

    await watch.waitFor(
      (event) => event.type === 'DELETED' && event.object.metadata.name === 'before',
    );
    const bookmark = await watch.waitFor((event) => event.type === 'BOOKMARK');
    expect(bookmark.object).toEqual({
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
    });
    const changes = watch.events
      .filter((event) => event.type !== 'BOOKMARK')
      .map((event) => `${event.type} ${event.object.metadata.name}`);
    expect(changes).toEqual(['ADDED after', 'DELETED after', 'DELETED before']);
    expect(synthetic.events.some((event) => event.object.metadata?.name === 'ignored')).toBe(false);
    watch.close();
    synthetic.close();
  });

  it('watch from a compacted version gets 410 Expired', async () => {
    await kube(fake, 'POST', SECRETS, secret('x'));
    const listed = await kube(fake, 'GET', SECRETS);
    await kube(fake, 'POST', SECRETS, secret('y'));
    fake.compactHistory();
    const watch = await openWatch(
      fake,
      `${SECRETS}?watch=true&resourceVersion=${listed.body.metadata.resourceVersion}`,
    );
    expect(await watch.ended).toBe('end');
    expect(watch.events).toHaveLength(1);
    expect(watch.events[0].type).toBe('ERROR');
    expect(watch.events[0].object).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Expired',
      code: 410,
    });
    expect(watch.events[0].object.message).toMatch(
      new RegExp(`^too old resource version: ${listed.body.metadata.resourceVersion} \\(\\d+\\)$`),
    );
  });

  it('expireNextWatch and dropWatches end streams', async () => {
    fake.expireNextWatch();
    const expiredWatch = await openWatch(fake, `${SECRETS}?watch=true&resourceVersion=0`);
    await expiredWatch.ended;
    expect(expiredWatch.events[0].object.code).toBe(410);

    const watch = await openWatch(fake, `${SECRETS}?watch=true`);
    fake.dropWatches();
    expect(await watch.ended).toBe('aborted');

    const timed = await openWatch(fake, `${SECRETS}?watch=true&timeoutSeconds=1`);
    expect(await timed.ended).toBe('end');
  });

  it('denied permission returns 403 and a negative access review', async () => {
    fake.deny({ verb: 'create', resource: 'secrets' });
    const response = await kube(fake, 'POST', SECRETS, secret('s'));
    expect(response.status).toBe(403);
    expect(response.body.message).toBe(
      'secrets is forbidden: User "system:serviceaccount:kriten:kriten" cannot create resource "secrets" in API group "" in the namespace "kriten"',
    );

    const review = (verb: string, resource: string) =>
      kube(fake, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace: 'kriten', verb, resource } },
      });
    const denied = await review('create', 'secrets');
    expect(denied.status).toBe(201);
    expect(denied.body.status.allowed).toBe(false);
    const allowed = await review('watch', 'jobs');
    expect(allowed.body.status.allowed).toBe(true);
  });

  it('misspelled fields are violations with 422', async () => {
    const misspelled = job('typo');
    misspelled.spec.backofLimit = 1;
    misspelled.spec.template.spec.containers[0].comand = ['sh'];
    const response = await kube(fake, 'POST', JOBS, misspelled);
    expect(response.status).toBe(422);
    expect(response.body.details.causes.map((cause: { field: string }) => cause.field)).toEqual([
      'spec.backofLimit',
      'spec.template.spec.containers[0].comand',
    ]);
    expect(fake.violations).toHaveLength(1);
    expect(fake.violations[0]).toMatchObject({ kind: 'Job', name: 'typo', method: 'POST' });

    const wrongType = job('wrong-type', { backoffLimit: 'six' });
    expect((await kube(fake, 'POST', JOBS, wrongType)).status).toBe(422);
    expect(fake.violations).toHaveLength(2);
    expect(fake.violations[1].causes[0]).toMatchObject({
      field: 'spec.backoffLimit',
      message: 'must be of type integer',
    });

    const secretTypo = await kube(fake, 'POST', SECRETS, {
      metadata: { name: 's' },
      strinData: { a: 'b' },
    });
    expect(secretTypo.status).toBe(422);
    expect(fake.violations).toHaveLength(3);
  });

  it('job validation matches the server', async () => {
    const alwaysRestart = job('always');
    delete alwaysRestart.spec.template.spec.restartPolicy;
    const response = await kube(fake, 'POST', JOBS, alwaysRestart);
    expect(response.status).toBe(422);
    expect(response.body.message).toBe(
      'Job.batch "always" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    );

    const badMount = job('mount');
    badMount.spec.template.spec.containers[0].volumeMounts = [{ name: 'work', mountPath: '/work' }];
    const mountResponse = await kube(fake, 'POST', JOBS, badMount);
    expect(mountResponse.body.details.causes).toEqual([
      {
        reason: 'FieldValueNotFound',
        message: 'Not found: "work"',
        field: 'spec.template.spec.containers[0].volumeMounts[0].name',
      },
    ]);

    const longName = await kube(fake, 'POST', JOBS, job('j'.repeat(64)));
    expect(longName.status).toBe(422);
    expect(
      longName.body.details.causes.some(
        (cause: { field: string }) => cause.field === 'spec.template.metadata.labels',
      ),
    ).toBe(true);
    expect(fake.violations).toHaveLength(0);
  });

  it('job create fills defaults and selector', async () => {
    const response = await kube(fake, 'POST', JOBS, job('defaults'));
    expect(response.status).toBe(201);
    const uid = response.body.metadata.uid;
    expect(response.body.spec.selector).toEqual({
      matchLabels: { 'batch.kubernetes.io/controller-uid': uid },
    });
    expect(response.body.spec.template.metadata.labels).toEqual({
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'defaults',
      'controller-uid': uid,
      'job-name': 'defaults',
    });
    expect(response.body.spec).toMatchObject({
      parallelism: 1,
      completions: 1,
      completionMode: 'NonIndexed',
      suspend: false,
    });
    expect(response.body.metadata.generation).toBe(1);
  });

  it('calls record verbs', async () => {
    await kube(fake, 'POST', SECRETS, secret('v'));
    await kube(fake, 'GET', `${SECRETS}/v`);
    await kube(fake, 'GET', SECRETS);
    await kube(fake, 'DELETE', `${SECRETS}/v`);
    expect(fake.calls.map((call) => `${call.verb} ${call.resource} ${call.code}`)).toEqual([
      'create secrets 201',
      'get secrets 200',
      'list secrets 200',
      'delete secrets 200',
    ]);
    expect(fake.calls[1]).toMatchObject({
      namespace: 'kriten',
      name: 'v',
      method: 'GET',
      path: `${SECRETS}/v`,
    });
  });
});
