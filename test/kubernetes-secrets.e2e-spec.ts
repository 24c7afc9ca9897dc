import { rmSync } from 'node:fs';
import { DatabaseTarget, databaseTargets } from './support/databases';
import { ExecutorRuntime, kubernetesExecutor } from './support/executors';
import { GitRepository } from './support/git-repos';
import { ApiClient } from './support/http-client';
import { createRunner, createTask } from './support/job-fixtures';
import type { FakeKube } from './support/fake-kube';
import {
  createSecret,
  KubeObject,
  readSecretValues,
  replaceSecretValues,
  secretNamesLabelled,
} from './support/kube-client';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';
import { readSqliteFiles, readStoredSecrets, StoredSecretRow } from './support/stored-secrets';

jest.setTimeout(30_000);

const SECRET_MASK = '************';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kriten' };

function messageOf(body: { message?: unknown }): string {
  return Array.isArray(body.message) ? body.message.join('; ') : String(body.message ?? '');
}

describe.each(databaseTargets())('kubernetes Secrets on $name', (target: DatabaseTarget) => {
  let runtime: ExecutorRuntime;
  let server: KritenServer;
  let databaseUrl: string | undefined;
  let api: ApiClient;
  let fake: FakeKube;
  let repository: GitRepository;

  function readSecret(name: string): KubeObject | undefined {
    return fake.getObject('secrets', name) as KubeObject | undefined;
  }

  async function storedRows(): Promise<StoredSecretRow[]> {
    return readStoredSecrets(server.dataDir, databaseUrl);
  }

  beforeAll(async () => {
    repository = GitRepository.create({ 'README.md': '# secrets suite\n' });
    runtime = await kubernetesExecutor.start();
    databaseUrl = await target.create();
    server = await KritenServer.start({ databaseUrl, env: runtime.env });
    api = new ApiClient(server.baseUrl);
    await api.login('root', ROOT_PASSWORD);
    fake = runtime.fake!;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await target.drop(databaseUrl);
    await runtime?.stop();
    rmSync(repository.path, { recursive: true, force: true });
  });

  describe('runner', () => {
    beforeAll(async () => {
      await createRunner(api, {
        name: 'deploy',
        gitURL: repository.url,
        token: 'git-token-value',
        secret: { API_KEY: 'api-key-value', shared: 'runner-shared-value' },
      });
    });

    it('create writes the runner Secret', async () => {
      const secret = readSecret('kriten-runner-deploy');

      expect(secret?.type).toBe('Opaque');
      expect(secret?.metadata.labels).toEqual({ ...MANAGED_BY, 'kriten.io/runner': 'deploy' });
      expect(readSecretValues(fake, 'kriten-runner-deploy')).toEqual({
        API_KEY: 'api-key-value',
        shared: 'runner-shared-value',
      });
    });

    it('create writes the git token Secret', async () => {
      const secret = readSecret('kriten-runner-deploy-git');

      expect(secret?.metadata.labels).toEqual({ ...MANAGED_BY, 'kriten.io/runner': 'deploy' });
      expect(readSecretValues(fake, 'kriten-runner-deploy-git')).toEqual({
        token: 'git-token-value',
      });
    });

    it('reads stay masked', async () => {
      const runner = await api.get('/api/v1/runners/deploy');
      const secret = await api.get('/api/v1/runners/deploy/secret');

      expect(runner.body.token).toBe(SECRET_MASK);
      expect(runner.body.secret).toEqual({ API_KEY: SECRET_MASK, shared: SECRET_MASK });
      expect(secret.body).toEqual({ API_KEY: SECRET_MASK, shared: SECRET_MASK });
      expect(runner.text).not.toContain('api-key-value');
    });

    it('database holds keys without values', async () => {
      const rows = (await storedRows()).filter((row) => row.ownerName === 'deploy');

      expect(rows.map((row) => `${row.ownerKind}/${row.key}`).sort()).toEqual([
        'runner/API_KEY',
        'runner/shared',
        'runner_git_token/token',
      ]);
      expect(rows.map((row) => row.encryptedValue)).toEqual([null, null, null]);
    });

    it('post merges into the Secret', async () => {
      const response = await api.post('/api/v1/runners/deploy/secret', {
        API_KEY: SECRET_MASK,
        shared: '',
        ADDED: 'added-value',
        UNKNOWN: SECRET_MASK,
      });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ADDED: SECRET_MASK, API_KEY: SECRET_MASK });
      expect(readSecretValues(fake, 'kriten-runner-deploy')).toEqual({
        API_KEY: 'api-key-value',
        ADDED: 'added-value',
      });
    });

    it('patch replaces a changed value', async () => {
      const response = await api.patch('/api/v1/runners/deploy', {
        secret: { API_KEY: 'rotated-value' },
        token: SECRET_MASK,
      });

      expect(response.status).toBe(200);
      expect(readSecretValues(fake, 'kriten-runner-deploy')?.API_KEY).toBe('rotated-value');
      expect(readSecretValues(fake, 'kriten-runner-deploy-git')).toEqual({
        token: 'git-token-value',
      });
    });

    it('masked patch writes no Secret', async () => {
      const writes = () =>
        fake.calls.filter(
          (call) => call.resource === 'secrets' && ['create', 'update'].includes(call.verb),
        ).length;
      const before = writes();

      const response = await api.patch('/api/v1/runners/deploy', {
        secret: { API_KEY: SECRET_MASK, ADDED: SECRET_MASK },
        token: SECRET_MASK,
      });

      expect(response.status).toBe(200);
      expect(writes()).toBe(before);
    });

    it('patch with a new token replaces it', async () => {
      await api.patch('/api/v1/runners/deploy', { token: 'new-git-token' });

      expect(readSecretValues(fake, 'kriten-runner-deploy-git')).toEqual({
        token: 'new-git-token',
      });
    });

    it('empty token deletes the git Secret', async () => {
      const response = await api.patch('/api/v1/runners/deploy', { token: '' });

      expect(response.body.token).toBe('');
      expect(readSecret('kriten-runner-deploy-git')).toBeUndefined();
    });

    it('deleting every key deletes the Secret', async () => {
      const response = await api.delete('/api/v1/runners/deploy/secret');

      expect(response.status).toBe(200);
      expect(readSecret('kriten-runner-deploy')).toBeUndefined();
      expect((await api.get('/api/v1/runners/deploy/secret')).body).toEqual({});
    });

    it('runner delete removes its Secrets', async () => {
      await createRunner(api, {
        name: 'short-lived',
        gitURL: repository.url,
        token: 'short-lived-token',
        secret: { KEY: 'value' },
      });
      const before = secretNamesLabelled(fake, 'kriten.io/runner', 'short-lived');

      const response = await api.delete('/api/v1/runners/short-lived');

      expect(before).toEqual(['kriten-runner-short-lived', 'kriten-runner-short-lived-git']);
      expect(response.status).toBe(200);
      expect(secretNamesLabelled(fake, 'kriten.io/runner', 'short-lived')).toEqual([]);
      expect((await storedRows()).filter((row) => row.ownerName === 'short-lived')).toEqual([]);
    });

    it('runner without secrets has no Secret', async () => {
      await createRunner(api, { name: 'plain', gitURL: repository.url });

      expect(secretNamesLabelled(fake, 'kriten.io/runner', 'plain')).toEqual([]);
    });

    it('create replaces a leftover Secret', async () => {
      // A save whose database write failed after its Secret was written leaves such a Secret.
      await createSecret(fake, 'kriten-runner-leftover', { STALE: 'stale-value' });

      await createRunner(api, {
        name: 'leftover',
        gitURL: repository.url,
        secret: { FRESH: 'fresh-value' },
      });

      expect(readSecretValues(fake, 'kriten-runner-leftover')).toEqual({
        FRESH: 'fresh-value',
      });
      expect((await api.get('/api/v1/runners/leftover/secret')).body).toEqual({
        FRESH: SECRET_MASK,
      });
    });
  });

  describe('Secret ahead of the database', () => {
    beforeAll(async () => {
      await createRunner(api, {
        name: 'ahead',
        gitURL: repository.url,
        secret: { KNOWN: 'known-value' },
      });
      // A save whose database write failed after its Secret write leaves a key the rows lack.
      await replaceSecretValues(fake, 'kriten-runner-ahead', {
        KNOWN: 'known-value',
        UNRECORDED: 'unrecorded-value',
      });
    });

    it('next save records every key', async () => {
      const response = await api.post('/api/v1/runners/ahead/secret', { ADDED: 'added-value' });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        ADDED: SECRET_MASK,
        KNOWN: SECRET_MASK,
        UNRECORDED: SECRET_MASK,
      });
      expect(readSecretValues(fake, 'kriten-runner-ahead')).toEqual({
        KNOWN: 'known-value',
        UNRECORDED: 'unrecorded-value',
        ADDED: 'added-value',
      });
    });

    it('next save can delete that key', async () => {
      const response = await api.post('/api/v1/runners/ahead/secret', { UNRECORDED: '' });

      expect(response.body).toEqual({ ADDED: SECRET_MASK, KNOWN: SECRET_MASK });
      expect(readSecretValues(fake, 'kriten-runner-ahead')).toEqual({
        KNOWN: 'known-value',
        ADDED: 'added-value',
      });
    });
  });

  describe('task', () => {
    beforeAll(async () => {
      await createRunner(api, { name: 'task-host', gitURL: repository.url });
      await createTask(api, {
        name: 'backup',
        runner: 'task-host',
        command: 'true',
        secret: { DB_PASSWORD: 'db-password-value', BUCKET: 'bucket-value' },
      });
    });

    it('create writes the task Secret', async () => {
      const secret = readSecret('kriten-task-backup');

      expect(secret?.metadata.labels).toEqual({ ...MANAGED_BY, 'kriten.io/task': 'backup' });
      expect(readSecretValues(fake, 'kriten-task-backup')).toEqual({
        DB_PASSWORD: 'db-password-value',
        BUCKET: 'bucket-value',
      });
    });

    it('patch merges into the Secret', async () => {
      const response = await api.patch('/api/v1/tasks/backup', {
        secret: { DB_PASSWORD: SECRET_MASK, BUCKET: '', REGION: 'eu' },
      });

      expect(response.status).toBe(200);
      expect(response.body.secret).toEqual({ DB_PASSWORD: SECRET_MASK, REGION: SECRET_MASK });
      expect(readSecretValues(fake, 'kriten-task-backup')).toEqual({
        DB_PASSWORD: 'db-password-value',
        REGION: 'eu',
      });
    });

    it('post merges into the Secret', async () => {
      await api.post('/api/v1/tasks/backup/secret', { DB_PASSWORD: 'new-password' });

      expect(readSecretValues(fake, 'kriten-task-backup')).toEqual({
        DB_PASSWORD: 'new-password',
        REGION: 'eu',
      });
    });

    it('database holds keys without values', async () => {
      const rows = (await storedRows()).filter((row) => row.ownerName === 'backup');

      expect(rows.map((row) => `${row.ownerKind}/${row.key}`).sort()).toEqual([
        'task/DB_PASSWORD',
        'task/REGION',
      ]);
      expect(rows.every((row) => row.encryptedValue === null)).toBe(true);
    });

    it('task delete removes its Secret', async () => {
      const response = await api.delete('/api/v1/tasks/backup');

      expect(response.status).toBe(200);
      expect(readSecret('kriten-task-backup')).toBeUndefined();
    });
  });

  describe('stored values', () => {
    it('no secret value reaches the database', async () => {
      const values = [
        'api-key-value',
        'rotated-value',
        'git-token-value',
        'new-git-token',
        'db-password-value',
        'new-password',
        'fresh-value',
      ];

      const dump = JSON.stringify(await storedRows());
      // MariaDB keeps its files elsewhere, so only the SQLite files are read byte for byte.
      const files = databaseUrl === undefined ? readSqliteFiles(server.dataDir) : '';

      for (const value of values) {
        expect(dump).not.toContain(value);
        expect(files).not.toContain(value);
      }
    });
  });

  describe('when Secret writes are forbidden', () => {
    beforeAll(async () => {
      await createRunner(api, {
        name: 'existing',
        gitURL: repository.url,
        secret: { KEY: 'existing-value' },
      });
      await createTask(api, {
        name: 'existing-task',
        runner: 'existing',
        command: 'true',
        secret: { TASK_KEY: 'task-value' },
      });
      for (const verb of ['create', 'update', 'delete']) {
        fake.deny({ verb, resource: 'secrets' });
      }
    });

    afterAll(() => {
      fake.allowAll();
    });

    it('create answers 503 and saves nothing', async () => {
      const before = await api.get('/api/v1/runners');

      const response = await api.post('/api/v1/runners', {
        name: 'unsaved',
        image: 'alpine:3.20',
        gitURL: repository.url,
        secret: { KEY: 'unsaved-secret-value' },
      });
      const after = await api.get('/api/v1/runners');

      expect(response.status).toBe(503);
      expect(messageOf(response.body)).toContain("Secret 'kriten-runner-unsaved'");
      expect(messageOf(response.body)).toContain('HTTP 403');
      expect(messageOf(response.body)).toContain('forbidden');
      expect(messageOf(response.body)).toContain('the database is unchanged');
      expect(after.body).toEqual(before.body);
      expect((await api.get('/api/v1/runners/unsaved')).status).toBe(404);
      expect(readSecret('kriten-runner-unsaved')).toBeUndefined();
    });

    it('secret post answers 503 and changes nothing', async () => {
      const response = await api.post('/api/v1/runners/existing/secret', { ADDED: 'added' });

      expect(response.status).toBe(503);
      expect(messageOf(response.body)).toContain("Secret 'kriten-runner-existing'");
      expect((await api.get('/api/v1/runners/existing/secret')).body).toEqual({
        KEY: SECRET_MASK,
      });
      expect(readSecretValues(fake, 'kriten-runner-existing')).toEqual({
        KEY: 'existing-value',
      });
    });

    it('task patch answers 503 and changes nothing', async () => {
      const before = await api.get('/api/v1/tasks/existing-task');

      const response = await api.patch('/api/v1/tasks/existing-task', {
        command: 'echo changed',
        secret: { TASK_KEY: '' },
      });

      expect(response.status).toBe(503);
      expect(messageOf(response.body)).toContain("Secret 'kriten-task-existing-task'");
      expect((await api.get('/api/v1/tasks/existing-task')).body).toEqual(before.body);
    });

    it('task delete answers 503 and keeps it', async () => {
      const response = await api.delete('/api/v1/tasks/existing-task');

      expect(response.status).toBe(503);
      expect((await api.get('/api/v1/tasks/existing-task')).status).toBe(200);
      expect(readSecret('kriten-task-existing-task')).toBeDefined();
    });

    it('failure leaks no value', async () => {
      const rows = await storedRows();

      expect(server.logs).not.toContain('unsaved-secret-value');
      expect(JSON.stringify(rows)).not.toContain('unsaved-secret-value');
      expect(rows.some((row) => row.ownerName === 'unsaved')).toBe(false);
    });

    it('saves work again once allowed', async () => {
      fake.allowAll();

      const response = await api.post('/api/v1/runners/existing/secret', { ADDED: 'added' });

      expect(response.status).toBe(200);
      expect(readSecretValues(fake, 'kriten-runner-existing')).toEqual({
        KEY: 'existing-value',
        ADDED: 'added',
      });
    });
  });

  it('fake API server saw no violations', () => {
    expect(runtime.violations()).toEqual([]);
  });
});
