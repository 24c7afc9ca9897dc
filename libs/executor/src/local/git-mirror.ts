import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  GitCommandError,
  GitProcessRunner,
  lastLines,
  redactCredentials,
  toGitRemote,
  type GitRemote,
} from './git-process';
import type { ExecutorLogger } from './local-executor-options';
import { TreeManifest, copyTree, readTreeManifest } from './tree-copy';

/**
 * Attributes that take precedence over the repository's own `.gitattributes`, so that
 * `git archive` writes every file unchanged, as a clone would: no `export-ignore` omissions and
 * no `export-subst` expansion.
 */
const ARCHIVE_ATTRIBUTES = '* -export-ignore -export-subst\n';

/** Runner names are Kubernetes object names, which also makes them safe folder names. */
const RUNNER_NAME_PATTERN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const COMMIT_PATTERN = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Origin of a runner's code: repository URL, branch and access token. */
export interface RepositorySource {
  runnerName: string;
  gitUrl: string;
  branch: string;
  gitToken?: string;
}

/** A job's checkout could not be made; the message is the job's failure reason. */
export class CheckoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckoutError';
  }
}

/** A commit extracted into `snapshots/<commit>`, and how many checkouts are copying it. */
interface Snapshot {
  users: number;
  ready: Promise<void>;
  manifest?: Promise<TreeManifest>;
}

/** A fetch of a runner's branch; requestedAt is a `performance.now()` time. */
interface FetchResult {
  sourceKey: string;
  requestedAt: number;
  commit: string;
}

interface PendingFetch {
  sourceKey: string;
  requestedAt: number;
  commit: Promise<string>;
}

/** State of one runner's folder under `repos/`, kept in memory by this process. */
interface RunnerRepository {
  readonly runnerName: string;
  readonly dir: string;
  readonly mirrorDir: string;
  readonly sourceKeyFile: string;
  readonly snapshotsDir: string;
  /** Source key of the mirror on disk, once checked against the key file. */
  mirrorSourceKey?: string;
  /** Serializes the steps that write the mirror or the snapshot folder. */
  lock: Promise<void>;
  latest?: FetchResult;
  pendingFetch?: PendingFetch;
  snapshots: Map<string, Snapshot>;
  /** Set when snapshot folders other than the latest commit's may exist. */
  cleanupNeeded: boolean;
  /** Names under snapshotsDir that are being deleted outside the lock. */
  removals: Set<string>;
}

/**
 * Bare mirrors of the runners' branches and extracted snapshots of their commits, laid out as
 * `<reposDir>/<runner>/mirror.git` and `<reposDir>/<runner>/snapshots/<commit>`. A job's
 * checkout is a copy of a snapshot, so a job starts a git process only when the branch is
 * due for a fetch.
 */
export class RepositoryCache {
  private readonly repositories = new Map<string, RunnerRepository>();
  private readonly refreshMilliseconds: number;

  constructor(
    private readonly reposDir: string,
    private readonly git: GitProcessRunner,
    repoRefreshSeconds: number,
    private readonly logger: ExecutorLogger,
  ) {
    this.refreshMilliseconds = repoRefreshSeconds * 1000;
  }

  /**
   * Copies the branch's newest commit into destination, which must not exist yet, fetching
   * the branch first when the last fetch was requested longer ago than the refresh interval.
   * Returns the commit. Rejects with CheckoutError, whose message names the URL and branch.
   */
  async checkout(source: RepositorySource, destination: string): Promise<string> {
    const failure = `checkout of ${redactCredentials(source.gitUrl)} branch '${source.branch}' failed`;
    const invalidInput = checkRunnerName(source.runnerName) ?? checkBranchName(source.branch);
    if (invalidInput !== undefined) {
      throw new CheckoutError(`${failure}: ${invalidInput}`);
    }

    const remote = toGitRemote(source.gitUrl, source.gitToken);
    const repository = this.repositoryOf(source.runnerName);
    try {
      const commit = await this.resolveCommit(repository, remote, source.branch);
      await this.copySnapshot(repository, commit, destination);
      return commit;
    } catch (error) {
      throw new CheckoutError(`${failure}: ${this.describeError(error, remote)}`);
    }
  }

  /** Deletes the runner's mirror and snapshots. */
  async forget(runnerName: string): Promise<void> {
    if (checkRunnerName(runnerName) !== undefined) {
      return;
    }

    // NOTE: a job of this runner that is copying a snapshot right now fails its checkout.
    const repository = this.repositoryOf(runnerName);
    await this.exclusive(repository, () => rm(repository.dir, { recursive: true, force: true }));
    if (this.repositories.get(runnerName) === repository) {
      this.repositories.delete(runnerName);
    }
  }

  private repositoryOf(runnerName: string): RunnerRepository {
    let repository = this.repositories.get(runnerName);
    if (repository === undefined) {
      const dir = join(this.reposDir, runnerName);
      repository = {
        runnerName,
        dir,
        mirrorDir: join(dir, 'mirror.git'),
        sourceKeyFile: join(dir, 'mirror-source'),
        snapshotsDir: join(dir, 'snapshots'),
        lock: Promise.resolve(),
        snapshots: new Map(),
        cleanupNeeded: true,
        removals: new Set(),
      };
      this.repositories.set(runnerName, repository);
    }
    return repository;
  }

  /** Runs step after every step queued before it on this repository has settled. */
  private exclusive<T>(repository: RunnerRepository, step: () => Promise<T>): Promise<T> {
    const result = repository.lock.then(step);
    repository.lock = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * Returns the branch's commit, fetching only when the last fetch was requested before the
   * refresh interval began. Jobs that arrive while a recent enough fetch runs wait for that
   * fetch instead of starting another one.
   */
  private async resolveCommit(
    repository: RunnerRepository,
    remote: GitRemote,
    branch: string,
  ): Promise<string> {
    const sourceKey = sourceKeyOf(remote.url, branch);
    const now = performance.now();
    const freshSince = now - this.refreshMilliseconds;

    const latest = repository.latest;
    if (latest?.sourceKey === sourceKey && latest.requestedAt >= freshSince) {
      return latest.commit;
    }
    const pending = repository.pendingFetch;
    if (pending?.sourceKey === sourceKey && pending.requestedAt >= freshSince) {
      return pending.commit;
    }

    const fetch: PendingFetch = {
      sourceKey,
      requestedAt: now,
      commit: this.exclusive(repository, () => this.fetch(repository, remote, branch, sourceKey)),
    };
    repository.pendingFetch = fetch;
    try {
      const commit = await fetch.commit;
      this.recordFetch(repository, { sourceKey, requestedAt: now, commit });
      return commit;
    } finally {
      if (repository.pendingFetch === fetch) {
        repository.pendingFetch = undefined;
      }
    }
  }

  private recordFetch(repository: RunnerRepository, result: FetchResult): void {
    const previous = repository.latest;
    if (previous !== undefined && previous.requestedAt > result.requestedAt) {
      return;
    }
    if (previous?.commit !== result.commit) {
      repository.cleanupNeeded = true;
    }
    repository.latest = result;
  }

  private async fetch(
    repository: RunnerRepository,
    remote: GitRemote,
    branch: string,
    sourceKey: string,
  ): Promise<string> {
    await this.openMirror(repository, sourceKey);

    const startedAt = performance.now();
    const gitDir = repository.mirrorDir;
    const refspec = `+refs/heads/${branch}:refs/heads/${branch}`;
    // NOTE: the fetch has no time limit, so a remote that stops responding blocks every job of
    // this runner until the connection fails.
    await this.git.run(
      [
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        '--end-of-options',
        remote.url,
        refspec,
      ],
      { gitDir, credentials: remote.credentials },
    );
    const { stdout } = await this.git.run(
      ['rev-parse', '--verify', '--end-of-options', `refs/heads/${branch}^{commit}`],
      { gitDir },
    );

    const commit = stdout.trim();
    if (!COMMIT_PATTERN.test(commit)) {
      throw new Error(`git rev-parse printed '${commit}' where a commit id was expected`);
    }
    const elapsed = Math.round(performance.now() - startedAt);
    this.logger.debug?.(
      `runner '${repository.runnerName}': fetched branch '${branch}' at commit ${commit} in ${elapsed} ms`,
    );
    return commit;
  }

  /** Creates the bare mirror, or re-creates it when the runner's URL or branch changed. */
  private async openMirror(repository: RunnerRepository, sourceKey: string): Promise<void> {
    if (repository.mirrorSourceKey === sourceKey) {
      return;
    }

    const storedKey = await readFile(repository.sourceKeyFile, 'utf8').catch(() => undefined);
    if (storedKey === sourceKey && (await exists(join(repository.mirrorDir, 'HEAD')))) {
      repository.mirrorSourceKey = sourceKey;
      return;
    }
    if (storedKey !== undefined) {
      this.logger.log(
        `runner '${repository.runnerName}': git URL or branch changed, re-creating its mirror`,
      );
    }

    // The key file is written last, so a mirror left half made by a crash is made again.
    await rm(repository.sourceKeyFile, { force: true });
    await rm(repository.mirrorDir, { recursive: true, force: true });
    await mkdir(repository.snapshotsDir, { recursive: true });
    await this.git.run(['init', '--bare', '--quiet', '--template=', repository.mirrorDir]);
    await mkdir(join(repository.mirrorDir, 'info'), { recursive: true });
    await writeFile(join(repository.mirrorDir, 'info', 'attributes'), ARCHIVE_ATTRIBUTES);
    await writeFile(repository.sourceKeyFile, sourceKey);

    repository.mirrorSourceKey = sourceKey;
    repository.latest = undefined;
  }

  private async copySnapshot(
    repository: RunnerRepository,
    commit: string,
    destination: string,
  ): Promise<void> {
    const snapshot = this.snapshotOf(repository, commit);
    snapshot.users++;
    try {
      await snapshot.ready;
      const source = join(repository.snapshotsDir, commit);
      snapshot.manifest ??= readTreeManifest(source);
      await copyTree(source, destination, await snapshot.manifest);
    } finally {
      snapshot.users--;
      if (repository.cleanupNeeded) {
        void this.removeOldSnapshots(repository);
      }
    }
  }

  private snapshotOf(repository: RunnerRepository, commit: string): Snapshot {
    const existing = repository.snapshots.get(commit);
    if (existing !== undefined) {
      return existing;
    }

    const snapshot: Snapshot = {
      users: 0,
      ready: this.exclusive(repository, () => this.createSnapshot(repository, commit)),
    };
    repository.snapshots.set(commit, snapshot);
    snapshot.ready.catch(() => {
      // A failed extraction is retried by the next job instead of being remembered.
      if (repository.snapshots.get(commit) === snapshot) {
        repository.snapshots.delete(commit);
      }
    });
    return snapshot;
  }

  /** Extracts the commit with `git archive | tar -x` into a partial folder, then renames it. */
  private async createSnapshot(repository: RunnerRepository, commit: string): Promise<void> {
    const dir = join(repository.snapshotsDir, commit);
    if (await exists(dir)) {
      return;
    }

    const partialDir = join(repository.snapshotsDir, `.partial-${commit}`);
    await rm(partialDir, { recursive: true, force: true });
    await mkdir(partialDir, { recursive: true });
    try {
      await this.extractCommit(repository.mirrorDir, commit, partialDir);
      await rename(partialDir, dir);
    } catch (error) {
      await rm(partialDir, { recursive: true, force: true });
      throw error;
    }
  }

  private async extractCommit(mirrorDir: string, commit: string, targetDir: string): Promise<void> {
    const archive = this.git.spawn(['archive', '--format=tar', '--end-of-options', commit], {
      gitDir: mirrorDir,
    });
    const tar = spawn('tar', ['-x', '--no-same-owner', '-f', '-', '-C', targetDir], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    // If either process cannot start or dies, the other must not wait for the pipe forever.
    archive.once('error', () => tar.kill('SIGKILL'));
    tar.once('error', () => archive.kill('SIGKILL'));
    // tar exiting early makes writes fail with EPIPE; its exit code reports the cause.
    tar.stdin?.on('error', () => undefined);
    archive.stdout?.pipe(tar.stdin!);

    const [archiveExit, tarExit] = await Promise.all([waitForExit(archive), waitForExit(tar)]);
    if (archiveExit.code !== 0) {
      throw new GitCommandError('archive', archiveExit.code, this.git.redact(archiveExit.stderr));
    }
    if (tarExit.code !== 0) {
      throw new Error(`tar -x exited with code ${tarExit.code}: ${lastLines(tarExit.stderr)}`);
    }
  }

  /**
   * Deletes snapshot folders that no checkout is copying, except the latest commit's, and
   * leftovers of an earlier process. Folders are renamed under the lock, so a job never finds
   * a half-deleted snapshot, and deleted after it is released.
   */
  private async removeOldSnapshots(repository: RunnerRepository): Promise<void> {
    repository.cleanupNeeded = false;
    try {
      const renamed = await this.exclusive(repository, () => this.detachOldSnapshots(repository));
      for (const name of renamed) {
        await rm(join(repository.snapshotsDir, name), { recursive: true, force: true });
        repository.removals.delete(name);
      }
    } catch (error) {
      repository.cleanupNeeded = true;
      this.logger.warn(
        `runner '${repository.runnerName}': removing old snapshots failed, retrying after the next job: ${describe(error)}`,
      );
    }
  }

  /** Renames deletable snapshot folders to `.removing-*` names and returns those names. */
  private async detachOldSnapshots(repository: RunnerRepository): Promise<string[]> {
    const names = await readdir(repository.snapshotsDir).catch(() => [] as string[]);
    const latestCommit = repository.latest?.commit;
    const renamed: string[] = [];

    for (const name of names) {
      if (name === latestCommit || repository.removals.has(name)) {
        continue;
      }
      if ((repository.snapshots.get(name)?.users ?? 0) > 0) {
        repository.cleanupNeeded = true;
        continue;
      }

      repository.snapshots.delete(name);
      const removingName = name.startsWith('.removing-')
        ? name
        : `.removing-${name}-${randomBytes(4).toString('hex')}`;
      if (removingName !== name) {
        await rename(
          join(repository.snapshotsDir, name),
          join(repository.snapshotsDir, removingName),
        );
      }
      repository.removals.add(removingName);
      renamed.push(removingName);
    }
    return renamed;
  }

  private describeError(error: unknown, remote: GitRemote): string {
    const secrets = remote.credentials ? [remote.credentials.token] : [];
    if (error instanceof GitCommandError) {
      const stderr = lastLines(error.stderr);
      return stderr.length > 0
        ? stderr
        : `git ${error.subcommand} exited with code ${error.exitCode}`;
    }
    if (isErrnoException(error) && error.code === 'ENOENT' && error.syscall?.startsWith('spawn')) {
      return `${error.path} is not installed or not on PATH`;
    }
    return redactCredentials(describe(error), secrets);
  }
}

/** Identifies the mirror's origin: a mirror is re-created when this changes. */
function sourceKeyOf(url: string, branch: string): string {
  return createHash('sha256').update(`${url}\n${branch}`).digest('hex');
}

function checkRunnerName(runnerName: string): string | undefined {
  if (RUNNER_NAME_PATTERN.test(runnerName) && runnerName.length <= 253) {
    return undefined;
  }
  return `runner name '${runnerName}' is invalid: use lowercase letters, digits, '-' and '.'`;
}

/** Applies the rules of `git check-ref-format` to `refs/heads/<branch>`, without a process. */
export function checkBranchName(branch: string): string | undefined {
  const problem = findBranchNameProblem(branch);
  return problem === undefined ? undefined : `branch name '${branch}' is invalid: ${problem}`;
}

function findBranchNameProblem(branch: string): string | undefined {
  if (branch.length === 0) {
    return 'it is empty';
  }
  const hasControlCharacter = [...branch].some((character) => {
    const code = character.charCodeAt(0);
    return code < 0x20 || code === 0x7f;
  });
  if (hasControlCharacter || /[ ~^:?*[\\]/.test(branch)) {
    return 'it contains a space, a control character or one of ~ ^ : ? * [ \\';
  }
  if (branch.includes('..') || branch.includes('@{') || branch === '@') {
    return "it contains '..' or '@{', or is '@'";
  }
  if (
    branch.startsWith('-') ||
    branch.startsWith('/') ||
    branch.endsWith('/') ||
    branch.endsWith('.')
  ) {
    return "it starts with '-' or '/', or ends with '/' or '.'";
  }
  const components = branch.split('/');
  if (
    components.some((part) => part.length === 0 || part.startsWith('.') || part.endsWith('.lock'))
  ) {
    return "a part between slashes is empty, starts with '.' or ends with '.lock'";
  }
  return undefined;
}

interface ProcessExit {
  code: number | null;
  stderr: string;
}

function waitForExit(child: ChildProcess): Promise<ProcessExit> {
  const stderr: Buffer[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ code, stderr: Buffer.concat(stderr).toString('utf8') }),
    );
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
