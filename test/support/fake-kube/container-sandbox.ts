import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';

/** A host folder bound into the container at mountPath. */
export interface ContainerMount {
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
}

/** Namespaces and process settings of every container; the same set the local executor uses. */
const ISOLATION_ARGUMENTS = [
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--die-with-parent',
  '--cap-drop',
  'ALL',
];

/** Top-level host folders that stay hidden from a container, which gets empty ones instead. */
const FRESH_TOP_LEVEL = new Set(['/dev', '/proc', '/tmp', '/root', '/run']);

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds bwrap arguments for a container filesystem: the host's root read-only, with empty
 * writable /tmp, /root and /run, fresh /dev and /proc, the shared host folders read-only at
 * their own paths, and each mount at its mountPath. bwrap cannot create a mount point inside
 * a read-only bind, so the root is a tmpfs: every host entry is bound into it, and each
 * folder on the way to a mountPath is recreated and filled entry by entry. The tmpfs itself
 * is made read-only at the end. With readOnlyRootFilesystem, /tmp, /root and /run are
 * read-only too, and only volumes stay writable.
 */
export function buildFilesystemArguments(
  mounts: ContainerMount[],
  hostname: string,
  sharedHostPaths: string[] = [],
  hiddenHostPaths: string[] = [],
  workingDir = '/',
  readOnlyRootFilesystem = false,
): string[] {
  const mountPaths = new Set(mounts.map((mount) => posix.normalize(mount.mountPath)));
  const createdWorkingDir = workingDirArguments(mounts, workingDir);
  const ancestors = new Set<string>();
  for (const mountPath of [...mountPaths, ...createdWorkingDir.slice(1)]) {
    let parent = posix.dirname(mountPath);
    while (parent !== '/') {
      ancestors.add(parent);
      parent = posix.dirname(parent);
    }
  }

  const args = ['--tmpfs', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  args.push('--tmpfs', '/root', '--tmpfs', '/run');

  const fill = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = dir === '/' ? `/${entry}` : `${dir}/${entry}`;
      if (dir === '/' && FRESH_TOP_LEVEL.has(path)) {
        continue;
      }
      if (mountPaths.has(path)) {
        continue;
      }
      if (isSymlink(path)) {
        args.push('--symlink', readlinkSync(path), path);
      } else if (ancestors.has(path)) {
        args.push('--dir', path);
        fill(path);
      } else {
        args.push('--ro-bind', path, path);
      }
    }
  };
  fill('/');

  // Folders on the way to a mount that the host lacks, and that no fresh top-level folder holds.
  for (const ancestor of [...ancestors].sort()) {
    if (!exists(ancestor) || FRESH_TOP_LEVEL.has(`/${ancestor.split('/')[1]}`)) {
      args.push('--dir', ancestor);
    }
  }
  // Shared host folders (such as test git repositories under /tmp) are bound after the fresh
  // /tmp, and hidden folders (such as the fake's own state) are covered again by a tmpfs.
  for (const path of sharedHostPaths) {
    args.push('--ro-bind', path, path);
  }
  for (const path of hiddenHostPaths) {
    args.push('--tmpfs', path);
  }
  for (const mount of [...mounts].sort((a, b) => a.mountPath.length - b.mountPath.length)) {
    args.push(
      mount.readOnly ? '--ro-bind' : '--bind',
      mount.hostPath,
      posix.normalize(mount.mountPath),
    );
  }
  args.push(...createdWorkingDir);
  args.push('--remount-ro', '/');
  if (readOnlyRootFilesystem) {
    args.push('--remount-ro', '/tmp', '--remount-ro', '/root', '--remount-ro', '/run');
  }
  args.push('--hostname', hostname);
  return args;
}

/**
 * Creates a missing working directory as runc does: inside a writable mount on the host,
 * elsewhere as an empty folder in the container's root. Returns the bwrap arguments needed.
 */
function workingDirArguments(mounts: ContainerMount[], workingDir: string): string[] {
  const target = posix.normalize(workingDir);
  const mount = [...mounts]
    .sort((a, b) => b.mountPath.length - a.mountPath.length)
    .find((candidate) => {
      const mountPath = posix.normalize(candidate.mountPath);
      return target === mountPath || target.startsWith(`${mountPath}/`);
    });
  if (mount !== undefined) {
    if (!mount.readOnly) {
      const relative = posix.relative(posix.normalize(mount.mountPath), target);
      mkdirSync(posix.join(mount.hostPath, relative), { recursive: true });
    }
    return [];
  }
  return exists(target) ? [] : ['--dir', target];
}

/**
 * Starts a container's process under bwrap, as the leader of a new process group so that a
 * kill reaches every process in it. The environment is passed as bwrap's own, so values never
 * appear in a command line. stdout and stderr share one file, as the kubelet's log does.
 */
export function spawnContainer(
  bwrapPath: string,
  filesystem: string[],
  workingDir: string,
  argv: string[],
  env: Record<string, string>,
  logFd: number,
): ChildProcess {
  const args = [...filesystem, '--chdir', workingDir, ...ISOLATION_ARGUMENTS, '--', ...argv];
  return spawn(bwrapPath, args, {
    env,
    stdio: ['ignore', logFd, logFd],
    detached: true,
    cwd: '/',
  });
}

/** Sends a signal to a container's whole process group; a group that has exited is ignored. */
export function signalContainer(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
      throw error;
    }
  }
}
