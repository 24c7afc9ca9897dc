import { existsSync, readFileSync } from 'node:fs';
import type https from 'node:https';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig, loadYaml, type User } from '@kubernetes/client-node';
import { KubeHttp } from './kube-http';
import { RotatingTokenFile } from './token-file';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const SERVICE_ACCOUNT_TOKEN = `${SERVICE_ACCOUNT_DIR}/token`;
const SERVICE_ACCOUNT_NAMESPACE = `${SERVICE_ACCOUNT_DIR}/namespace`;

/** Name of the auth provider entry that RotatingTokenFileAuthenticator handles. */
const TOKEN_FILE_PROVIDER = 'kriten-rotating-token-file';

/** Settings that locate the API server, read from the server's environment. */
export interface ConnectionSettings {
  /** KRITEN_NAMESPACE. */
  namespace?: string;
  /** KUBECONFIG: one path, or several joined by the platform's path delimiter. */
  kubeconfig?: string;
  /** KUBERNETES_SERVICE_HOST, which the kubelet sets in every pod. */
  serviceHost?: string;
}

export interface KubernetesConnection {
  http: KubeHttp;
  /** The loaded configuration, for clients made with makeApiClient, such as the Secret store's. */
  kubeConfig: KubeConfig;
  namespace: string;
  /** Source of the configuration, for the start log. */
  source: string;
}

/**
 * Loads the API server's address and credentials: the pod's service account when running in
 * a pod, else the kubeconfig from KUBECONFIG or ~/.kube/config. Token files are read again
 * whenever they change. Throws an error that names the setting to set when nothing is found.
 */
export function connectToKubernetes(settings: ConnectionSettings): KubernetesConnection {
  const config = new KubeConfig();
  config.addAuthenticator(new RotatingTokenFileAuthenticator());

  let source: string;
  let podNamespace: string | undefined;
  if (settings.serviceHost !== undefined && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    config.loadFromCluster();
    source = 'the pod service account';
    podNamespace = readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || undefined;
  } else {
    const paths = kubeconfigPaths(settings.kubeconfig);
    if (paths.length === 0) {
      throw new Error(
        'no Kubernetes configuration found: run Kriten in a pod with a service account, or set KUBECONFIG to a kubeconfig file',
      );
    }
    // As kubectl does, the first file that sets a current context decides it.
    loadKubeconfig(config, paths[0]);
    for (const path of paths.slice(1)) {
      const next = new KubeConfig();
      loadKubeconfig(next, path);
      config.mergeConfig(next, Boolean(config.currentContext));
    }
    source = `kubeconfig ${paths.join(delimiter)}`;
    useTokenFiles(config, paths);
  }
  useRotatingInClusterToken(config);
  allowPlainHttp(config);

  const cluster = config.getCurrentCluster();
  if (cluster === null) {
    throw new Error(`${source} has no current context with a cluster: set current-context`);
  }
  const namespace =
    settings.namespace ?? podNamespace ?? config.getContextObject(config.currentContext)?.namespace;
  if (namespace === undefined || namespace === '') {
    throw new Error(
      `no Kubernetes namespace configured: set KRITEN_NAMESPACE, or a namespace in the current context of ${source}`,
    );
  }

  const http = new KubeHttp({
    server: cluster.server,
    applyToHTTPSOptions: (options: https.RequestOptions) => config.applyToHTTPSOptions(options),
  });
  return { http, kubeConfig: config, namespace, source };
}

function loadKubeconfig(config: KubeConfig, path: string): void {
  try {
    config.loadFromFile(path);
  } catch (error) {
    throw new Error(
      `reading the kubeconfig ${path} failed: ${error instanceof Error ? error.message : String(error)}; set KUBECONFIG to a readable kubeconfig file`,
      { cause: error },
    );
  }
}

function kubeconfigPaths(kubeconfig: string | undefined): string[] {
  if (kubeconfig !== undefined) {
    return kubeconfig.split(delimiter).filter((path) => path.length > 0);
  }
  const defaultPath = join(homedir(), '.kube', 'config');
  return existsSync(defaultPath) ? [defaultPath] : [];
}

/**
 * Points users with a kubeconfig `token-file` at the rotating reader. client-node keeps only
 * the token it read at load, and sends it after any auth provider, so the token is removed.
 */
function useTokenFiles(config: KubeConfig, paths: string[]): void {
  const tokenFiles = new Map<string, string>();
  for (const path of paths) {
    const raw = loadYaml<{ users?: { name?: string; user?: Record<string, unknown> }[] }>(
      readFileSync(path, 'utf8'),
    );
    for (const entry of raw?.users ?? []) {
      const file = entry.user?.['token-file'];
      if (entry.name !== undefined && typeof file === 'string' && !tokenFiles.has(entry.name)) {
        tokenFiles.set(entry.name, file);
      }
    }
  }
  config.users = config.users.map((user) =>
    tokenFiles.has(user.name) ? withTokenFile(user, tokenFiles.get(user.name)!) : user,
  );
}

/** Replaces client-node's in-cluster token reader, which keeps a token for 60 seconds. */
function useRotatingInClusterToken(config: KubeConfig): void {
  config.users = config.users.map((user) => {
    const file = (user.authProvider as { config?: { tokenFile?: string } } | undefined)?.config
      ?.tokenFile;
    return typeof file === 'string' ? withTokenFile(user, file) : user;
  });
}

/**
 * Marks clusters with an http:// server as skipping TLS verification. client-node 1.4 refuses
 * to build an agent for plain HTTP otherwise, although there is no TLS to verify, and plain
 * HTTP is what `kubectl proxy` serves on localhost.
 */
function allowPlainHttp(config: KubeConfig): void {
  config.clusters = config.clusters.map((cluster) =>
    cluster.server.startsWith('http:') ? { ...cluster, skipTLSVerify: true } : cluster,
  );
}

function withTokenFile(user: User, path: string): User {
  return {
    ...user,
    token: undefined,
    authProvider: { name: TOKEN_FILE_PROVIDER, config: { path } },
  };
}

/** Sends the token of a RotatingTokenFile as a bearer token. */
class RotatingTokenFileAuthenticator {
  private readonly files = new Map<string, RotatingTokenFile>();

  isAuthProvider(user: User): boolean {
    return (user.authProvider as { name?: string } | undefined)?.name === TOKEN_FILE_PROVIDER;
  }

  async applyAuthentication(user: User, options: https.RequestOptions): Promise<void> {
    const path = (user.authProvider as { config: { path: string } }).config.path;
    let file = this.files.get(path);
    if (file === undefined) {
      file = new RotatingTokenFile(path);
      this.files.set(path, file);
    }
    options.headers = { ...options.headers, Authorization: `Bearer ${file.read()}` };
  }
}
