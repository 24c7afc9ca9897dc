import { spawn, type ChildProcess } from 'node:child_process';
import type { JobLaunch } from '../job-executor';
import { HOST_ETC_NAME } from './etc-view';

/** Search path inside the sandbox; none of the server's own variables reach a job. */
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Folder where a job finds its secrets as files. */
export const SECRET_MOUNT = '/etc/secret';

/**
 * Namespaces and process settings shared by every sandbox, including the readiness probe.
 *
 * bwrap's --new-session is left out on purpose. spawnSandbox already starts bwrap in a new
 * session without a controlling terminal, so a job cannot inject input into a terminal, which
 * is what --new-session guards against. With --new-session, bwrap's inner process leaves the
 * process group during its setup. A group kill in the first milliseconds after spawn then left
 * the sandbox running in 3 of 150 tries (bwrap 0.8, Linux 6.18). The test "cancel right after
 * launch leaves no process" can show it. Without it, the group kill always reaches the
 * init process of the PID namespace, whose death ends every process in it.
 */
export const ISOLATION_ARGUMENTS = [
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--die-with-parent',
  '--cap-drop',
  'ALL',
];

/** The host paths a job's sandbox is built from. */
export interface SandboxLayout {
  /** The server's data directory, replaced by an empty tmpfs inside the sandbox. */
  dataDir: string;
  /** The job's writable working directory, the only part of dataDir that a job can access. */
  checkoutDir: string;
  /** Folder with one file per secret, mounted read-only at /etc/secret. */
  secretDir: string;
  /** Folder mounted as /etc, made by EtcView. */
  etcViewDir: string;
}

/**
 * Builds the bwrap arguments that run `/bin/sh -c command` in the checkout. The sandbox has a
 * read-only host root, private /dev, /proc and /tmp, and a read-only /etc with the secrets
 * added. The data directory is hidden except for the checkout. The job gets its own PID, IPC
 * and UTS namespaces and no capabilities.
 */
export function buildSandboxArguments(layout: SandboxLayout, command: string): string[] {
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];

  // bwrap 0.8 cannot create /etc/secret on the read-only root, so /etc is a prepared view.
  args.push('--ro-bind', layout.etcViewDir, '/etc', '--ro-bind', '/etc', `/etc/${HOST_ETC_NAME}`);
  args.push('--ro-bind', layout.secretDir, SECRET_MOUNT);

  // bwrap reads bind sources from the host's tree, so the checkout can be bound after the
  // tmpfs has hidden the rest of the data directory.
  args.push('--tmpfs', layout.dataDir);
  args.push('--bind', layout.checkoutDir, layout.checkoutDir, '--chdir', layout.checkoutDir);

  args.push(...ISOLATION_ARGUMENTS, '--', '/bin/sh', '-c', command);
  return args;
}

/**
 * Builds a job's complete environment. Secrets may replace PATH, HOME and LANG, as they would
 * in a Kubernetes pod, but never KRITEN_JOB_ID or EXTRA_VARS, which are set last.
 */
export function buildJobEnvironment(
  job: Pick<JobLaunch, 'jobId' | 'secrets' | 'extraVars'>,
): Record<string, string> {
  // Without a prototype, a secret named __proto__ is stored as a plain variable.
  const env: Record<string, string> = Object.create(null);
  env.PATH = SANDBOX_PATH;
  env.HOME = '/tmp';
  env.LANG = 'C.UTF-8';
  for (const [key, value] of Object.entries(job.secrets)) {
    env[key] = value;
  }

  env.KRITEN_JOB_ID = job.jobId;
  if (job.extraVars !== undefined) {
    env.EXTRA_VARS = job.extraVars;
  }
  return env;
}

/**
 * Starts bwrap as the leader of a new session and process group. The job's environment is
 * passed as bwrap's own, because --setenv would put secrets in the command line, which every
 * user can read in /proc. stdout and stderr both go to outputFd, so their interleaving is
 * exact. Throws synchronously on invalid arguments, such as a NUL byte in a variable.
 */
export function spawnSandbox(
  bwrapPath: string,
  args: string[],
  env: Record<string, string>,
  outputFd: number,
): ChildProcess {
  return spawn(bwrapPath, args, {
    env,
    stdio: ['ignore', outputFd, outputFd],
    detached: true,
    cwd: '/',
  });
}

/**
 * Kills the sandbox's process group with SIGKILL. The group contains bwrap and the init process
 * of the job's PID namespace, whose death kills every process inside, even one that started
 * a session of its own.
 */
export function killSandbox(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
      throw error;
    }
  }
}
