import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

export type ExecutorKind = 'local' | 'kubernetes';
export type DatabaseKind = 'sqlite' | 'mysql';
export type LogFormat = 'text' | 'json';
export type LogLevel = 'error' | 'warn' | 'log' | 'debug';

/** A setting that does not parse; its message names the variable and the value. */
export class ConfigError extends Error {}

/** The server's settings, read once from the environment at start. */
export class KritenConfig {
  port: number;
  /** Address to listen on; 0.0.0.0 for every interface. */
  listenHost: string;
  dataDir: string;
  databaseKind: DatabaseKind;
  /** Connection URL for MySQL/MariaDB; sensitive because it may hold a password. */
  databaseUrl?: string;
  executor: ExecutorKind;
  /** Sensitive: never logged. */
  rootPassword?: string;
  /** Sensitive: never logged. */
  jwtSecret?: string;
  jwtExpirySeconds: number;
  /** Sensitive: 32 bytes as 64 hex characters or base64. Never logged. */
  secretKey?: string;
  /** Kubernetes namespace of Kriten's Jobs and Secrets; unset means the pod's or the context's own. */
  namespace?: string;
  jobsTtlSeconds: number;
  /** Image of the init container that clones a job's repository; it needs `sh` and `git`. */
  gitImage: string;
  /** Service account that job pods run as, without a mounted token. */
  jobServiceAccount: string;
  /** Seconds an image pull may keep failing before its job fails. */
  imagePullGraceSeconds: number;
  /** KUBECONFIG: kubeconfig file(s) used when the server does not run in a pod. */
  kubeconfig?: string;
  /** KUBERNETES_SERVICE_HOST, set by the kubelet in every pod; selects the pod's service account. */
  kubernetesServiceHost?: string;
  maxConcurrentJobs: number;
  maxOutputBytes: number;
  maxBodyBytes: number;
  repoRefreshSeconds: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  production: boolean;
}

type Env = Record<string, string | undefined>;

const DEFAULT_GIT_IMAGE = 'alpine/git:2.47.2';
const DEFAULT_KUBERNETES_CONCURRENT_JOBS = 100;

/** Reads and validates the settings; throws ConfigError on the first invalid one. */
export function loadConfig(env: Env): KritenConfig {
  const config = new KritenConfig();

  config.port = readInteger(env, 'PORT', 8080, 0, 65535);
  config.listenHost = readListenHost(env);
  config.dataDir = readDataDir(env);
  Object.assign(config, readDatabase(env));
  config.executor = readChoice(env, 'KRITEN_EXECUTOR', ['local', 'kubernetes'], 'local');
  config.rootPassword = readOptional(env, 'KRITEN_ROOT_PASSWORD');
  config.jwtSecret = readOptional(env, 'KRITEN_JWT_SECRET');
  config.jwtExpirySeconds = readInteger(env, 'KRITEN_JWT_EXPIRY_SECONDS', 3600, 60, 31_536_000);
  config.secretKey = readSecretKey(env);
  config.namespace = readOptional(env, 'KRITEN_NAMESPACE');
  config.jobsTtlSeconds = readInteger(env, 'KRITEN_JOBS_TTL_SECONDS', 3600, 0, 31_536_000);
  config.gitImage = readImage(env, 'KRITEN_GIT_IMAGE', DEFAULT_GIT_IMAGE);
  config.jobServiceAccount = readName(env, 'KRITEN_JOB_SERVICE_ACCOUNT', 'kriten-job');
  config.imagePullGraceSeconds = readInteger(env, 'KRITEN_IMAGE_PULL_GRACE_SECONDS', 30, 0, 3600);
  config.kubeconfig = readOptional(env, 'KUBECONFIG');
  config.kubernetesServiceHost = readOptional(env, 'KUBERNETES_SERVICE_HOST');
  // On this host each job is a process, so the CPUs bound them. In a cluster the scheduler
  // places the pods, and the bound only keeps one replica from flooding the namespace.
  config.maxConcurrentJobs = readInteger(
    env,
    'KRITEN_MAX_CONCURRENT_JOBS',
    config.executor === 'kubernetes' ? DEFAULT_KUBERNETES_CONCURRENT_JOBS : availableParallelism(),
    1,
    10_000,
  );
  config.maxOutputBytes = readInteger(
    env,
    'KRITEN_MAX_OUTPUT_BYTES',
    10 * 1024 * 1024,
    1024,
    1 << 30,
  );
  config.maxBodyBytes = readInteger(
    env,
    'KRITEN_MAX_BODY_BYTES',
    1024 * 1024,
    1024,
    64 * 1024 * 1024,
  );
  config.repoRefreshSeconds = readInteger(env, 'KRITEN_REPO_REFRESH_SECONDS', 2, 0, 86_400);
  config.logLevel = readChoice(env, 'KRITEN_LOG_LEVEL', ['error', 'warn', 'log', 'debug'], 'log');
  config.logFormat = readChoice(env, 'KRITEN_LOG_FORMAT', ['text', 'json'], 'text');
  config.production = env.NODE_ENV === 'production';

  if (config.production && !config.jwtSecret) {
    throw new ConfigError(
      'KRITEN_JWT_SECRET is missing: it is required when NODE_ENV=production, so that every replica signs tokens with the same key',
    );
  }
  return config;
}

function invalid(name: string, value: string, expected: string): ConfigError {
  return new ConfigError(`invalid ${name}='${value}': expected ${expected}`);
}

function readOptional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = readOptional(env, name);
  if (value === undefined) {
    return fallback;
  }
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw invalid(name, value, `an integer from ${min} to ${max}`);
  }
  return Number(value);
}

function readChoice<T extends string>(env: Env, name: string, choices: T[], fallback: T): T {
  const value = readOptional(env, name);
  if (value === undefined) {
    return fallback;
  }
  if (!choices.includes(value as T)) {
    throw invalid(name, value, `one of ${choices.join(', ')}`);
  }
  return value as T;
}

/** Reads a container image reference: no spaces or control characters, at most 512 characters. */
function readImage(env: Env, name: string, fallback: string): string {
  const value = readOptional(env, name) ?? fallback;
  if (value.length > 512 || !/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(value)) {
    throw invalid(name, value, 'a container image such as alpine/git:2.47.2');
  }
  return value;
}

/** Reads a Kubernetes object name (RFC 1123 subdomain). */
function readName(env: Env, name: string, fallback: string): string {
  const value = readOptional(env, name) ?? fallback;
  if (value.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value)) {
    throw invalid(name, value, 'a Kubernetes name: lowercase letters, digits, - and .');
  }
  return value;
}

function readListenHost(env: Env): string {
  const value = readOptional(env, 'KRITEN_LISTEN_HOST') ?? '0.0.0.0';
  if (!/^[A-Za-z0-9.:-]+$/.test(value)) {
    throw invalid(
      'KRITEN_LISTEN_HOST',
      value,
      'an IP address or host name, such as 127.0.0.1 or 0.0.0.0',
    );
  }
  return value;
}

function readDataDir(env: Env): string {
  const value = readOptional(env, 'KRITEN_DATA_DIR') ?? './data';
  return isAbsolute(value) ? value : resolve(value);
}

function readDatabase(env: Env): Pick<KritenConfig, 'databaseKind' | 'databaseUrl'> {
  const value = readOptional(env, 'KRITEN_DATABASE_URL');
  if (value === undefined) {
    return { databaseKind: 'sqlite' };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(
      'KRITEN_DATABASE_URL',
      redactUrl(value),
      'a URL such as mysql://user:password@host:3306/kriten',
    );
  }
  if ((url.protocol === 'mysql:' || url.protocol === 'mariadb:') && url.pathname.length > 1) {
    return { databaseKind: 'mysql', databaseUrl: value };
  }
  throw invalid(
    'KRITEN_DATABASE_URL',
    redactUrl(value),
    'mysql://user:password@host:3306/database (MySQL or MariaDB), or unset for the embedded SQLite database',
  );
}

function readSecretKey(env: Env): string | undefined {
  const value = readOptional(env, 'KRITEN_SECRET_KEY');
  if (value !== undefined && decodeSecretKey(value) === undefined) {
    throw new ConfigError(
      'invalid KRITEN_SECRET_KEY: expected 32 bytes as 64 hex characters or as base64 (generate one with: openssl rand -hex 32)',
    );
  }
  return value;
}

/** Decodes a 32-byte key given as hex or base64; undefined when it is neither. */
export function decodeSecretKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) {
    return Buffer.from(value, 'hex');
  }
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

/** Replaces the password of a URL, so that it can appear in a message. */
export function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
