import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../../../libs/executor/src/local/readiness';
import type { PodScenario } from './scenarios';
import {
  FakeApiServer,
  type DeniedPermission,
  type RecordedCall,
  type RecordedViolation,
} from './server';

/** A stored object as plain JSON; tests read its fields without declaring the whole shape. */
export type KubeObject = Record<string, any>;

export type { PodScenario, PodMatch } from './scenarios';
export type { DeniedPermission, RecordedCall, RecordedViolation } from './server';
export type { StatusCause } from './status';

export interface FakeKubeOptions {
  /** Namespaces that exist; the first is the kubeconfig's namespace. Default: `kriten`. */
  namespaces?: string[];
  /** Bearer tokens that authenticate; the first goes into kubeconfigs. Default: one random token. */
  tokens?: string[];
  /** The user that Forbidden messages name. Default: the service account `kriten` of the first namespace. */
  user?: string;
  /** Interval between BOOKMARK events of watches that allow them. Default 5000. */
  bookmarkIntervalMilliseconds?: number;
  /** How many changes the watch history keeps before older resourceVersions expire. Default 10000. */
  historyLimit?: number;
  /** First delay before a failed Job pod is replaced; doubles per failure. Default 10000, as in Kubernetes. */
  podBackoffMilliseconds?: number;
  /** How often a pod waiting for a Secret or an image retries. Default 1000. */
  retryMilliseconds?: number;
  /** Upper bound on a pod's termination grace period. Default 5000. */
  maxGraceMilliseconds?: number;
  /** Delay before a container of a restartPolicy OnFailure pod restarts. Default 10000. */
  restartBackoffMilliseconds?: number;
  /** Folder for pod volumes and logs; a new temporary folder when absent. */
  stateDir?: string;
  /**
   * Host folders bound read-only into every container at the same path, so that file:// git
   * URLs of test repositories work although containers get an empty /tmp. Default: the test
   * run's folder (KRITEN_TEST_TMPDIR) when it is set. The fake's state folder stays hidden.
   */
  sharedHostPaths?: string[];
  /**
   * PEM private key and certificate to serve HTTPS with, as a real API server does; plain
   * HTTP when absent. The certificate must name 127.0.0.1 in its subjectAltName.
   */
  tls?: { key: string; cert: string };
}

/** A running fake Kubernetes API server. */
export interface FakeKube {
  /** `http://127.0.0.1:PORT`, or `https://` with the `tls` option. */
  readonly url: string;
  /** The first namespace, which kubeconfigs name as the context's namespace. */
  readonly namespace: string;
  /** Every request, in arrival order. */
  readonly calls: RecordedCall[];
  /** Every object that broke the OpenAPI schema; the server rejected each with 422. */
  readonly violations: RecordedViolation[];
  /** The token that kubeconfigs carry now. */
  readonly token: string;
  /**
   * Writes `kubeconfig` into dir and returns its path. With `tokenFile`, the token is written
   * to that file and the kubeconfig names it through the `tokenFile` auth provider, which
   * @kubernetes/client-node rereads every 60 s, as in a pod.
   */
  writeKubeconfig(dir: string, options?: { tokenFile?: string }): string;
  /**
   * Makes newToken the current token and rewrites token files. By default every older token
   * gets 401 at once, as after a revocation. With `keepOld`, older tokens stay valid until
   * revokeToken, as a projected service account token stays valid after the kubelet rotates
   * the file.
   */
  rotateToken(newToken: string, options?: { keepOld?: boolean }): void;
  /** Rejects a token with 401 from now on. */
  revokeToken(token: string): void;
  /** Denies a permission, both for requests and for SelfSubjectAccessReviews. */
  deny(permission: DeniedPermission): void;
  /** Removes every denial. */
  allowAll(): void;
  /** Adds a fault or delay for pods created from now on. */
  addPodScenario(scenario: PodScenario): void;
  clearPodScenarios(): void;
  /** Closes every open watch connection in the middle of its stream. */
  dropWatches(): void;
  /** Makes the next `count` watches receive an ERROR event with 410 Expired. */
  expireNextWatch(count?: number): void;
  /** Drops the watch history: a watch from any resourceVersion seen so far gets 410 Expired. */
  compactHistory(): void;
  /** Removes a pod at once and keeps the Job controller from reacting for that long. */
  vanishPod(
    name: string,
    options?: { namespace?: string; controllerPauseMilliseconds?: number },
  ): Promise<void>;
  /** Reads an object as stored, without recording a call. */
  getObject(
    resource: 'jobs' | 'pods' | 'secrets',
    name: string,
    namespace?: string,
  ): KubeObject | undefined;
  /** Lists objects as stored, without recording a call. */
  listObjects(resource: 'jobs' | 'pods' | 'secrets', namespace?: string): KubeObject[];
  /** Stops the server, kills every container and removes the state folder when the fake made it. */
  stop(): Promise<void>;
}

function randomToken(): string {
  return `fake-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

function yamlString(value: string): string {
  return JSON.stringify(value);
}

/** Starts a fake Kubernetes API server on 127.0.0.1 with a random port. */
export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const namespaces = options.namespaces ?? ['kriten'];
  const bwrapPath = findExecutable('bwrap');
  if (bwrapPath === undefined) {
    throw new Error(
      'bubblewrap (bwrap) is not on PATH, and the fake kubelet runs containers in it: install the bubblewrap package',
    );
  }
  const ownsStateDir = options.stateDir === undefined;
  const stateDir =
    options.stateDir ?? mkdtempSync(join(process.env.KRITEN_TEST_TMPDIR ?? tmpdir(), 'fake-kube-'));
  mkdirSync(stateDir, { recursive: true });

  const server = new FakeApiServer({
    namespaces,
    user: options.user ?? `system:serviceaccount:${namespaces[0]}:kriten`,
    bookmarkIntervalMilliseconds: options.bookmarkIntervalMilliseconds ?? 5000,
    defaultWatchTimeoutSeconds: 1800,
    historyLimit: options.historyLimit ?? 10_000,
    podBackoffMilliseconds: options.podBackoffMilliseconds ?? 10_000,
    retryMilliseconds: options.retryMilliseconds ?? 1000,
    maxGraceMilliseconds: options.maxGraceMilliseconds ?? 5000,
    restartBackoffMilliseconds: options.restartBackoffMilliseconds ?? 10_000,
    stateDir,
    bwrapPath,
    sharedHostPaths:
      options.sharedHostPaths ??
      (process.env.KRITEN_TEST_TMPDIR === undefined ? [] : [process.env.KRITEN_TEST_TMPDIR]),
    tls: options.tls,
  });
  const tokens = options.tokens ?? [randomToken()];
  for (const token of tokens) {
    server.tokens.add(token);
  }
  let currentToken = tokens[0];
  const tokenFiles = new Set<string>();
  const port = await server.listen();
  const url = `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;

  return {
    url,
    namespace: namespaces[0],
    calls: server.calls,
    violations: server.violations,
    get token() {
      return currentToken;
    },
    writeKubeconfig(dir, kubeconfigOptions = {}) {
      const user =
        kubeconfigOptions.tokenFile === undefined
          ? [`    token: ${yamlString(currentToken)}`]
          : [
              '    auth-provider:',
              '      name: tokenFile',
              '      config:',
              `        tokenFile: ${yamlString(kubeconfigOptions.tokenFile)}`,
            ];
      if (kubeconfigOptions.tokenFile !== undefined) {
        writeFileSync(kubeconfigOptions.tokenFile, currentToken, { mode: 0o600 });
        tokenFiles.add(kubeconfigOptions.tokenFile);
      }
      const text = [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: fake-kube',
        '  cluster:',
        `    server: ${yamlString(url)}`,
        // @kubernetes/client-node 1.4 rejects an http:// server unless TLS verification is off.
        '    insecure-skip-tls-verify: true',
        'users:',
        '- name: kriten',
        '  user:',
        ...user,
        'contexts:',
        '- name: fake-kube',
        '  context:',
        '    cluster: fake-kube',
        '    user: kriten',
        `    namespace: ${yamlString(namespaces[0])}`,
        'current-context: fake-kube',
        '',
      ].join('\n');
      const path = join(dir, 'kubeconfig');
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    },
    rotateToken(newToken, rotateOptions = {}) {
      if (rotateOptions.keepOld !== true) {
        server.tokens.clear();
      }
      server.tokens.add(newToken);
      currentToken = newToken;
      for (const file of tokenFiles) {
        writeFileSync(file, newToken, { mode: 0o600 });
      }
    },
    revokeToken(token) {
      server.tokens.delete(token);
    },
    deny(permission) {
      server.denied.push(permission);
    },
    allowAll() {
      server.denied.length = 0;
    },
    addPodScenario(scenario) {
      server.scenarios.add(scenario);
    },
    clearPodScenarios() {
      server.scenarios.clear();
    },
    dropWatches() {
      server.dropWatches();
    },
    expireNextWatch(count = 1) {
      server.expireNextWatch(count);
    },
    compactHistory() {
      server.store.compact();
    },
    vanishPod(name, vanishOptions = {}) {
      return server.vanishPod(
        vanishOptions.namespace ?? namespaces[0],
        name,
        vanishOptions.controllerPauseMilliseconds ?? 0,
      );
    },
    getObject(resource, name, namespace = namespaces[0]) {
      return server.store.get(resource, namespace, name);
    },
    listObjects(resource, namespace = namespaces[0]) {
      return server.store.list(resource, namespace);
    },
    async stop() {
      await server.close();
      if (ownsStateDir) {
        rmSync(stateDir, { recursive: true, force: true, maxRetries: 5 });
      }
    },
  };
}
