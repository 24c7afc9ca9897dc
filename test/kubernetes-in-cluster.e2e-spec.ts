import {
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { startFakeKube, type FakeKube } from './support/fake-kube';
import { GitRepository } from './support/git-repos';
import { ApiClient } from './support/http-client';
import { createRunner, createTask, launchJob, waitForEnd } from './support/job-fixtures';
import { KritenServer, ROOT_PASSWORD, startExpectingFailure } from './support/kriten-server';
import { makeTempDir } from './support/temp';
import { makeCertificates } from './support/tls-certificates';

jest.setTimeout(60_000);

const NAMESPACE = 'kriten-e2e';

/**
 * A service-account folder in the layout that the kubelet projects. Each file is a symlink into
 * `..data`, which points at a timestamped folder and is swapped with one rename on update.
 */
class ProjectedServiceAccount {
  readonly dir = makeTempDir('kriten-service-account-');
  private version = 0;

  constructor(files: Record<string, string>) {
    this.write(files);
    for (const name of Object.keys(files)) {
      symlinkSync(join('..data', name), join(this.dir, name));
    }
  }

  /** Replaces every file at once, as the kubelet does when it rotates the token. */
  write(files: Record<string, string>): void {
    this.version += 1;
    const folder = `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${this.version}`;
    mkdirSync(join(this.dir, folder));
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(this.dir, folder, name), content, { mode: 0o644 });
    }
    symlinkSync(folder, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }
}

/**
 * Returns the bwrap command that shows dir at the pod's service-account path to the server
 * only. The folder that /var/run resolves to is covered by an empty tmpfs, so the mount point
 * is created in that tmpfs and never on the host, and none of the host's /run is visible to the server.
 */
function serviceAccountSandbox(dir: string): string[] {
  const runDir = realpathSync('/var/run');
  return [
    'bwrap',
    '--dev-bind',
    '/',
    '/',
    '--tmpfs',
    runDir,
    '--bind',
    dir,
    join(runDir, 'secrets/kubernetes.io/serviceaccount'),
    '--die-with-parent',
  ];
}

describe('kubernetes executor in a pod', () => {
  let certificates: string;
  let fake: FakeKube;
  let port: string;
  let serviceAccount: ProjectedServiceAccount;
  let repository: GitRepository;
  let server: KritenServer;
  let api: ApiClient;

  function serviceAccountFiles(token: string, caFile = join(certificates, 'ca.pem')) {
    return { token, namespace: NAMESPACE, 'ca.crt': readFileSync(caFile, 'utf8') };
  }

  /**
   * Returns the variables that the kubelet sets in a pod, and no KUBECONFIG or KRITEN_NAMESPACE,
   * so the server must find both the API server and the namespace through the service account.
   */
  function podEnv(): Record<string, string> {
    return {
      KRITEN_EXECUTOR: 'kubernetes',
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: port,
    };
  }

  beforeAll(async () => {
    certificates = makeTempDir('kriten-tls-');
    await makeCertificates(certificates);
    fake = await startFakeKube({
      namespaces: [NAMESPACE],
      tls: {
        key: readFileSync(join(certificates, 'server.key'), 'utf8'),
        cert: readFileSync(join(certificates, 'server.pem'), 'utf8'),
      },
    });
    port = new URL(fake.url).port;
    serviceAccount = new ProjectedServiceAccount(serviceAccountFiles(fake.token));
    repository = GitRepository.create({ 'README.md': 'scripts for the in-cluster test\n' });

    server = await KritenServer.start({
      env: podEnv(),
      wrapper: serviceAccountSandbox(serviceAccount.dir),
    });
    api = new ApiClient(server.baseUrl);
    await api.login('root', ROOT_PASSWORD);
    await createRunner(api, { name: 'in-cluster', gitURL: repository.url });
    await createTask(api, { name: 'hello', runner: 'in-cluster', command: 'echo hello' });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await fake?.stop();
  });

  it('configures itself from the service account', () => {
    expect(fake.url).toBe(`https://127.0.0.1:${port}`);
    expect(server.logs).toContain(
      `kubernetes executor ready: namespace '${NAMESPACE}' at https://127.0.0.1:${port}, configured from the pod service account`,
    );
  });

  it('runs a job over TLS with the token', async () => {
    const before = fake.calls.length;
    const job = await waitForEnd(api, await launchJob(api, 'hello'));

    expect(job.status).toBe('succeeded');
    expect(job.stdout).toBe('hello\n');
    const creates = fake.calls
      .slice(before)
      .filter((call) => call.verb === 'create' && call.resource === 'jobs');
    expect(creates.map((call) => [call.namespace, call.code])).toEqual([[NAMESPACE, 201]]);
    expect(fake.calls.filter((call) => call.code === 401)).toEqual([]);
  });

  it('rereads the token file after rotation', async () => {
    const oldToken = fake.token;
    const newToken = `rotated-${Date.now()}`;
    // The new token is valid before the file names it, and the old one is revoked after, so
    // every 401 from here on is a request that still carried the old token.
    fake.rotateToken(newToken, { keepOld: true });
    serviceAccount.write(serviceAccountFiles(newToken));
    fake.revokeToken(oldToken);
    const afterRevocation = fake.calls.length;

    const job = await waitForEnd(api, await launchJob(api, 'hello'));

    expect(job.status).toBe('succeeded');
    expect(job.stdout).toBe('hello\n');
    const calls = fake.calls.slice(afterRevocation);
    const creates = calls.filter((call) => call.verb === 'create' && call.resource === 'jobs');
    expect(creates.map((call) => [call.namespace, call.code])).toEqual([[NAMESPACE, 201]]);
    expect(calls.filter((call) => call.code === 401)).toEqual([]);
  });

  it('sends only objects that match the schema', () => {
    expect(fake.violations).toEqual([]);
  });

  it('fails to start with another CA', async () => {
    const otherCertificates = makeTempDir('kriten-tls-other-');
    await makeCertificates(otherCertificates);
    const otherServiceAccount = new ProjectedServiceAccount(
      serviceAccountFiles(fake.token, join(otherCertificates, 'ca.pem')),
    );

    const { code, output } = await startExpectingFailure(podEnv(), {
      wrapper: serviceAccountSandbox(otherServiceAccount.dir),
    });

    expect(code).not.toBe(0);
    expect(output).toContain(
      `the TLS certificate of the Kubernetes API at https://127.0.0.1:${port} failed verification: unable to verify the first certificate`,
    );
    expect(output).toContain(
      "check that the CA certificate in the pod service account is the one that signed the API server's certificate",
    );
    expect(output).not.toContain(fake.token);
  });
});
