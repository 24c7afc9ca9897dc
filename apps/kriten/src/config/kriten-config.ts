import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { NestedGroupMode } from '../directory/ldap-directory';

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
  /** Login attempts allowed per minute, for each client address and for each username. */
  loginRateLimit: number;
  /** Whether the token cookie is sent only over https. */
  cookieSecure: boolean;
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
  /** The LDAP directory behind the `active_directory` login provider; absent when not configured. */
  ldap?: LdapConfig;
  /** Express's `trust proxy` value, so that audit records show the client behind a proxy. */
  trustProxy?: number | string[];
}

export class LdapConfig {
  url: string;
  bindDn: string;
  /** Sensitive: never logged. */
  bindPassword: string;
  baseDn: string;
  userFilter: string;
  usernameAttribute: string;
  groupAttribute: string;
  nestedGroups: NestedGroupMode;
  /** PEM file of the certificate authorities that ldaps:// server certificates must chain to. */
  caFile?: string;
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
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
  config.loginRateLimit = readInteger(env, 'KRITEN_LOGIN_RATE_LIMIT', 10, 1, 1_000_000);
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
  config.cookieSecure = readBoolean(env, 'KRITEN_COOKIE_SECURE', config.production);
  config.ldap = readLdap(env);
  config.trustProxy = readTrustProxy(env);

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

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = readOptional(env, name);
  if (value === undefined) {
    return fallback;
  }
  if (value !== 'true' && value !== 'false') {
    throw invalid(name, value, 'true or false');
  }
  return value === 'true';
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

const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;

/** Reads the KRITEN_LDAP_* settings; undefined when KRITEN_LDAP_URL is unset. */
function readLdap(env: Env): LdapConfig | undefined {
  const url = readOptional(env, 'KRITEN_LDAP_URL');
  if (url === undefined) {
    return undefined;
  }
  checkLdapUrl(url);

  const ldap = new LdapConfig();
  ldap.url = url;
  ldap.bindDn = readRequiredForLdap(env, 'KRITEN_LDAP_BIND_DN');
  ldap.bindPassword = readRequiredForLdap(env, 'KRITEN_LDAP_BIND_PASSWORD');
  ldap.baseDn = readRequiredForLdap(env, 'KRITEN_LDAP_BASE_DN');
  ldap.userFilter = readUserFilter(env);
  ldap.usernameAttribute = readAttributeName(
    env,
    'KRITEN_LDAP_USERNAME_ATTRIBUTE',
    'sAMAccountName',
  );
  ldap.groupAttribute = readAttributeName(env, 'KRITEN_LDAP_GROUP_ATTRIBUTE', 'memberOf');
  ldap.nestedGroups = readChoice(
    env,
    'KRITEN_LDAP_NESTED_GROUPS',
    ['search', 'in_chain', 'off'],
    'search',
  );
  ldap.caFile = readOptional(env, 'KRITEN_LDAP_CA_FILE');
  ldap.rejectUnauthorized =
    readChoice(env, 'KRITEN_LDAP_TLS_REJECT_UNAUTHORIZED', ['true', 'false'], 'true') === 'true';
  ldap.connectTimeoutMs = readInteger(env, 'KRITEN_LDAP_CONNECT_TIMEOUT_MS', 5000, 100, 120_000);
  ldap.timeoutMs = readInteger(env, 'KRITEN_LDAP_TIMEOUT_MS', 10_000, 100, 300_000);
  return ldap;
}

function checkLdapUrl(value: string): void {
  const expected = 'ldap://host[:port] or ldaps://host[:port], with no path, user or password';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('KRITEN_LDAP_URL', redactUrl(value), expected);
  }
  const bare = url.pathname === '' || url.pathname === '/';
  if (
    !['ldap:', 'ldaps:'].includes(url.protocol) ||
    url.hostname === '' ||
    !bare ||
    url.search !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    throw invalid('KRITEN_LDAP_URL', redactUrl(value), expected);
  }
}

function readRequiredForLdap(env: Env, name: string): string {
  const value = readOptional(env, name);
  if (value === undefined) {
    throw new ConfigError(`${name} is missing: it is required when KRITEN_LDAP_URL is set`);
  }
  return value;
}

function readUserFilter(env: Env): string {
  const value = readOptional(env, 'KRITEN_LDAP_USER_FILTER') ?? '(sAMAccountName={username})';
  if (!value.startsWith('(') || !value.endsWith(')') || !value.includes('{username}')) {
    throw invalid(
      'KRITEN_LDAP_USER_FILTER',
      value,
      'an LDAP filter in parentheses that contains {username}, such as (sAMAccountName={username})',
    );
  }
  return value;
}

function readAttributeName(env: Env, name: string, fallback: string): string {
  const value = readOptional(env, name) ?? fallback;
  if (!ATTRIBUTE_NAME.test(value)) {
    throw invalid(name, value, 'an LDAP attribute name such as memberOf');
  }
  return value;
}

const PROXY_ADDRESS = /^(loopback|linklocal|uniquelocal|[0-9A-Fa-f.:]+(\/\d{1,3})?)$/;

/**
 * Reads KRITEN_TRUST_PROXY: the number of proxies in front of the server, or a comma-separated
 * list of proxy addresses and subnets (Express's trust proxy syntax). Unset trusts no proxy.
 */
function readTrustProxy(env: Env): number | string[] | undefined {
  const value = readOptional(env, 'KRITEN_TRUST_PROXY');
  if (value === undefined) {
    return undefined;
  }
  if (/^\d+$/.test(value)) {
    return readInteger(env, 'KRITEN_TRUST_PROXY', 0, 0, 100);
  }
  const addresses = value.split(',').map((part) => part.trim());
  if (!addresses.every((address) => PROXY_ADDRESS.test(address))) {
    throw invalid(
      'KRITEN_TRUST_PROXY',
      value,
      'a number of proxies, or proxy addresses and subnets separated by commas (such as loopback, 10.0.0.0/8)',
    );
  }
  return addresses;
}
