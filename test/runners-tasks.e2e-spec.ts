import { rmSync } from 'node:fs';
import { ApiClient, ApiResponse } from './support/http-client';
import { ExecutorRuntime, TestTarget, testTargets } from './support/executors';
import { GitRepository } from './support/git-repos';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';

const SECRET_MASK = '************';
const RUNNERS = '/api/v1/runners';
const TASKS = '/api/v1/tasks';
const MAX_BODY_BYTES = 1024 * 1024;

type Body = Record<string, unknown>;

function messageOf(response: ApiResponse): string {
  const message = response.body?.message;
  return Array.isArray(message) ? message.join('; ') : String(message ?? '');
}

describe.each(testTargets())(
  'runners and tasks on $name',
  ({ database: target, executor }: TestTarget) => {
    let runtime: ExecutorRuntime;
    let server: KritenServer;
    let databaseUrl: string | undefined;
    let api: ApiClient;
    let repository: GitRepository;
    let nameCount = 0;

    /** Returns a runner or task name that no other test uses. */
    function uniqueName(prefix: string): string {
      nameCount += 1;
      return `${prefix}-${nameCount}`;
    }

    function runnerBody(name: string, fields: Body = {}): Body {
      return { name, image: 'alpine:3.20', gitURL: repository.url, ...fields };
    }

    function taskBody(name: string, runner: string, fields: Body = {}): Body {
      return { name, runner, command: './run.sh', ...fields };
    }

    async function createRunner(name: string, fields: Body = {}): Promise<Body> {
      const response = await api.post(RUNNERS, runnerBody(name, fields));
      if (response.status !== 200) {
        throw new Error(
          `creating runner '${name}' failed with ${response.status}: ${response.text}`,
        );
      }
      return response.body;
    }

    async function createTask(name: string, runner: string, fields: Body = {}): Promise<Body> {
      const response = await api.post(TASKS, taskBody(name, runner, fields));
      if (response.status !== 200) {
        throw new Error(`creating task '${name}' failed with ${response.status}: ${response.text}`);
      }
      return response.body;
    }

    /** Reads every runner and task, with their secret keys, tokens and schemas. */
    async function readState(): Promise<{ runners: unknown; tasks: unknown }> {
      const [runners, tasks] = await Promise.all([api.get(RUNNERS), api.get(TASKS)]);
      return { runners: runners.body, tasks: tasks.body };
    }

    async function readRunner(name: string): Promise<{ runner: unknown; secret: unknown }> {
      const [runner, secret] = await Promise.all([
        api.get(`${RUNNERS}/${name}`),
        api.get(`${RUNNERS}/${name}/secret`),
      ]);
      return { runner: runner.body, secret: secret.body };
    }

    async function readTask(
      name: string,
    ): Promise<{ task: unknown; secret: unknown; schema: string }> {
      const [task, secret, schema] = await Promise.all([
        api.get(`${TASKS}/${name}`),
        api.get(`${TASKS}/${name}/secret`),
        api.get(`${TASKS}/${name}/schema`),
      ]);
      return { task: task.body, secret: secret.body, schema: schema.text };
    }

    function sendRaw(method: string, path: string, rawBody: string | Buffer): Promise<ApiResponse> {
      return api.request(method, path, {
        rawBody,
        headers: { 'content-type': 'application/json' },
      });
    }

    beforeAll(async () => {
      repository = GitRepository.create({ 'run.sh': '#!/bin/sh\necho ok\n' });
      runtime = await executor.start();
      databaseUrl = await target.create();
      server = await KritenServer.start({ databaseUrl, env: runtime.env });
      api = new ApiClient(server.baseUrl);
      await api.login('root', ROOT_PASSWORD);
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      server?.removeDataDir();
      await target.drop(databaseUrl);
      await runtime?.stop();
      rmSync(repository.path, { recursive: true, force: true });
    });

    describe('runner create', () => {
      it('create returns the runner', async () => {
        const name = uniqueName('runner');
        const response = await api.post(RUNNERS, runnerBody(name));

        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          name,
          image: 'alpine:3.20',
          gitURL: repository.url,
          branch: 'main',
          token: '',
          secret: {},
          resources: null,
        });
      });

      it('create keeps branch, token and secret', async () => {
        const name = uniqueName('runner');
        const response = await api.post(
          RUNNERS,
          runnerBody(name, {
            branch: 'release/v1',
            token: 'git-token-value',
            secret: { API_KEY: 'api-key-value' },
          }),
        );

        expect(response.status).toBe(200);
        expect(response.body.branch).toBe('release/v1');
        expect(response.body.token).toBe(SECRET_MASK);
        expect(response.body.secret).toEqual({ API_KEY: SECRET_MASK });
        expect(response.text).not.toContain('git-token-value');
        expect(response.text).not.toContain('api-key-value');
      });

      it('created runner is readable', async () => {
        const name = uniqueName('runner');
        const created = await createRunner(name, { token: 'git-token-value' });
        const response = await api.get(`${RUNNERS}/${name}`);

        expect(response.status).toBe(200);
        expect(response.body).toEqual(created);
        expect(response.text).not.toContain('git-token-value');
      });

      it('create drops empty and masked secret values', async () => {
        const name = uniqueName('runner');
        const created = await createRunner(name, {
          secret: { kept: 'value', empty: '', masked: SECRET_MASK },
        });

        expect(created.secret).toEqual({ kept: SECRET_MASK });
      });

      it('name of 57 characters is accepted', async () => {
        const name = `r${'a'.repeat(50)}-${String(nameCount).padStart(5, '0')}`;
        nameCount += 1;
        const response = await api.post(RUNNERS, runnerBody(name));

        expect(name).toHaveLength(57);
        expect(response.status).toBe(200);
        expect(response.body.name).toBe(name);
      });

      it('duplicate is 409', async () => {
        const name = uniqueName('runner');
        await createRunner(name, { image: 'first:1', secret: { FIRST: 'x' } });
        const before = await readRunner(name);

        const response = await api.post(
          RUNNERS,
          runnerBody(name, { image: 'second:2', secret: { SECOND: 'y' } }),
        );

        expect(response.status).toBe(409);
        expect(messageOf(response)).toBe(`runner '${name}' already exists`);
        expect(await readRunner(name)).toEqual(before);
      });

      it.each<[string, Body, string]>([
        ['uppercase name', { name: 'Runner-A' }, "name 'Runner-A' is invalid"],
        ['name too long', { name: 'a'.repeat(58) }, 'it has 58 characters, at most 57 are allowed'],
        ['leading dash', { name: '-runner' }, "name '-runner' is invalid"],
        ['trailing dash', { name: 'runner-' }, "name 'runner-' is invalid"],
        ['underscore in name', { name: 'my_runner' }, "name 'my_runner' is invalid"],
        ['empty name', { name: '' }, "name '' is invalid"],
        ['number name', { name: 5 }, 'name must be a string, got number'],
        ['null name', { name: null }, 'name must be a string, got null'],
        ['missing name', { name: undefined }, 'name is required'],
        [
          'branch with ..',
          { branch: 'a..b' },
          "branch 'a..b' is invalid: it must not contain '..'",
        ],
        [
          'branch with leading dash',
          { branch: '-x' },
          "branch '-x' is invalid: it must not start with '-'",
        ],
        ['empty branch', { branch: '' }, "branch '' is invalid"],
        ['number branch', { branch: 5 }, 'branch must be a string'],
        [
          'gitURL with password',
          { gitURL: 'https://user:hunter2@git.example.com/repo.git' },
          'gitURL must not contain a password',
        ],
        ['missing gitURL', { gitURL: undefined }, 'gitURL is required'],
        ['empty gitURL', { gitURL: '' }, 'gitURL must be a non-empty string'],
        [
          'gitURL with other scheme',
          { gitURL: 'ftp://host/repo.git' },
          "unsupported scheme 'ftp:'",
        ],
        ['gitURL with leading dash', { gitURL: '-uhelp' }, "must not start with '-'"],
        ['missing image', { image: undefined }, 'image is required'],
        ['empty image', { image: '' }, 'image must be longer than or equal to 1 characters'],
        ['number token', { token: 5 }, 'token must be a string'],
        ['unknown field', { colour: 'red' }, "unknown field 'colour'"],
        ['secret array', { secret: ['a'] }, 'secret must be an object'],
        ['secret string', { secret: 'a=b' }, 'secret must be an object'],
        ['secret key with slash', { secret: { 'a/b': 'x' } }, "secret key 'a/b' is invalid"],
        ['secret key ..', { secret: { '..': 'x' } }, "secret key '..' is invalid"],
        ['secret number value', { secret: { count: 5 } }, "value of 'count' must be a string"],
        ['field given twice', { giturl: 'file:///other' }, "field 'giturl' is given twice"],
      ])('%s is 400', async (_case, fields, message) => {
        const before = await readState();

        const response = await api.post(RUNNERS, runnerBody(uniqueName('invalid'), fields));

        expect(response.status).toBe(400);
        expect(response.body.error).toBe('Bad Request');
        expect(messageOf(response)).toContain(message);
        expect(await readState()).toEqual(before);
      });

      it('several problems are listed in details', async () => {
        const response = await api.post(RUNNERS, { name: 'Bad_Name', colour: 'red' });

        expect(response.status).toBe(400);
        expect(typeof response.body.message).toBe('string');
        expect(response.body.details).toEqual(
          expect.arrayContaining([
            'image is required',
            'gitURL is required',
            "unknown field 'colour'",
          ]),
        );
        expect(response.body.details).toHaveLength(4);
      });

      it.each([
        ['valid otherwise', 'https://user:hunter2@git.example.com/repo.git'],
        ['with a space', 'https://user:hunter2@git.example.com/my repo.git'],
        ['with an unsupported scheme', 'ftp://user:hunter2@git.example.com/repo.git'],
      ])('gitURL password is not echoed, %s', async (_case, gitURL) => {
        const response = await api.post(RUNNERS, runnerBody(uniqueName('invalid'), { gitURL }));

        expect(response.status).toBe(400);
        expect(response.text).not.toContain('hunter2');
        expect(server.logs).not.toContain('hunter2');
      });
    });

    describe('runner field names', () => {
      it.each<[string, Body]>([
        ['giturl', { giturl: 'file:///srv/lowercase.git' }],
        ['GITURL', { GITURL: 'file:///srv/lowercase.git' }],
        ['GitUrl', { GitUrl: 'file:///srv/lowercase.git' }],
      ])('%s is read as gitURL', async (_case, fields) => {
        const name = uniqueName('runner');
        const response = await api.post(RUNNERS, { name, image: 'alpine:3.20', ...fields });

        expect(response.status).toBe(200);
        expect(response.body.gitURL).toBe('file:///srv/lowercase.git');
      });

      it('every field matches in any case', async () => {
        const name = uniqueName('runner');
        const response = await api.post(RUNNERS, {
          NAME: name,
          Image: 'alpine:3.20',
          gitUrl: repository.url,
          BRANCH: 'dev',
          Token: 'git-token-value',
          SECRET: { KEY: 'value' },
        });

        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          name,
          image: 'alpine:3.20',
          gitURL: repository.url,
          branch: 'dev',
          token: SECRET_MASK,
          secret: { KEY: SECRET_MASK },
          resources: null,
        });
      });

      it('patch matches field names in any case', async () => {
        const name = uniqueName('runner');
        await createRunner(name);

        const response = await api.patch(`${RUNNERS}/${name}`, {
          GITURL: 'file:///srv/moved.git',
          IMAGE: 'debian:12',
        });

        expect(response.status).toBe(200);
        expect(response.body.gitURL).toBe('file:///srv/moved.git');
        expect(response.body.image).toBe('debian:12');
      });
    });

    describe('runner read', () => {
      it('list returns runners by name', async () => {
        const first = uniqueName('list-b');
        const second = uniqueName('list-a');
        await createRunner(first);
        await createRunner(second);

        const response = await api.get(RUNNERS);
        const names: string[] = response.body.map((runner: Body) => runner.name);

        expect(response.status).toBe(200);
        expect(names).toContain(first);
        expect(names).toContain(second);
        expect(names).toEqual([...names].sort());
      });

      it('unknown runner is 404', async () => {
        const response = await api.get(`${RUNNERS}/no-such-runner`);

        expect(response.status).toBe(404);
        expect(response.body.error).toBe('Not Found');
        expect(messageOf(response)).toBe("runner 'no-such-runner' not found");
      });

      it('uppercase runner name is 404', async () => {
        const name = uniqueName('case');
        await createRunner(name);

        const response = await api.get(`${RUNNERS}/${name.toUpperCase()}`);

        expect(response.status).toBe(404);
      });

      it('secret of unknown runner is 404', async () => {
        const response = await api.get(`${RUNNERS}/no-such-runner/secret`);

        expect(response.status).toBe(404);
        expect(messageOf(response)).toBe("runner 'no-such-runner' not found");
      });
    });

    describe('runner update', () => {
      it('patch returns the updated runner', async () => {
        const name = uniqueName('runner');
        await createRunner(name);

        const response = await api.patch(`${RUNNERS}/${name}`, {
          image: 'debian:12',
          branch: 'dev',
        });

        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          name,
          image: 'debian:12',
          gitURL: repository.url,
          branch: 'dev',
          token: '',
          secret: {},
          resources: null,
        });
        expect((await api.get(`${RUNNERS}/${name}`)).body).toEqual(response.body);
      });

      it('patch with the same name is 200', async () => {
        const name = uniqueName('runner');
        await createRunner(name);

        const response = await api.patch(`${RUNNERS}/${name}`, { name, image: 'debian:12' });

        expect(response.status).toBe(200);
        expect(response.body.image).toBe('debian:12');
      });

      it('empty patch changes nothing', async () => {
        const name = uniqueName('runner');
        await createRunner(name, { token: 'git-token-value', secret: { KEY: 'value' } });
        const before = await readRunner(name);

        const response = await api.patch(`${RUNNERS}/${name}`, {});

        expect(response.status).toBe(200);
        expect(await readRunner(name)).toEqual(before);
      });

      it('patch cannot rename', async () => {
        const name = uniqueName('runner');
        await createRunner(name);
        const before = await readRunner(name);

        const response = await api.patch(`${RUNNERS}/${name}`, {
          name: 'renamed',
          image: 'debian:12',
        });

        expect(response.status).toBe(400);
        expect(messageOf(response)).toContain('runners cannot be renamed');
        expect(await readRunner(name)).toEqual(before);
        expect((await api.get(`${RUNNERS}/renamed`)).status).toBe(404);
      });

      it('patch of unknown runner is 404', async () => {
        const before = await readState();

        const response = await api.patch(`${RUNNERS}/no-such-runner`, { image: 'debian:12' });

        expect(response.status).toBe(404);
        expect(messageOf(response)).toBe("runner 'no-such-runner' not found");
        expect(await readState()).toEqual(before);
      });

      it('patch sets a token', async () => {
        const name = uniqueName('runner');
        await createRunner(name);

        const response = await api.patch(`${RUNNERS}/${name}`, { token: 'new-token-value' });

        expect(response.status).toBe(200);
        expect(response.body.token).toBe(SECRET_MASK);
        expect(response.text).not.toContain('new-token-value');
      });

      it('patch with masked token keeps it', async () => {
        const name = uniqueName('runner');
        await createRunner(name, { token: 'git-token-value' });

        const response = await api.patch(`${RUNNERS}/${name}`, { token: SECRET_MASK });

        expect(response.status).toBe(200);
        expect(response.body.token).toBe(SECRET_MASK);
      });

      it('patch with empty token removes it', async () => {
        const name = uniqueName('runner');
        await createRunner(name, { token: 'git-token-value' });

        const response = await api.patch(`${RUNNERS}/${name}`, { token: '' });

        expect(response.status).toBe(200);
        expect(response.body.token).toBe('');
      });

      it('masked token without a stored one stays empty', async () => {
        const name = uniqueName('runner');
        await createRunner(name);

        const response = await api.patch(`${RUNNERS}/${name}`, { token: SECRET_MASK });

        expect(response.status).toBe(200);
        expect(response.body.token).toBe('');
      });

      it.each<[string, unknown, string]>([
        ['branch with ..', { branch: 'a..b' }, "it must not contain '..'"],
        ['branch with leading dash', { branch: '-x' }, "it must not start with '-'"],
        [
          'gitURL with password',
          { gitURL: 'https://user:hunter2@git.example.com/r.git' },
          'must not contain a password',
        ],
        ['empty gitURL', { gitURL: '' }, 'gitURL must be a non-empty string'],
        ['empty image', { image: '' }, 'image must be longer than or equal to 1 characters'],
        ['number token', { token: 5 }, 'token must be a string'],
        ['number name', { name: 5 }, 'name must be a string'],
        ['unknown field', { colour: 'red' }, "unknown field 'colour'"],
        ['secret array', { secret: ['a'] }, 'secret must be an object'],
        ['secret null', { secret: null }, 'secret must be an object'],
        ['secret key with slash', { secret: { 'a/b': 'x' } }, "secret key 'a/b' is invalid"],
        ['secret key ..', { secret: { '..': 'x' } }, "secret key '..' is invalid"],
        ['secret number value', { secret: { KEY: 5 } }, "value of 'KEY' must be a string"],
        [
          'valid image and bad branch',
          { image: 'debian:12', branch: 'a..b' },
          "it must not contain '..'",
        ],
        [
          'valid image and bad secret',
          { image: 'debian:12', secret: { 'a/b': 'x' } },
          "secret key 'a/b' is invalid",
        ],
        [
          'valid secret and bad token',
          { secret: { NEW: 'x' }, token: 5 },
          'token must be a string',
        ],
        ['array body', ['image'], 'request body must be a JSON object'],
        ['string body', 'image', 'request body must be a JSON object'],
        ['number body', 5, 'request body must be a JSON object'],
        ['null body', null, 'request body must be a JSON object'],
      ])('patch with %s is 400', async (_case, body, message) => {
        const name = uniqueName('runner');
        await createRunner(name, {
          token: 'git-token-value',
          secret: { KEY: 'value', OTHER: 'value' },
        });
        const before = await readRunner(name);

        const response = await api.patch(`${RUNNERS}/${name}`, body);

        expect(response.status).toBe(400);
        expect(messageOf(response)).toContain(message);
        expect(await readRunner(name)).toEqual(before);
      });
    });

    describe('runner delete', () => {
      it('delete returns 200', async () => {
        const name = uniqueName('runner');
        await createRunner(name, { token: 'git-token-value', secret: { KEY: 'value' } });

        const response = await api.delete(`${RUNNERS}/${name}`);

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ msg: `runner '${name}' deleted` });
        expect((await api.get(`${RUNNERS}/${name}`)).status).toBe(404);
        expect((await api.get(`${RUNNERS}/${name}/secret`)).status).toBe(404);
      });

      it('delete of unknown runner is 404', async () => {
        const response = await api.delete(`${RUNNERS}/no-such-runner`);

        expect(response.status).toBe(404);
        expect(messageOf(response)).toBe("runner 'no-such-runner' not found");
      });

      it('recreated runner has no old secrets', async () => {
        const name = uniqueName('runner');
        await createRunner(name, { token: 'git-token-value', secret: { KEY: 'value' } });
        await api.delete(`${RUNNERS}/${name}`);

        const recreated = await createRunner(name);

        expect(recreated.secret).toEqual({});
        expect(recreated.token).toBe('');
      });

      it('runner with tasks is 409', async () => {
        const name = uniqueName('runner');
        const firstTask = uniqueName('task-b');
        const secondTask = uniqueName('task-a');
        await createRunner(name, { secret: { KEY: 'value' } });
        await createTask(firstTask, name);
        await createTask(secondTask, name);
        const before = await readState();

        const response = await api.delete(`${RUNNERS}/${name}`);

        expect(response.status).toBe(409);
        expect(response.body.error).toBe('Conflict');
        expect(messageOf(response)).toContain(`'${firstTask}'`);
        expect(messageOf(response)).toContain(`'${secondTask}'`);
        expect(messageOf(response)).toContain('delete them first');
        expect(await readState()).toEqual(before);
      });

      it('runner is deletable after its tasks', async () => {
        const name = uniqueName('runner');
        const task = uniqueName('task');
        await createRunner(name);
        await createTask(task, name);
        expect((await api.delete(`${TASKS}/${task}`)).status).toBe(200);

        const response = await api.delete(`${RUNNERS}/${name}`);

        expect(response.status).toBe(200);
      });
    });

    describe.each(['runners', 'tasks'] as const)('%s secrets', (kind) => {
      let host: string;

      beforeAll(async () => {
        host = uniqueName('secret-host');
        await createRunner(host);
      });

      /** Creates a runner or a task, as this block tests, with the given secrets. */
      async function createOwner(secret: Record<string, string>): Promise<string> {
        const name = uniqueName(`${kind}-secret`);
        if (kind === 'runners') {
          await createRunner(name, { secret });
        } else {
          await createTask(name, host, { secret });
        }
        return name;
      }

      function ownerPath(name: string): string {
        return `/api/v1/${kind}/${name}`;
      }

      async function readOwner(name: string): Promise<{ owner: unknown; secret: unknown }> {
        const [owner, secret] = await Promise.all([
          api.get(ownerPath(name)),
          api.get(`${ownerPath(name)}/secret`),
        ]);
        return { owner: owner.body, secret: secret.body };
      }

      it('reads mask every value', async () => {
        const name = await createOwner({ FIRST: 'first-value', second: 'second-value' });

        const secret = await api.get(`${ownerPath(name)}/secret`);
        const owner = await api.get(ownerPath(name));
        const list = await api.get(`/api/v1/${kind}`);

        expect(secret.status).toBe(200);
        expect(secret.body).toEqual({ FIRST: SECRET_MASK, second: SECRET_MASK });
        expect(owner.body.secret).toEqual({ FIRST: SECRET_MASK, second: SECRET_MASK });
        expect(secret.text).not.toContain('first-value');
        expect(owner.text).not.toContain('first-value');
        expect(list.text).not.toContain('first-value');
      });

      it('post adds a new key', async () => {
        const name = await createOwner({ FIRST: 'value' });

        const response = await api.post(`${ownerPath(name)}/secret`, { NEW: 'new-value' });

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ FIRST: SECRET_MASK, NEW: SECRET_MASK });
        expect(response.text).not.toContain('new-value');
        expect((await api.get(`${ownerPath(name)}/secret`)).body).toEqual({
          FIRST: SECRET_MASK,
          NEW: SECRET_MASK,
        });
      });

      // NOTE: the API never returns secret values, so these checks see only keys. Only a job that
      // reads the secret can show that a changed value replaced the stored one.
      it('post with a changed value keeps the key', async () => {
        const name = await createOwner({ FIRST: 'value', SECOND: 'value' });

        const response = await api.post(`${ownerPath(name)}/secret`, { FIRST: 'changed-value' });

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ FIRST: SECRET_MASK, SECOND: SECRET_MASK });
      });

      it('post with empty string deletes the key', async () => {
        const name = await createOwner({ FIRST: 'value', SECOND: 'value' });

        const response = await api.post(`${ownerPath(name)}/secret`, { FIRST: '' });

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ SECOND: SECRET_MASK });
        expect((await api.get(`${ownerPath(name)}/secret`)).body).toEqual({ SECOND: SECRET_MASK });
      });

      it('post with the mask keeps the key', async () => {
        const name = await createOwner({ FIRST: 'value', SECOND: 'value' });

        const response = await api.post(`${ownerPath(name)}/secret`, {
          FIRST: SECRET_MASK,
          SECOND: SECRET_MASK,
        });

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ FIRST: SECRET_MASK, SECOND: SECRET_MASK });
      });

      it('mask for an unknown key adds nothing', async () => {
        const name = await createOwner({ FIRST: 'value' });

        const response = await api.post(`${ownerPath(name)}/secret`, { UNKNOWN: SECRET_MASK });

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ FIRST: SECRET_MASK });
      });

      it('post applies several changes at once', async () => {
        const name = await createOwner({ DROP: 'value', KEEP: 'value', CHANGE: 'value' });

        const response = await api.post(`${ownerPath(name)}/secret`, {
          DROP: '',
          KEEP: SECRET_MASK,
          CHANGE: 'changed-value',
          ADD: 'added-value',
        });

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ ADD: SECRET_MASK, CHANGE: SECRET_MASK, KEEP: SECRET_MASK });
      });

      it('keys differing in case are distinct', async () => {
        const name = await createOwner({ token: 'lower-value' });

        const response = await api.post(`${ownerPath(name)}/secret`, { TOKEN: 'upper-value' });

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ TOKEN: SECRET_MASK, token: SECRET_MASK });
      });

      it('post without a body changes nothing', async () => {
        const name = await createOwner({ FIRST: 'value' });
        const before = await readOwner(name);

        const response = await api.request('POST', `${ownerPath(name)}/secret`);

        expect(response.status).toBe(200);
        expect(await readOwner(name)).toEqual(before);
      });

      it('delete removes every key', async () => {
        const name = await createOwner({ FIRST: 'value', SECOND: 'value' });

        const response = await api.delete(`${ownerPath(name)}/secret`);

        expect(response.status).toBe(200);
        expect(response.body.msg).toContain(`'${name}' deleted`);
        expect((await api.get(`${ownerPath(name)}/secret`)).body).toEqual({});
        expect((await api.get(ownerPath(name))).body.secret).toEqual({});
      });

      it('concurrent posts keep every key', async () => {
        const name = await createOwner({ FIRST: 'value' });
        const keys = Array.from({ length: 12 }, (_, index) => `KEY_${index}`);

        const responses = await Promise.all(
          keys.map((key) => api.post(`${ownerPath(name)}/secret`, { [key]: `${key}-value` })),
        );

        expect(responses.map((response) => response.status)).toEqual(keys.map(() => 200));
        expect(Object.keys((await api.get(`${ownerPath(name)}/secret`)).body).sort()).toEqual(
          ['FIRST', ...keys].sort(),
        );
      });

      it('concurrent posts and deletes all succeed', async () => {
        const name = await createOwner({ FIRST: 'value' });

        const responses = await Promise.all(
          Array.from({ length: 16 }, (_, index) =>
            index % 2 === 0
              ? api.post(`${ownerPath(name)}/secret`, { [`KEY_${index}`]: 'value' })
              : api.delete(`${ownerPath(name)}/secret`),
          ),
        );

        expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
        expect(server.logs).not.toContain('Deadlock');
      });

      it('concurrent saves of several owners all succeed', async () => {
        const names = await Promise.all(
          Array.from({ length: 6 }, () => createOwner({ FIRST: 'value' })),
        );

        const responses = await Promise.all(
          names.flatMap((name, index) => [
            api.post(`${ownerPath(name)}/secret`, { [`KEY_${index}`]: 'value' }),
            api.delete(`${ownerPath(name)}/secret`),
            api.post(`${ownerPath(name)}/secret`, { SECOND: 'value' }),
          ]),
        );

        expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
        expect(server.logs).not.toContain('Deadlock');
      });

      it('patch merges secrets like post', async () => {
        const name = await createOwner({ DROP: 'value', KEEP: 'value', CHANGE: 'value' });

        const response = await api.patch(ownerPath(name), {
          secret: { DROP: '', KEEP: SECRET_MASK, CHANGE: 'changed-value', ADD: 'added-value' },
        });

        expect(response.status).toBe(200);
        expect(response.body.secret).toEqual({
          ADD: SECRET_MASK,
          CHANGE: SECRET_MASK,
          KEEP: SECRET_MASK,
        });
        expect((await api.get(`${ownerPath(name)}/secret`)).body).toEqual({
          ADD: SECRET_MASK,
          CHANGE: SECRET_MASK,
          KEEP: SECRET_MASK,
        });
      });

      it.each<[string, unknown, string]>([
        ['key with slash', { 'a/b': 'x' }, "secret key 'a/b' is invalid"],
        ['key ..', { '..': 'x' }, "secret key '..' is invalid"],
        ['key .', { '.': 'x' }, "secret key '.' is invalid"],
        ['key with space', { 'a b': 'x' }, "secret key 'a b' is invalid"],
        [
          'key too long',
          { ['k'.repeat(254)]: 'x' },
          'it has 254 characters, at most 253 are allowed',
        ],
        ['number value', { KEY: 5 }, "value of 'KEY' must be a string"],
        ['null value', { KEY: null }, "value of 'KEY' must be a string"],
        ['object value', { KEY: { nested: 'x' } }, "value of 'KEY' must be a string"],
        ['valid key and bad key', { NEW: 'x', 'a/b': 'x' }, "secret key 'a/b' is invalid"],
        ['array body', ['KEY'], 'secret must be an object of string values'],
        ['string body', 'KEY=value', 'secret must be an object of string values'],
        ['number body', 5, 'secret must be an object of string values'],
        ['null body', null, 'secret must be an object of string values'],
      ])('post with %s is 400', async (_case, body, message) => {
        const name = await createOwner({ FIRST: 'value', SECOND: 'value' });
        const before = await readOwner(name);

        const response = await api.post(`${ownerPath(name)}/secret`, body);

        expect(response.status).toBe(400);
        expect(messageOf(response)).toContain(message);
        expect(await readOwner(name)).toEqual(before);
      });

      it('post to unknown owner is 404', async () => {
        const before = await readState();

        const response = await api.post(`/api/v1/${kind}/no-such-owner/secret`, { KEY: 'value' });

        expect(response.status).toBe(404);
        expect(messageOf(response)).toContain("'no-such-owner' not found");
        expect(await readState()).toEqual(before);
      });

      it('get of unknown owner is 404', async () => {
        const response = await api.get(`/api/v1/${kind}/no-such-owner/secret`);

        expect(response.status).toBe(404);
        expect(messageOf(response)).toContain("'no-such-owner' not found");
      });

      it('delete of unknown owner is 404', async () => {
        const response = await api.delete(`/api/v1/${kind}/no-such-owner/secret`);

        expect(response.status).toBe(404);
        expect(messageOf(response)).toContain("'no-such-owner' not found");
      });
    });

    describe('task create', () => {
      let runner: string;

      beforeAll(async () => {
        runner = uniqueName('task-host');
        await createRunner(runner);
      });

      it('create returns the task with defaults', async () => {
        const name = uniqueName('task');
        const response = await api.post(TASKS, taskBody(name, runner));

        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          name,
          runner,
          command: './run.sh',
          synchronous: false,
          schema: null,
          secret: {},
          sync_timeout_seconds: 20,
          timeout_seconds: 3600,
          resources: null,
        });
      });

      it('create keeps every field', async () => {
        const name = uniqueName('task');
        const schema = { type: 'object', properties: { count: { type: 'integer' } } };
        const response = await api.post(
          TASKS,
          taskBody(name, runner, {
            command: 'echo "$EXTRA_VARS"',
            synchronous: true,
            schema,
            secret: { TASK_KEY: 'task-secret-value' },
            sync_timeout_seconds: 5,
            timeout_seconds: 60,
          }),
        );

        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          name,
          runner,
          command: 'echo "$EXTRA_VARS"',
          synchronous: true,
          schema,
          secret: { TASK_KEY: SECRET_MASK },
          sync_timeout_seconds: 5,
          timeout_seconds: 60,
          resources: null,
        });
        expect(response.text).not.toContain('task-secret-value');
        expect((await api.get(`${TASKS}/${name}`)).body).toEqual(response.body);
      });

      it('create matches field names in any case', async () => {
        const name = uniqueName('task');
        const response = await api.post(TASKS, {
          Name: name,
          RUNNER: runner,
          Command: 'true',
          Synchronous: true,
        });

        expect(response.status).toBe(200);
        expect(response.body.runner).toBe(runner);
        expect(response.body.command).toBe('true');
        expect(response.body.synchronous).toBe(true);
      });

      it('duplicate is 409', async () => {
        const name = uniqueName('task');
        await createTask(name, runner, { command: 'first', secret: { FIRST: 'x' } });
        const before = await readTask(name);

        const response = await api.post(
          TASKS,
          taskBody(name, runner, { command: 'second', secret: { SECOND: 'y' } }),
        );

        expect(response.status).toBe(409);
        expect(messageOf(response)).toBe(`task '${name}' already exists`);
        expect(await readTask(name)).toEqual(before);
      });

      it('missing runner is 400', async () => {
        const name = uniqueName('task');
        const before = await readState();

        const response = await api.post(TASKS, taskBody(name, 'no-such-runner'));

        expect(response.status).toBe(400);
        expect(messageOf(response)).toContain("runner 'no-such-runner' not found");
        expect(await readState()).toEqual(before);
        expect((await api.get(`${TASKS}/${name}`)).status).toBe(404);
      });

      it('uppercase runner name is 400', async () => {
        const name = uniqueName('task');
        const before = await readState();

        const response = await api.post(TASKS, taskBody(name, runner.toUpperCase()));

        expect(response.status).toBe(400);
        expect(await readState()).toEqual(before);
      });

      it.each<[string, Body, string]>([
        ['uppercase name', { name: 'Task-A' }, "name 'Task-A' is invalid"],
        ['name too long', { name: 't'.repeat(58) }, 'it has 58 characters, at most 57 are allowed'],
        ['leading dash', { name: '-task' }, "name '-task' is invalid"],
        ['empty name', { name: '' }, "name '' is invalid"],
        ['number name', { name: 7 }, 'name must be a string, got number'],
        ['boolean name', { name: true }, 'name must be a string, got boolean'],
        ['missing command', { command: undefined }, 'command is required'],
        ['empty command', { command: '' }, 'command must be longer than or equal to 1 characters'],
        ['number command', { command: 5 }, 'command must be a string'],
        ['missing runner', { runner: undefined }, 'runner is required'],
        ['string synchronous', { synchronous: 'yes' }, 'synchronous must be a boolean value'],
        [
          'zero sync timeout',
          { sync_timeout_seconds: 0 },
          'sync_timeout_seconds must not be less than 1',
        ],
        [
          'fractional timeout',
          { timeout_seconds: 1.5 },
          'timeout_seconds must be an integer number',
        ],
        ['unknown field', { colour: 'red' }, "unknown field 'colour'"],
        ['secret key with slash', { secret: { 'a/b': 'x' } }, "secret key 'a/b' is invalid"],
        ['secret key ..', { secret: { '..': 'x' } }, "secret key '..' is invalid"],
        ['secret number value', { secret: { KEY: 5 } }, "value of 'KEY' must be a string"],
        ['schema array', { schema: [] }, 'schema must be an object'],
        ['schema with bad type', { schema: { type: 'strin' } }, 'schema does not compile'],
        [
          'schema with unknown keyword',
          { schema: { type: 'object', colour: 'red' } },
          'unknown keyword: "colour"',
        ],
        [
          'schema with unknown format',
          { schema: { type: 'string', format: 'colour' } },
          'unknown format "colour"',
        ],
        ['field given twice', { SYNCHRONOUS: true, synchronous: false }, 'is given twice'],
      ])('%s is 400', async (_case, fields, message) => {
        const before = await readState();

        const response = await api.post(TASKS, taskBody(uniqueName('invalid'), runner, fields));

        expect(response.status).toBe(400);
        expect(response.body.error).toBe('Bad Request');
        expect(messageOf(response)).toContain(message);
        expect(await readState()).toEqual(before);
      });
    });

    describe('task read', () => {
      it('list returns tasks by name', async () => {
        const runner = uniqueName('runner');
        const first = uniqueName('list-task-b');
        const second = uniqueName('list-task-a');
        await createRunner(runner);
        await createTask(first, runner);
        await createTask(second, runner);

        const response = await api.get(TASKS);
        const names: string[] = response.body.map((task: Body) => task.name);

        expect(response.status).toBe(200);
        expect(names).toContain(first);
        expect(names).toContain(second);
        expect(names).toEqual([...names].sort());
      });

      it('unknown task is 404', async () => {
        const response = await api.get(`${TASKS}/no-such-task`);

        expect(response.status).toBe(404);
        expect(messageOf(response)).toBe("task 'no-such-task' not found");
      });
    });

    describe('task update', () => {
      let runner: string;
      let otherRunner: string;

      beforeAll(async () => {
        runner = uniqueName('task-host');
        otherRunner = uniqueName('task-host');
        await createRunner(runner);
        await createRunner(otherRunner);
      });

      it('patch returns the updated task', async () => {
        const name = uniqueName('task');
        await createTask(name, runner);

        const response = await api.patch(`${TASKS}/${name}`, {
          command: 'make test',
          synchronous: true,
          sync_timeout_seconds: 9,
          timeout_seconds: 99,
        });

        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          name,
          runner,
          command: 'make test',
          synchronous: true,
          schema: null,
          secret: {},
          sync_timeout_seconds: 9,
          timeout_seconds: 99,
          resources: null,
        });
        expect((await api.get(`${TASKS}/${name}`)).body).toEqual(response.body);
      });

      it('patch moves a task to another runner', async () => {
        const name = uniqueName('task');
        await createTask(name, runner);

        const response = await api.patch(`${TASKS}/${name}`, { runner: otherRunner });

        expect(response.status).toBe(200);
        expect(response.body.runner).toBe(otherRunner);
      });

      it('patch matches field names in any case', async () => {
        const name = uniqueName('task');
        await createTask(name, runner);

        const response = await api.patch(`${TASKS}/${name}`, {
          Synchronous: true,
          COMMAND: 'true',
        });

        expect(response.status).toBe(200);
        expect(response.body.synchronous).toBe(true);
        expect(response.body.command).toBe('true');
      });

      it('patch with null schema removes it', async () => {
        const name = uniqueName('task');
        await createTask(name, runner, { schema: { type: 'object' } });

        const response = await api.patch(`${TASKS}/${name}`, { schema: null });

        expect(response.status).toBe(200);
        expect(response.body.schema).toBeNull();
      });

      it('patch cannot rename', async () => {
        const name = uniqueName('task');
        await createTask(name, runner);
        const before = await readTask(name);

        const response = await api.patch(`${TASKS}/${name}`, {
          name: 'renamed-task',
          command: 'changed',
        });

        expect(response.status).toBe(400);
        expect(messageOf(response)).toContain('tasks cannot be renamed');
        expect(await readTask(name)).toEqual(before);
        expect((await api.get(`${TASKS}/renamed-task`)).status).toBe(404);
      });

      it('patch of unknown task is 404', async () => {
        const before = await readState();

        const response = await api.patch(`${TASKS}/no-such-task`, { command: 'changed' });

        expect(response.status).toBe(404);
        expect(messageOf(response)).toBe("task 'no-such-task' not found");
        expect(await readState()).toEqual(before);
      });

      it.each<[string, unknown, string]>([
        ['missing runner', { runner: 'no-such-runner' }, "runner 'no-such-runner' not found"],
        ['empty runner', { runner: '' }, 'runner must be longer than or equal to 1 characters'],
        ['empty command', { command: '' }, 'command must be longer than or equal to 1 characters'],
        ['string synchronous', { synchronous: 'yes' }, 'synchronous must be a boolean value'],
        ['number name', { name: 5 }, 'name must be a string'],
        ['unknown field', { colour: 'red' }, "unknown field 'colour'"],
        ['secret key with slash', { secret: { 'a/b': 'x' } }, "secret key 'a/b' is invalid"],
        ['secret number value', { secret: { KEY: 5 } }, "value of 'KEY' must be a string"],
        ['schema array', { schema: [] }, 'schema must be an object'],
        ['schema with bad type', { schema: { type: 'strin' } }, 'schema does not compile'],
        [
          'schema with unknown keyword',
          { schema: { type: 'object', colour: 'red' } },
          'unknown keyword: "colour"',
        ],
        [
          'schema with unknown format',
          { schema: { type: 'string', format: 'colour' } },
          'unknown format "colour"',
        ],
        [
          'valid command and missing runner',
          { command: 'changed', runner: 'no-such-runner' },
          'not found',
        ],
        [
          'valid command and bad schema',
          { command: 'changed', schema: { type: 'strin' } },
          'schema does not compile',
        ],
        [
          'valid command and bad secret',
          { command: 'changed', secret: { '..': 'x' } },
          "secret key '..' is invalid",
        ],
        ['array body', ['command'], 'request body must be a JSON object'],
        ['string body', 'command', 'request body must be a JSON object'],
        ['number body', 5, 'request body must be a JSON object'],
        ['null body', null, 'request body must be a JSON object'],
      ])('patch with %s is 400', async (_case, body, message) => {
        const name = uniqueName('task');
        await createTask(name, runner, {
          schema: { type: 'object' },
          secret: { KEY: 'value', OTHER: 'value' },
        });
        const before = await readTask(name);

        const response = await api.patch(`${TASKS}/${name}`, body);

        expect(response.status).toBe(400);
        expect(messageOf(response)).toContain(message);
        expect(await readTask(name)).toEqual(before);
      });
    });

    describe('task delete', () => {
      let runner: string;

      beforeAll(async () => {
        runner = uniqueName('task-host');
        await createRunner(runner);
      });

      it('delete returns 200', async () => {
        const name = uniqueName('task');
        await createTask(name, runner, { schema: { type: 'object' }, secret: { KEY: 'value' } });

        const response = await api.delete(`${TASKS}/${name}`);

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ msg: `task '${name}' deleted` });
        expect((await api.get(`${TASKS}/${name}`)).status).toBe(404);
        expect((await api.get(`${TASKS}/${name}/secret`)).status).toBe(404);
        expect((await api.get(`${TASKS}/${name}/schema`)).status).toBe(404);
      });

      it('delete of unknown task is 404', async () => {
        const response = await api.delete(`${TASKS}/no-such-task`);

        expect(response.status).toBe(404);
        expect(messageOf(response)).toBe("task 'no-such-task' not found");
      });

      it('recreated task has no old secrets', async () => {
        const name = uniqueName('task');
        await createTask(name, runner, { secret: { KEY: 'value' } });
        await api.delete(`${TASKS}/${name}`);

        const recreated = await createTask(name, runner);

        expect(recreated.secret).toEqual({});
      });
    });

    describe('task schema', () => {
      const schema = {
        type: 'object',
        required: ['host'],
        properties: {
          host: { type: 'string', format: 'hostname' },
          port: { type: 'integer', minimum: 1 },
        },
      };
      let runner: string;

      beforeAll(async () => {
        runner = uniqueName('schema-host');
        await createRunner(runner);
      });

      it('get returns the schema', async () => {
        const name = uniqueName('task');
        await createTask(name, runner, { schema });

        const response = await api.get(`${TASKS}/${name}/schema`);

        expect(response.status).toBe(200);
        expect(response.body).toEqual(schema);
      });

      it('job schema route returns it', async () => {
        const name = uniqueName('task');
        await createTask(name, runner, { schema });

        const response = await api.get(`/api/v1/jobs/${name}/schema`);

        expect(response.status).toBe(200);
        expect(response.body).toEqual(schema);
      });

      it('task without schema reads null', async () => {
        const name = uniqueName('task');
        await createTask(name, runner);

        const response = await api.get(`${TASKS}/${name}/schema`);

        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toContain('application/json');
        expect(response.text).toBe('null');
      });

      it('job schema without schema is {}', async () => {
        const name = uniqueName('task');
        await createTask(name, runner);

        const response = await api.get(`/api/v1/jobs/${name}/schema`);

        expect(response.status).toBe(200);
        expect(response.body).toEqual({});
      });

      it('post sets the schema', async () => {
        const name = uniqueName('task');
        await createTask(name, runner);

        const response = await api.post(`${TASKS}/${name}/schema`, schema);

        expect(response.status).toBe(200);
        expect(response.body).toEqual(schema);
        expect((await api.get(`${TASKS}/${name}/schema`)).body).toEqual(schema);
        expect((await api.get(`${TASKS}/${name}`)).body.schema).toEqual(schema);
      });

      it('post replaces the schema', async () => {
        const name = uniqueName('task');
        await createTask(name, runner, { schema });

        const response = await api.post(`${TASKS}/${name}/schema`, { type: 'object' });

        expect(response.status).toBe(200);
        expect((await api.get(`${TASKS}/${name}/schema`)).body).toEqual({ type: 'object' });
      });

      it('delete removes the schema', async () => {
        const name = uniqueName('task');
        await createTask(name, runner, { schema });

        const response = await api.delete(`${TASKS}/${name}/schema`);

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ msg: `schema of task '${name}' deleted` });
        expect((await api.get(`${TASKS}/${name}/schema`)).text).toBe('null');
        expect((await api.get(`/api/v1/jobs/${name}/schema`)).body).toEqual({});
        expect((await api.get(`${TASKS}/${name}`)).body.schema).toBeNull();
      });

      it.each<[string, Body]>([
        ['nullable', { type: 'object', properties: { note: { type: 'string', nullable: true } } }],
        ['example', { type: 'object', example: { host: 'db1' } }],
        [
          'date-time format',
          { type: 'object', properties: { at: { type: 'string', format: 'date-time' } } },
        ],
      ])('schema with %s is accepted', async (_case, accepted) => {
        const name = uniqueName('task');
        await createTask(name, runner);

        const response = await api.post(`${TASKS}/${name}/schema`, accepted);

        expect(response.status).toBe(200);
        expect((await api.get(`${TASKS}/${name}/schema`)).body).toEqual(accepted);
      });

      it.each<[string, unknown, string]>([
        ['bad type', { type: 'strin' }, 'type'],
        ['bad nested type', { type: 'object', properties: { a: { type: 'strng' } } }, 'type'],
        ['unknown keyword', { type: 'object', colour: 'red' }, 'unknown keyword: "colour"'],
        ['unknown format', { type: 'string', format: 'colour' }, 'unknown format "colour"'],
        ['non-integer minimum', { type: 'integer', minimum: 'one' }, 'minimum'],
        ['array body', [{ type: 'object' }], 'schema must be a JSON object'],
        ['string body', 'object', 'schema must be a JSON object'],
        ['number body', 5, 'schema must be a JSON object'],
        ['null body', null, 'schema must be a JSON object'],
      ])('schema with %s is 400', async (_case, rejected, message) => {
        const name = uniqueName('task');
        await createTask(name, runner, { schema });
        const before = await readTask(name);

        const response = await api.post(`${TASKS}/${name}/schema`, rejected);

        expect(response.status).toBe(400);
        expect(messageOf(response)).toContain(message);
        expect(await readTask(name)).toEqual(before);
      });

      it('schema problem names the path', async () => {
        const name = uniqueName('task');
        await createTask(name, runner);

        const response = await api.post(`${TASKS}/${name}/schema`, {
          type: 'object',
          properties: { a: { type: 'strng' } },
        });

        expect(response.status).toBe(400);
        expect(messageOf(response)).toContain('schema does not compile');
        expect(messageOf(response)).toContain('/properties/a/type');
      });

      it.each([
        ['GET', `${TASKS}/no-such-task/schema`],
        ['POST', `${TASKS}/no-such-task/schema`],
        ['DELETE', `${TASKS}/no-such-task/schema`],
        ['GET', '/api/v1/jobs/no-such-task/schema'],
      ])('%s %s is 404', async (method, path) => {
        const before = await readState();

        const response = await api.request(
          method,
          path,
          method === 'POST' ? { body: { type: 'object' } } : {},
        );

        expect(response.status).toBe(404);
        expect(messageOf(response)).toBe("task 'no-such-task' not found");
        expect(await readState()).toEqual(before);
      });
    });

    describe('request bodies', () => {
      let runner: string;
      let task: string;

      beforeAll(async () => {
        runner = uniqueName('body-runner');
        task = uniqueName('body-task');
        await createRunner(runner, { token: 'git-token-value', secret: { KEY: 'value' } });
        await createTask(task, runner, { schema: { type: 'object' }, secret: { KEY: 'value' } });
      });

      /** Returns every route that takes a JSON body, each with a body that it accepts. */
      function routes(): [string, string, Body][] {
        return [
          ['POST', RUNNERS, runnerBody(uniqueName('body'))],
          ['PATCH', `${RUNNERS}/${runner}`, { image: 'debian:12' }],
          ['POST', `${RUNNERS}/${runner}/secret`, { NEW: 'value' }],
          ['POST', TASKS, taskBody(uniqueName('body'), runner)],
          ['PATCH', `${TASKS}/${task}`, { command: 'changed' }],
          ['POST', `${TASKS}/${task}/secret`, { NEW: 'value' }],
          ['POST', `${TASKS}/${task}/schema`, { type: 'string' }],
        ];
      }

      it.each(['[]', '"text"', '5', 'true', 'null'])(
        'non-object body %s is 400',
        async (rawBody) => {
          for (const [method, path] of routes()) {
            const before = await readState();

            const response = await sendRaw(method, path, rawBody);

            expect({ method, path, status: response.status }).toEqual({
              method,
              path,
              status: 400,
            });
            expect(messageOf(response)).not.toBe('');
            expect(await readState()).toEqual(before);
          }
        },
      );

      it('malformed JSON is 400', async () => {
        for (const [method, path] of routes()) {
          const before = await readState();

          const response = await sendRaw(method, path, '{"name": "broken",');

          expect({ method, path, status: response.status }).toEqual({ method, path, status: 400 });
          expect(messageOf(response)).toContain('request body is not valid JSON');
          expect(await readState()).toEqual(before);
        }
      });

      it('body over the limit is 413', async () => {
        for (const [method, path, body] of routes()) {
          const before = await readState();
          const oversized = JSON.stringify({ ...body, padding: 'x'.repeat(MAX_BODY_BYTES) });

          const response = await sendRaw(method, path, oversized);

          expect({ method, path, status: response.status }).toEqual({ method, path, status: 413 });
          expect(response.body.error).toBe('Payload Too Large');
          expect(messageOf(response)).toContain(`larger than the limit of ${MAX_BODY_BYTES} bytes`);
          expect(await readState()).toEqual(before);
        }
      });

      it('body under the limit is accepted', async () => {
        const name = uniqueName('runner');
        const image = `registry.example.com/${'i'.repeat(400)}`;

        const response = await api.post(RUNNERS, runnerBody(name, { image }));

        expect(response.status).toBe(200);
        expect(response.body.image).toBe(image);
      });
    });

    if (executor.name === 'kubernetes') {
      it('fake API server saw no violations', () => {
        expect(runtime.violations()).toEqual([]);
      });
    }
  },
);
