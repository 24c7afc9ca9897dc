import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { lastLines } from './git-process';
import { ISOLATION_ARGUMENTS } from './sandbox';

const PROBE_TIMEOUT_MILLISECONDS = 10_000;

const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Returns the absolute path of an executable found on the server's PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  const searchPath = process.env.PATH ?? FALLBACK_PATH;
  for (const dir of searchPath.split(':')) {
    if (dir.length === 0) {
      continue;
    }
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) {
        return candidate;
      }
    } catch {
      continue;
    }
  }
  return undefined;
}

function installAdvice(packageName: string): string {
  return `install it with 'apt-get install ${packageName}' (Debian, Ubuntu) or 'dnf install ${packageName}' (Fedora, RHEL)`;
}

/**
 * Lists what keeps the local executor from running jobs: a missing git, tar or bwrap, or a
 * bwrap that cannot start a sandbox with the mounts and namespaces that jobs use. Returns an
 * empty list when everything works.
 */
export async function findReadinessProblems(): Promise<string[]> {
  const problems: string[] = [];
  for (const [tool, packageName] of [
    ['git', 'git'],
    ['tar', 'tar'],
  ]) {
    if (findExecutable(tool) === undefined) {
      problems.push(`${tool} is not installed or not on PATH: ${installAdvice(packageName)}`);
    }
  }

  const bwrapPath = findExecutable('bwrap');
  if (bwrapPath === undefined) {
    problems.push(
      `bubblewrap (bwrap) is not installed or not on PATH, and the local executor needs it to sandbox jobs: ${installAdvice('bubblewrap')}`,
    );
    return problems;
  }

  const probeError = await probeSandbox(bwrapPath);
  if (probeError !== undefined) {
    problems.push(
      `bubblewrap (${bwrapPath}) cannot start a sandbox: ${probeError}. ` +
        'If it reports a permission error, the kernel forbids unprivileged user namespaces: allow them ' +
        "with 'sysctl kernel.unprivileged_userns_clone=1' (Debian) or " +
        "'sysctl kernel.apparmor_restrict_unprivileged_userns=0' (Ubuntu 24.04), or run the server as root",
    );
  }
  return problems;
}

/** Runs `/bin/true` in a sandbox like a job's; returns bwrap's error, or undefined on success. */
function probeSandbox(bwrapPath: string): Promise<string | undefined> {
  const args = [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
    '--tmpfs',
    '/etc',
    '--ro-bind',
    '/etc',
    '/etc/.host',
    '--remount-ro',
    '/etc',
    ...ISOLATION_ARGUMENTS,
    '--',
    '/bin/true',
  ];
  const child = spawn(bwrapPath, args, {
    env: { PATH: FALLBACK_PATH },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: PROBE_TIMEOUT_MILLISECONDS,
  });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

  return new Promise((resolve) => {
    child.once('error', (error) => resolve(error.message));
    child.once('close', (code, signal) => {
      if (code === 0) {
        resolve(undefined);
        return;
      }
      const output = lastLines(Buffer.concat(stderr).toString('utf8'), 3);
      const ending = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      resolve(output.length > 0 ? `${output} (bwrap ${ending})` : `bwrap ${ending}`);
    });
  });
}
