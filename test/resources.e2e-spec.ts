import { rmSync } from 'node:fs';
import { ExecutorRuntime, TestTarget, testTargets } from './support/executors';
import { GitRepository } from './support/git-repos';
import { ApiClient } from './support/http-client';
import { createRunner, createTask, JobView } from './support/job-fixtures';
import type { KubeObject } from './support/kube-client';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';

jest.setTimeout(30_000);

const RUNNER_RESOURCES = {
  requests: { cpu: '100m', memory: '64Mi' },
  limits: { cpu: '1', memory: '256Mi' },
};

function messageOf(body: { message?: unknown }): string {
  return Array.isArray(body.message) ? body.message.join('; ') : String(body.message ?? '');
}

describe.each(testTargets())('resources on $name', ({ database: target, executor }: TestTarget) => {
  let runtime: ExecutorRuntime;
  let server: KritenServer;
  let databaseUrl: string | undefined;
  let api: ApiClient;
  let repository: GitRepository;

  beforeAll(async () => {
    runtime = await executor.start();
    databaseUrl = await target.create();
    server = await KritenServer.start({ databaseUrl, env: runtime.env });
    api = new ApiClient(server.baseUrl);
    await api.login('root', ROOT_PASSWORD);
    repository = GitRepository.create({ 'README.md': '# resources suite\n' });
    await createRunner(api, { name: 'sized', gitURL: repository.url });
    await api.patch('/api/v1/runners/sized', { resources: RUNNER_RESOURCES });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await target.drop(databaseUrl);
    await runtime?.stop();
    if (repository) {
      rmSync(repository.path, { recursive: true, force: true });
    }
  });

  describe('saving', () => {
    it('runner returns its resources', async () => {
      const response = await api.get('/api/v1/runners/sized');

      expect(response.body.resources).toEqual(RUNNER_RESOURCES);
    });

    it('task without resources returns null', async () => {
      await createTask(api, { name: 'unsized', runner: 'sized', command: 'true' });

      const response = await api.get('/api/v1/tasks/unsized');

      expect(response.body.resources).toBeNull();
    });

    it('task create keeps its resources', async () => {
      const response = await api.post('/api/v1/tasks', {
        name: 'sized-task',
        runner: 'sized',
        command: 'true',
        resources: { limits: { memory: '512Mi' } },
      });

      expect(response.status).toBe(200);
      expect(response.body.resources).toEqual({ limits: { memory: '512Mi' } });
      expect((await api.get('/api/v1/tasks/sized-task')).body.resources).toEqual({
        limits: { memory: '512Mi' },
      });
    });

    it('patch replaces the resources', async () => {
      await createTask(api, {
        name: 'resized',
        runner: 'sized',
        command: 'true',
      });
      await api.patch('/api/v1/tasks/resized', { resources: { requests: { cpu: '500m' } } });

      const response = await api.patch('/api/v1/tasks/resized', {
        resources: { requests: { memory: '1Gi' }, limits: { memory: '2Gi' } },
      });

      expect(response.status).toBe(200);
      expect(response.body.resources).toEqual({
        requests: { memory: '1Gi' },
        limits: { memory: '2Gi' },
      });
    });

    it('patch with null removes them', async () => {
      await api.patch('/api/v1/tasks/resized', { resources: { limits: { cpu: '1' } } });

      const response = await api.patch('/api/v1/tasks/resized', { resources: null });

      expect(response.status).toBe(200);
      expect(response.body.resources).toBeNull();
    });

    it('patch without resources keeps them', async () => {
      await api.patch('/api/v1/tasks/resized', { resources: { limits: { cpu: '750m' } } });

      const response = await api.patch('/api/v1/tasks/resized', { command: 'echo kept' });

      expect(response.body.resources).toEqual({ limits: { cpu: '750m' } });
    });
  });

  describe('validation', () => {
    it.each<[string, unknown, string]>([
      ['a string', '1Gi', "resources must be an object with 'requests' and/or 'limits'"],
      ['an unknown section', { request: {} }, 'resources.request is not allowed'],
      ['an unknown resource', { limits: { gpu: '1' } }, 'resources.limits.gpu is not allowed'],
      ['a number', { limits: { cpu: 1 } }, 'resources.limits.cpu must be a string'],
      ['a bad suffix', { limits: { memory: '1GB' } }, "resources.limits.memory '1GB' is not"],
      ['a negative value', { requests: { cpu: '-1' } }, "resources.requests.cpu '-1' is not"],
      [
        'a request above its limit',
        { requests: { cpu: '2' }, limits: { cpu: '1' } },
        "request cpu '2' exceeds limit cpu '1'",
      ],
    ])('task with %s is 400', async (_case, resources, message) => {
      const before = await api.get('/api/v1/tasks');

      const response = await api.post('/api/v1/tasks', {
        name: 'rejected',
        runner: 'sized',
        command: 'true',
        resources,
      });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain(message);
      expect((await api.get('/api/v1/tasks')).body).toEqual(before.body);
    });

    it('runner with a bad quantity is 400', async () => {
      const response = await api.patch('/api/v1/runners/sized', {
        resources: { requests: { memory: 'lots' } },
      });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain("resources.requests.memory 'lots' is not");
      expect((await api.get('/api/v1/runners/sized')).body.resources).toEqual(RUNNER_RESOURCES);
    });

    it('task request above runner limit is 400', async () => {
      const response = await api.post('/api/v1/tasks', {
        name: 'too-hungry',
        runner: 'sized',
        command: 'true',
        resources: { requests: { memory: '1Gi' } },
      });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain(
        "resources of task 'too-hungry' combined with runner 'sized': request memory '1Gi' exceeds limit memory '256Mi'",
      );
      expect((await api.get('/api/v1/tasks/too-hungry')).status).toBe(404);
    });

    it('runner limit below a task request is 400', async () => {
      await createTask(api, {
        name: 'needs-half-core',
        runner: 'sized',
        command: 'true',
      });
      await api.patch('/api/v1/tasks/needs-half-core', {
        resources: { requests: { cpu: '500m' } },
      });

      const response = await api.patch('/api/v1/runners/sized', {
        resources: { limits: { cpu: '250m' } },
      });

      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain(
        "resources of task 'needs-half-core' combined with runner 'sized': request cpu '500m' exceeds limit cpu '250m'",
      );
      expect((await api.get('/api/v1/runners/sized')).body.resources).toEqual(RUNNER_RESOURCES);
    });

    it('OpenAPI documents resources', async () => {
      const response = await api.get('/swagger/doc.json');
      const schemas = response.body.components.schemas;

      expect(schemas.CreateTaskDto.properties.resources).toBeDefined();
      expect(schemas.CreateRunnerDto.properties.resources).toBeDefined();
      expect(schemas.ResourceListDto.properties.cpu.pattern).toContain('Ki|Mi|Gi');
      expect(schemas.ResourceRequirementsDto.properties).toHaveProperty('limits');
    });
  });

  describe('launch', () => {
    beforeAll(async () => {
      await api.post('/api/v1/tasks', {
        name: 'sized-echo',
        runner: 'sized',
        command: 'echo sized',
        synchronous: true,
        resources: { requests: { cpu: '250m' }, limits: { memory: '128Mi' } },
      });
    });

    it('job with resources runs', async () => {
      const response = await api.post<JobView>('/api/v1/jobs/sized-echo', {});

      // The whole job is compared, so a failure shows its reason.
      expect(response.body).toMatchObject({ status: 'succeeded', stdout: 'sized\n' });
    });

    if (executor.name === 'kubernetes') {
      it('Job container gets task-over-runner resources', async () => {
        const launch = await api.post<JobView>('/api/v1/jobs/sized-echo', {});

        const job = runtime.fake!.getObject('jobs', launch.body.id) as KubeObject | undefined;
        const container = job?.spec.template.spec.containers[0];

        expect(container?.resources).toEqual({
          requests: { cpu: '250m', memory: '64Mi' },
          limits: { cpu: '1', memory: '128Mi' },
        });
      });

      it('fake API server saw no violations', () => {
        expect(runtime.violations()).toEqual([]);
      });
    }
  });
});
