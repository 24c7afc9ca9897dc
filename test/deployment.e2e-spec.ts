import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { ExecutorRuntime, kubernetesExecutor, TEST_NAMESPACE } from './support/executors';
import { GitRepository } from './support/git-repos';
import { ApiClient } from './support/http-client';
import {
  createRunner,
  createTask,
  launchJob,
  sleep,
  waitForEnd,
  waitForStatus,
} from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD, startExpectingFailure } from './support/kriten-server';
import { KubernetesObject, validateKubernetesObject } from './support/kubernetes-schema';
import { makeTempDir } from './support/temp';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..');

/** Every verb the server needs, by API group and resource; anything more is a finding. */
const EXPECTED_ROLE_RULES = {
  'batch/jobs': ['create', 'delete', 'get', 'list', 'watch'],
  'core/pods': ['get', 'list', 'watch'],
  'core/pods/log': ['get'],
  'core/secrets': ['create', 'delete', 'get', 'update'],
};

const CLUSTER_SCOPED_KINDS = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'];

/** Runs a tool from the repository root; a missing tool fails with the way to install it. */
function runTool(command: string, args: string[], install: string, env?: NodeJS.ProcessEnv) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env });
  if (result.error) {
    throw new Error(`${command} could not run (${result.error.message}): ${install}`);
  }
  return result;
}

/** Renders a kustomization folder, k8s/ unless another is given. */
function renderKustomization(folder = 'k8s'): KubernetesObject[] {
  const result = runTool(
    'kubectl',
    ['kustomize', folder],
    'install kubectl (Debian: apt-get install kubernetes-client), which contains kustomize',
  );
  if (result.status !== 0) {
    throw new Error(`kubectl kustomize ${folder} failed:\n${result.stderr}`);
  }
  return loadAll(result.stdout) as KubernetesObject[];
}

/**
 * True when kubectl's built-in kustomize is older than v4 (kubectl before 1.21, such as Debian's
 * kubernetes-client 1.20, which CI installs where no newer kubectl exists). That kustomize loads
 * a folder only from `bases` and reads a secret generator's file from `env`, while newer ones
 * take the `resources` and `envs` that the README shows.
 */
function hasOldKustomize(): boolean {
  const version = runTool('kubectl', ['version', '--client', '-o', 'json'], 'install kubectl');
  const minor = Number(/"minor":\s*"(\d+)/.exec(version.stdout)?.[1] ?? '99');
  return minor < 21;
}

/** Writes an overlay on k8s/ in the syntax the installed kustomize reads. */
function writeOverlay(folder: string, lines: string[], envFile?: string): void {
  const base = relative(folder, join(ROOT, 'k8s'));
  const old = hasOldKustomize();
  const kustomization = [...(old ? ['bases:'] : ['resources:']), `  - ${base}`, ...lines];
  if (envFile !== undefined) {
    kustomization.push(old ? `    env: ${envFile}` : `    envs: [${envFile}]`);
  }
  writeFileSync(join(folder, 'kustomization.yaml'), `${kustomization.join('\n')}\n`);
}

function findObject(objects: KubernetesObject[], kind: string, name: string): any {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found) {
    throw new Error(`${kind} '${name}' is missing from the rendered manifests`);
  }
  return found;
}

/** Collects a Role's rules as sorted verbs per `group/resource`, with `core` for the core group. */
function verbsByResource(role: any): Record<string, string[]> {
  const verbs: Record<string, Set<string>> = {};
  for (const rule of role.rules) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        const key = `${group === '' ? 'core' : group}/${resource}`;
        verbs[key] ??= new Set();
        rule.verbs.forEach((verb: string) => verbs[key].add(verb));
      }
    }
  }
  return Object.fromEntries(Object.entries(verbs).map(([key, set]) => [key, [...set].sort()]));
}

function environmentOf(container: any): Record<string, any> {
  return Object.fromEntries(container.env.map((variable: any) => [variable.name, variable]));
}

function runDockerCompose(args: string[]) {
  // A clean environment, so that KRITEN_* variables of the test run do not fill in the file.
  const home = makeTempDir('kriten-compose-home-');
  return runTool('docker-compose', args, "install it with 'apt-get install docker-compose'", {
    PATH: process.env.PATH,
    HOME: home,
  });
}

function writeComposeEnvironment(): string {
  const path = join(makeTempDir('kriten-compose-'), 'compose.env');
  writeFileSync(
    path,
    [
      'KRITEN_ROOT_PASSWORD=root-password',
      `KRITEN_JWT_SECRET=${'a'.repeat(64)}`,
      `KRITEN_SECRET_KEY=${'b'.repeat(64)}`,
      'KRITEN_DATABASE_PASSWORD=database-password',
    ].join('\n'),
  );
  return path;
}

describe('Kubernetes manifests', () => {
  let objects: KubernetesObject[];
  let deployment: any;
  let podSpec: any;
  let container: any;

  beforeAll(() => {
    objects = renderKustomization();
    deployment = findObject(objects, 'Deployment', 'kriten');
    podSpec = deployment.spec.template.spec;
    container = podSpec.containers.find((candidate: any) => candidate.name === 'kriten');
  });

  it('render the expected objects', () => {
    const names = objects.map((object) => `${object.kind}/${object.metadata?.name}`).sort();

    expect(names).toEqual([
      'Deployment/kriten',
      'Namespace/kriten',
      'Role/kriten',
      'RoleBinding/kriten',
      'Secret/kriten-secrets',
      'Service/kriten',
      'Service/mariadb',
      'ServiceAccount/kriten',
      'ServiceAccount/kriten-job',
      'StatefulSet/mariadb',
    ]);
  });

  it('match the Kubernetes schema', () => {
    const problems = objects.flatMap((object) =>
      validateKubernetesObject(object).map(
        (problem) => `${object.kind}/${object.metadata?.name}: ${problem}`,
      ),
    );

    expect(problems).toEqual([]);
  });

  it('schema check rejects an unknown field', () => {
    const misspelled = structuredClone(deployment);
    misspelled.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;

    expect(validateKubernetesObject(misspelled)).toEqual([
      'data/spec/template/spec/containers/0/securityContext/readOnlyRootFileSystem is not a field of apps/v1 Deployment',
    ]);
  });

  it('place namespaced objects in kriten', () => {
    for (const object of objects.filter((item) => !CLUSTER_SCOPED_KINDS.includes(item.kind))) {
      expect({ object: object.metadata?.name, namespace: object.metadata?.namespace }).toEqual({
        object: object.metadata?.name,
        namespace: 'kriten',
      });
    }
    expect(findObject(objects, 'Namespace', 'kriten')).toBeDefined();
  });

  it('follow an overlay to another namespace', () => {
    const overlay = makeTempDir('kriten-overlay-');
    writeOverlay(overlay, ['namespace: tools']);
    const moved = renderKustomization(overlay);
    const binding = findObject(moved, 'RoleBinding', 'kriten');

    // kustomize before v4 moves the namespaced objects but leaves the Namespace object's own
    // name. For that reason the README requires kubectl 1.27 or newer.
    expect(findObject(moved, 'Namespace', hasOldKustomize() ? 'kriten' : 'tools')).toBeDefined();
    expect(binding.metadata.namespace).toBe('tools');
    expect(binding.subjects[0].namespace).toBe('tools');
  });

  it('overlay replaces image and secrets', () => {
    const overlay = makeTempDir('kriten-overlay-');
    writeOverlay(
      overlay,
      [
        'images:',
        '  - name: kriten',
        '    newName: registry.example.com/kriten',
        '    newTag: 0.1.0',
        'secretGenerator:',
        '  - name: kriten-secrets',
        '    behavior: replace',
      ],
      'kriten-secrets.env',
    );
    writeFileSync(
      join(overlay, 'kriten-secrets.env'),
      'root-password=a\njwt-secret=b\nsecret-key=c\ndatabase-password=d\n',
    );
    const rendered = renderKustomization(overlay);
    const secret = findObject(rendered, 'Secret', 'kriten-secrets');
    const image = findObject(rendered, 'Deployment', 'kriten').spec.template.spec.containers[0]
      .image;

    expect(image).toBe('registry.example.com/kriten:0.1.0');
    expect(secret.stringData).toBeUndefined();
    expect(Object.keys(secret.data).sort()).toEqual([
      'database-password',
      'jwt-secret',
      'root-password',
      'secret-key',
    ]);
    expect(Buffer.from(secret.data['secret-key'], 'base64').toString()).toBe('c');
  });

  describe('RBAC', () => {
    it('Role grants exactly the verbs the server uses', () => {
      expect(verbsByResource(findObject(objects, 'Role', 'kriten'))).toEqual(EXPECTED_ROLE_RULES);
    });

    it('grants nothing cluster-wide', () => {
      const kinds = objects.map((object) => object.kind);

      expect(kinds).not.toContain('ClusterRole');
      expect(kinds).not.toContain('ClusterRoleBinding');
    });

    it('binds the Role to the server account only', () => {
      const binding = findObject(objects, 'RoleBinding', 'kriten');

      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'kriten',
      });
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'kriten', namespace: 'kriten' },
      ]);
      expect(podSpec.serviceAccountName).toBe('kriten');
    });

    it('job account has no token and no binding', () => {
      const jobAccount = findObject(objects, 'ServiceAccount', 'kriten-job');
      const subjects = objects
        .filter((object) => object.kind === 'RoleBinding')
        .flatMap((binding: any) => binding.subjects.map((subject: any) => subject.name));

      expect(jobAccount.automountServiceAccountToken).toBe(false);
      expect(subjects).not.toContain('kriten-job');
    });
  });

  describe('Deployment', () => {
    it('runs two replicas of the image', () => {
      expect(deployment.spec.replicas).toBe(2);
      expect(container.image).toBe('kriten:latest');
    });

    it('runs as a non-root user', () => {
      expect(podSpec.securityContext.runAsNonRoot).toBe(true);
      expect(podSpec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(podSpec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    });

    it('locks down the container', () => {
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
      });
    });

    it('writes only to emptyDir volumes', () => {
      const emptyDirs = podSpec.volumes
        .filter((volume: any) => volume.emptyDir !== undefined)
        .map((volume: any) => volume.name);
      const mounts = Object.fromEntries(
        container.volumeMounts.map((mount: any) => [mount.mountPath, mount.name]),
      );
      const dataDir = environmentOf(container).KRITEN_DATA_DIR.value;

      expect(Object.keys(mounts).sort()).toEqual([dataDir, '/tmp'].sort());
      expect(emptyDirs).toContain(mounts['/tmp']);
      expect(emptyDirs).toContain(mounts[dataDir]);
    });

    it('configures the kubernetes executor', () => {
      const env = environmentOf(container);

      expect(env.KRITEN_EXECUTOR.value).toBe('kubernetes');
      expect(env.NODE_ENV.value).toBe('production');
      expect(env.KRITEN_NAMESPACE.valueFrom).toEqual({
        fieldRef: { fieldPath: 'metadata.namespace' },
      });
    });

    it('connects to the MariaDB Service', () => {
      const env = environmentOf(container);
      const url = new URL(env.KRITEN_DATABASE_URL.value);
      const mariadb = findObject(objects, 'Service', 'mariadb');
      const names = container.env.map((variable: any) => variable.name);

      expect(url.protocol).toBe('mysql:');
      expect(url.hostname).toBe(mariadb.metadata.name);
      expect(Number(url.port)).toBe(mariadb.spec.ports[0].port);
      // Kubernetes expands $(DATABASE_PASSWORD) only when it is defined earlier in the list.
      expect(url.password).toBe('$(DATABASE_PASSWORD)');
      expect(names.indexOf('DATABASE_PASSWORD')).toBeLessThan(names.indexOf('KRITEN_DATABASE_URL'));
    });

    it('reads secrets from keys the Secret has', () => {
      const secret = findObject(objects, 'Secret', 'kriten-secrets');
      const references = [deployment, findObject(objects, 'StatefulSet', 'mariadb')]
        .flatMap((workload) => workload.spec.template.spec.containers)
        .flatMap((item: any) => item.env)
        .map((variable: any) => variable.valueFrom?.secretKeyRef)
        .filter((reference: any) => reference !== undefined);

      expect(references.length).toBe(5);
      for (const reference of references) {
        expect(reference.name).toBe('kriten-secrets');
        expect(Object.keys(secret.stringData)).toContain(reference.key);
      }
      expect(Object.keys(secret.stringData).sort()).toEqual([
        'database-password',
        'jwt-secret',
        'root-password',
        'secret-key',
      ]);
    });

    it('ships placeholders as secret values', () => {
      const secret = findObject(objects, 'Secret', 'kriten-secrets');

      for (const value of Object.values(secret.stringData)) {
        expect(value).toMatch(/^REPLACE-WITH-/);
      }
    });

    it('probes /healthz and /readyz on the HTTP port', () => {
      const portNames = container.ports.map((port: any) => port.name);

      expect(container.startupProbe.httpGet.path).toBe('/healthz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        expect(portNames).toContain(container[probe].httpGet.port);
      }
    });

    it('sets requests and limits', () => {
      expect(container.resources.requests.cpu).toBeDefined();
      expect(container.resources.requests.memory).toBeDefined();
      expect(container.resources.limits.memory).toBeDefined();
    });
  });

  it('Service selects the server pods', () => {
    const service = findObject(objects, 'Service', 'kriten');
    const podLabels = deployment.spec.template.metadata.labels;

    for (const [label, value] of Object.entries(service.spec.selector)) {
      expect(podLabels[label]).toBe(value);
    }
    expect(container.ports.map((port: any) => port.name)).toContain(
      service.spec.ports[0].targetPort,
    );
  });

  describe('MariaDB', () => {
    it('is a StatefulSet behind a headless Service', () => {
      const statefulSet = findObject(objects, 'StatefulSet', 'mariadb');
      const service = findObject(objects, 'Service', 'mariadb');
      const podLabels = statefulSet.spec.template.metadata.labels;

      expect(statefulSet.spec.serviceName).toBe('mariadb');
      expect(service.spec.clusterIP).toBe('None');
      for (const [label, value] of Object.entries(service.spec.selector)) {
        expect(podLabels[label]).toBe(value);
      }
    });

    it('keeps its data on a claim', () => {
      const statefulSet = findObject(objects, 'StatefulSet', 'mariadb');
      const mounts = statefulSet.spec.template.spec.containers[0].volumeMounts;
      const claim = statefulSet.spec.volumeClaimTemplates[0];

      expect(claim.spec.resources.requests.storage).toBeDefined();
      expect(mounts).toContainEqual({ name: claim.metadata.name, mountPath: '/var/lib/mysql' });
    });

    it('runs as non-root on a read-only root', () => {
      const podTemplate = findObject(objects, 'StatefulSet', 'mariadb').spec.template.spec;

      expect(podTemplate.securityContext.runAsNonRoot).toBe(true);
      expect(podTemplate.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
      expect(podTemplate.containers[0].securityContext.allowPrivilegeEscalation).toBe(false);
    });
  });

  it('Dockerfile user and port match the Deployment', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

    expect(dockerfile).toMatch(new RegExp(`^USER ${podSpec.securityContext.runAsUser}:`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${container.ports[0].containerPort}$`, 'm'));
  });
});

describe('docker-compose.yml', () => {
  let environmentFile: string;
  let services: any;

  beforeAll(() => {
    environmentFile = writeComposeEnvironment();
    const result = runDockerCompose(['--env-file', environmentFile, 'config']);
    if (result.status !== 0) {
      throw new Error(`docker-compose config failed:\n${result.stderr}`);
    }
    services = (load(result.stdout) as any).services;
  });

  it('passes docker-compose config', () => {
    const result = runDockerCompose(['--env-file', environmentFile, 'config', '-q']);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('requires the values of .env.example', () => {
    const result = runDockerCompose(['--env-file', '.env.example', 'config', '-q']);

    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/set KRITEN_\w+ in \.env/);
  });

  it('runs the local executor on MariaDB', () => {
    const environment = services.kriten.environment;

    expect(environment.KRITEN_EXECUTOR).toBe('local');
    expect(environment.NODE_ENV).toBe('production');
    expect(new URL(environment.KRITEN_DATABASE_URL).hostname).toBe('mariadb');
  });

  it('starts after MariaDB is healthy', () => {
    expect(services.kriten.depends_on).toEqual({ mariadb: { condition: 'service_healthy' } });
    expect(services.mariadb.healthcheck.test).toContain('healthcheck.sh');
  });

  it('checks /healthz', () => {
    expect(services.kriten.healthcheck.test.join(' ')).toContain('http://127.0.0.1:8080/healthz');
  });

  it('allows the sandbox without privileged mode', () => {
    expect(services.kriten.privileged).toBeUndefined();
    expect(services.kriten.cap_add).toEqual(['SYS_ADMIN']);
    expect(services.kriten.security_opt.sort()).toEqual([
      'apparmor=unconfined',
      'no-new-privileges:true',
      'systempaths=unconfined',
    ]);
  });

  it('keeps data and database on volumes', () => {
    expect(services.kriten.volumes).toContain('kriten-data:/var/lib/kriten:rw');
    expect(services.mariadb.volumes).toContain('mariadb-data:/var/lib/mysql:rw');
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toContain(
      'KRITEN_DATA_DIR=/var/lib/kriten',
    );
  });
});

describe('probe paths on a running server', () => {
  let server: KritenServer;

  beforeAll(async () => {
    server = await KritenServer.start();
  });

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
  });

  it('return 200 without credentials', async () => {
    const container = findObject(renderKustomization(), 'Deployment', 'kriten').spec.template.spec
      .containers[0];
    const paths = ['startupProbe', 'livenessProbe', 'readinessProbe'].map(
      (probe) => container[probe].httpGet.path,
    );
    const anonymous = new ApiClient(server.baseUrl);

    for (const path of paths) {
      const response = await anonymous.get(path);

      expect({ path, status: response.status }).toEqual({ path, status: 200 });
    }
  });
});

describe('Role against the kubernetes executor', () => {
  let runtime: ExecutorRuntime;
  let server: KritenServer;
  let api: ApiClient;
  let repository: GitRepository;

  beforeAll(async () => {
    runtime = await kubernetesExecutor.start();
    server = await KritenServer.start({ env: runtime.env });
    api = new ApiClient(server.baseUrl);
    await api.login('root', ROOT_PASSWORD);
    repository = GitRepository.create({ 'README.md': '# scripts for the Role test\n' });

    // One of each action that reaches the Kubernetes API: secrets written, replaced and
    // deleted, a job run to its end with its log read, and a job cancelled.
    await createRunner(api, {
      name: 'scripts',
      gitURL: repository.url,
      token: 'git-token-value',
      secret: { api_key: 'runner-value' },
    });
    await createTask(api, {
      name: 'echo',
      runner: 'scripts',
      command: 'echo hello',
      secret: { db_password: 'task-value' },
    });
    await createTask(api, { name: 'sleeper', runner: 'scripts', command: 'sleep 30' });
    await api.post('/api/v1/tasks/echo/secret', { db_password: 'changed-value' });

    const finished = await launchJob(api, 'echo');
    await waitForEnd(api, finished);
    await api.get(`/api/v1/jobs/${finished}/log`);

    const cancelled = await launchJob(api, 'sleeper');
    await waitForStatus(api, cancelled, 'running');
    await api.delete(`/api/v1/jobs/${cancelled}`);
    await waitForEnd(api, cancelled);

    await api.delete('/api/v1/tasks/echo');
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await runtime?.stop();
    if (repository) {
      rmSync(repository.path, { recursive: true, force: true });
    }
  });

  /** Returns the Role entries, as `group/resource verb`, that the recorded calls used. */
  function usedPermissions(): Set<string> {
    return new Set(
      runtime
        .calls()
        .filter((call) => call.resource !== 'selfsubjectaccessreviews')
        .map((call) => {
          const resource = call.subresource
            ? `${call.resource}/${call.subresource}`
            : call.resource;
          const group = call.path.startsWith('/apis/batch/') ? 'batch' : 'core';
          return `${group}/${resource} ${call.verb}`;
        }),
    );
  }

  it('grants every call the server made', () => {
    const granted = verbsByResource(findObject(renderKustomization(), 'Role', 'kriten'));
    const used = [...usedPermissions()];
    const missing = used.filter((permission) => {
      const [resource, verb] = permission.split(' ');
      return !(granted[resource] ?? []).includes(verb);
    });

    expect(used.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('calls only its own namespace', () => {
    const namespaces = runtime
      .calls()
      .filter((call) => call.resource !== 'selfsubjectaccessreviews')
      .map((call) => call.namespace);

    expect([...new Set(namespaces)]).toEqual([TEST_NAMESPACE]);
  });

  it('readiness repeats no start-up calls', async () => {
    // The permission check runs only at start. Watches may relist at any time, so lists
    // cannot distinguish a repeated start from a watch that resumed.
    const startupCalls = () =>
      runtime.calls().filter((call) => call.resource === 'selfsubjectaccessreviews').length;
    const before = startupCalls();

    expect(before).toBeGreaterThan(0);
    for (let round = 0; round < 3; round++) {
      const response = await new ApiClient(server.baseUrl).get('/readyz');
      expect(response.status).toBe(200);
      // Past the one second for which a readiness report is reused.
      await sleep(1_100);
    }

    expect(startupCalls()).toBe(before);
  });

  // Runs last in this block, because it denies permissions on the fake API server.
  it('checks at start each verb no call used', async () => {
    const used = usedPermissions();
    const unused = Object.entries(
      verbsByResource(findObject(renderKustomization(), 'Role', 'kriten')),
    ).flatMap(([resource, verbs]) =>
      verbs.map((verb) => `${resource} ${verb}`).filter((entry) => !used.has(entry)),
    );

    expect(unused).toEqual(['batch/jobs get', 'core/pods get']);
    for (const entry of unused) {
      const [resource, verb] = entry.split(' ');
      runtime.fake!.deny({ verb, resource: resource.split('/')[1] });

      const { code, output } = await startExpectingFailure(runtime.env);
      runtime.fake!.allowAll();

      expect({ entry, code }).toEqual({ entry, code: 1 });
      expect(output).toContain(verb);
    }
  });
});
