import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** URL schemes git may use, for the runner's URL and for any redirect or submodule it follows. */
const ALLOWED_PROTOCOLS = 'file:git:http:https:ssh';

/**
 * Variables of the server's environment that git and ssh need to reach a remote: the search
 * path, proxies, the ssh agent and CA certificates. Every other variable is dropped.
 */
const INHERITED_VARIABLES = [
  'PATH',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'SSH_AUTH_SOCK',
  'GIT_SSL_CAINFO',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Lines of git's error output kept in a job's failure reason. */
const ERROR_TAIL_LINES = 8;

/**
 * Credential helper that git runs for HTTP authentication. It prints the username and token
 * that Kriten puts in the environment of each git process, so the token is never part of a
 * command line or of a file on disk.
 */
const CREDENTIAL_HELPER_SCRIPT = `#!/bin/sh
# Written by Kriten. Git calls this helper with "get", "store" or "erase"; only "get" answers.
if [ "$1" = get ]; then
  printf 'username=%s\\n' "\${KRITEN_GIT_USERNAME:-kriten}"
  printf 'password=%s\\n' "$KRITEN_GIT_TOKEN"
fi
`;

/** Username and token for an HTTP(S) remote, handed to git through its environment. */
export interface GitCredentials {
  username: string;
  token: string;
}

/** A git URL split into the part that may appear in a command line and the credentials. */
export interface GitRemote {
  /** URL without any password, safe to pass as an argument. */
  url: string;
  credentials?: GitCredentials;
}

/** A git command that exited with an error; stderr is already redacted. */
export class GitCommandError extends Error {
  constructor(
    readonly subcommand: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${subcommand} exited with code ${exitCode}: ${lastLines(stderr)}`);
    this.name = 'GitCommandError';
  }
}

/**
 * Replaces URL userinfo (`https://user:password@host`) and each given secret with `***`, so
 * text from git can be logged and stored.
 */
export function redactCredentials(text: string, secrets: readonly string[] = []): string {
  let redacted = text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
  for (const secret of secrets) {
    if (secret.length > 0) {
      redacted = redacted.split(secret).join('***');
    }
  }
  return redacted;
}

/** Returns the last lines of a multi-line text, trimmed, joined with newlines. */
export function lastLines(text: string, count = ERROR_TAIL_LINES): string {
  const lines = text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.length > 0);
  return lines.slice(-count).join('\n');
}

/**
 * Splits the runner's URL and token into what git gets as an argument and what it gets through
 * the environment. A password written into an HTTP(S) URL is moved out of the URL as well, and
 * used as the token when the runner has none. The username comes from the URL, or is `kriten`.
 */
export function toGitRemote(gitUrl: string, gitToken: string | undefined): GitRemote {
  const url = parseHttpUrl(gitUrl);
  if (url === undefined) {
    const credentials = gitToken ? { username: 'kriten', token: gitToken } : undefined;
    return { url: gitUrl, credentials };
  }

  const username = decodeURIComponent(url.username) || 'kriten';
  const token = gitToken || decodeURIComponent(url.password);
  // Only a URL that carried a password is rewritten, because URL serialization also
  // normalizes other parts of it.
  let argumentUrl = gitUrl;
  if (url.password !== '') {
    url.password = '';
    argumentUrl = url.toString();
  }
  return { url: argumentUrl, credentials: token ? { username, token } : undefined };
}

function parseHttpUrl(gitUrl: string): URL | undefined {
  if (!/^https?:\/\//i.test(gitUrl)) {
    return undefined;
  }
  try {
    return new URL(gitUrl);
  } catch {
    return undefined;
  }
}

/** Result of a git command that exited with code 0. */
export interface GitResult {
  stdout: string;
}

/** Repository and credentials for one git command. */
export interface GitCommandOptions {
  /** Repository to operate on, passed as `--git-dir`. */
  gitDir?: string;
  credentials?: GitCredentials;
}

/**
 * Spawns git with an argument array, never a shell, in a fixed environment: no system or user
 * configuration, no terminal prompts, only the allowed protocols, and credentials from the
 * credential helper that this class installs in the data directory.
 */
export class GitProcessRunner {
  private readonly homeDir: string;
  private readonly credentialHelperPath: string;

  /** Creates the empty home directory and writes the credential helper script into dataDir. */
  constructor(dataDir: string) {
    this.homeDir = join(dataDir, 'git-home');
    this.credentialHelperPath = join(dataDir, 'git-credential-helper.sh');

    mkdirSync(this.homeDir, { recursive: true, mode: 0o700 });
    writeFileSync(this.credentialHelperPath, CREDENTIAL_HELPER_SCRIPT, { mode: 0o700 });
    // The mode given to writeFileSync applies only when the file is created.
    chmodSync(this.credentialHelperPath, 0o700);
  }

  /**
   * Runs git to completion, capturing its output. args starts with the subcommand. Rejects with
   * GitCommandError when git exits with another code than 0.
   */
  run(args: readonly string[], options: GitCommandOptions = {}): Promise<GitResult> {
    const child = this.spawn(args, options);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        if (code === 0) {
          resolve({ stdout: Buffer.concat(stdout).toString('utf8') });
          return;
        }
        const text = this.redact(Buffer.concat(stderr).toString('utf8'), options.credentials);
        reject(new GitCommandError(args[0], code, text));
      });
    });
  }

  /** Spawns git with piped stdout and stderr, for callers that stream its output. */
  spawn(args: readonly string[], options: GitCommandOptions = {}): ChildProcess {
    const globalOptions = this.configArguments(options.credentials);
    if (options.gitDir !== undefined) {
      globalOptions.push(`--git-dir=${options.gitDir}`);
    }
    return spawn('git', [...globalOptions, ...args], {
      env: this.environment(options.credentials),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Redacts URL userinfo and the token from text that git printed. */
  redact(text: string, credentials?: GitCredentials): string {
    return redactCredentials(text, credentials ? [credentials.token] : []);
  }

  private configArguments(credentials: GitCredentials | undefined): string[] {
    // An empty value clears helpers configured anywhere else before ours is added. A value
    // starting with '!' is run by a shell, so a path containing spaces still works quoted.
    const helpers = ['-c', 'credential.helper='];
    if (credentials) {
      helpers.push('-c', `credential.helper=!${quoteForShell(this.credentialHelperPath)}`);
    }
    // A detached automatic gc would outlive the fetch as a stray background process.
    return [...helpers, '-c', 'gc.autoDetach=false'];
  }

  private environment(credentials: GitCredentials | undefined): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const name of INHERITED_VARIABLES) {
      const value = process.env[name];
      if (value !== undefined) {
        env[name] = value;
      }
    }
    env.PATH ??= DEFAULT_PATH;

    Object.assign(env, {
      HOME: this.homeDir,
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS,
      GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    });
    if (credentials) {
      env.KRITEN_GIT_USERNAME = credentials.username;
      env.KRITEN_GIT_TOKEN = credentials.token;
    }
    return env;
  }
}

function quoteForShell(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
