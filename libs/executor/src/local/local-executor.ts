import type { ChildProcess } from 'node:child_process';
import { mkdirSync, realpathSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { readCapturedOutputFile } from '@kriten/results';
import type {
  JobEventSink,
  JobExecutor,
  JobLaunch,
  JobOutcome,
  UnfinishedJob,
} from '../job-executor';
import { GitProcessRunner } from './git-process';
import { CheckoutError, RepositoryCache } from './git-mirror';
import { checkJobId, checkSecrets, JobWorkspace, removeTree } from './job-workspace';
import { EtcView } from './etc-view';
import { Trash } from './trash';
import type { ExecutorLogger, LocalExecutorOptions } from './local-executor-options';
import { followOutputFile } from './output-follower';
import { findExecutable, findReadinessProblems } from './readiness';
import { buildJobEnvironment, buildSandboxArguments, killSandbox, spawnSandbox } from './sandbox';

const SERVER_STOPPED_REASON = 'the server stopped while the job was running';

/** setTimeout fires at once for delays above this many milliseconds, about 24.8 days. */
const MAX_TIMER_MILLISECONDS = 2 ** 31 - 1;

/** How long shutdown waits for jobs that are still fetching their repository. */
const SHUTDOWN_WAIT_MILLISECONDS = 10_000;

/** Status and reason of a job that the executor ends before its command does. */
interface JobStop {
  status: 'failed' | 'cancelled';
  reason: string;
}

/** A job from the call to launch until its end has been reported and its folder removed. */
interface ActiveJob {
  readonly job: JobLaunch;
  readonly events: JobEventSink;
  readonly workspace: JobWorkspace;
  child?: ChildProcess;
  stop?: JobStop;
  exited: boolean;
  timer?: NodeJS.Timeout;
  startReported?: Promise<void>;
  /** Settles once jobEnded was called and the work folder removed. */
  readonly finished: Promise<void>;
  markFinished(): void;
}

/**
 * Runs each job as `/bin/sh -c <command>` in a bubblewrap sandbox on this host, in a fresh
 * copy of the runner's branch. Framework-free, so that unit tests can build it directly.
 */
export class LocalExecutor implements JobExecutor {
  readonly kind = 'local' as const;

  private readonly dataDir: string;
  private readonly workDir: string;
  private readonly maxOutputBytes: number;
  private readonly logger: ExecutorLogger;
  private readonly repositories: RepositoryCache;
  private readonly etcView: EtcView;
  private readonly jobs = new Map<string, ActiveJob>();
  private bwrapPath: string;
  private shuttingDown = false;
  private readonly trash: Trash;

  /** Creates the data directory's `repos/` and `work/` folders; throws on invalid options. */
  constructor(options: LocalExecutorOptions) {
    checkOptions(options);
    mkdirSync(options.dataDir, { recursive: true });

    // The sandbox hides the data directory by its real path, which a symlink would not match.
    this.dataDir = realpathSync(options.dataDir);
    this.workDir = join(this.dataDir, 'work');
    const reposDir = join(this.dataDir, 'repos');
    mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
    mkdirSync(reposDir, { recursive: true, mode: 0o700 });

    this.maxOutputBytes = options.maxOutputBytes;
    this.logger = options.logger;
    const git = new GitProcessRunner(this.dataDir);
    this.repositories = new RepositoryCache(reposDir, git, options.repoRefreshSeconds, this.logger);
    this.bwrapPath = findExecutable('bwrap') ?? 'bwrap';
    this.trash = new Trash(join(this.dataDir, 'discarded'), this.logger);
    this.etcView = new EtcView(this.dataDir);
  }

  async checkReady(): Promise<void> {
    const problems = await findReadinessProblems();
    if (problems.length > 0) {
      throw new Error(`the local executor cannot run jobs: ${problems.join('; ')}`);
    }
    this.bwrapPath = findExecutable('bwrap') ?? this.bwrapPath;
    await this.trash.start();
  }

  async launch(job: JobLaunch, events: JobEventSink): Promise<void> {
    if (this.shuttingDown) {
      throw new Error(
        `job '${job.jobId}' was not started because the local executor is shutting down`,
      );
    }
    const invalidId = checkJobId(job.jobId);
    if (invalidId !== undefined) {
      throw new Error(invalidId);
    }
    if (this.jobs.has(job.jobId)) {
      throw new Error(`job '${job.jobId}' is already running on this executor`);
    }

    const active = createActiveJob(job, events, new JobWorkspace(this.workDir, job.jobId));
    this.jobs.set(job.jobId, active);

    const preparationFailure = await this.prepare(active);
    if (preparationFailure !== undefined || active.stop !== undefined) {
      await this.finishUnstarted(active, preparationFailure ?? 'stopped before it started');
      return;
    }
    await this.start(active);
  }

  async cancel(jobId: string): Promise<boolean> {
    const active = this.jobs.get(jobId);
    if (active === undefined || active.exited) {
      return false;
    }

    this.stopJob(active, { status: 'cancelled', reason: 'cancelled' });
    // A running sandbox ends at once, so the caller can read the final state. A job that is
    // still fetching its repository reports its end when the fetch returns.
    if (active.child !== undefined) {
      await active.finished;
    }
    return true;
  }

  async readLiveOutput(jobId: string): Promise<string | undefined> {
    const active = this.jobs.get(jobId);
    if (active === undefined) {
      return undefined;
    }
    if (active.child === undefined) {
      return '';
    }
    return (await this.readOutput(active.workspace.outputPath)).text;
  }

  followOutput(jobId: string, signal: AbortSignal): AsyncIterable<string> | undefined {
    const active = this.jobs.get(jobId);
    if (active === undefined) {
      return undefined;
    }
    return followOutputFile(
      active.workspace.outputPath,
      () => active.child !== undefined,
      () => active.exited || this.jobs.get(jobId) !== active,
      signal,
    );
  }

  async recoverUnfinished(jobs: UnfinishedJob[], events: JobEventSink): Promise<void> {
    let recovered = 0;
    for (const { jobId } of jobs) {
      if (this.jobs.has(jobId) || checkJobId(jobId) !== undefined) {
        continue;
      }

      // Output that a job wrote before the earlier process stopped is still worth keeping.
      const workspace = new JobWorkspace(this.workDir, jobId);
      const output = await this.readOutput(workspace.outputPath);
      const outcome: JobOutcome = {
        status: 'failed',
        exitCode: null,
        output: output.text,
        outputTruncated: output.truncated,
        reason: SERVER_STOPPED_REASON,
        completedAt: new Date(),
      };
      await this.report(jobId, 'jobEnded', () => events.jobEnded(jobId, outcome));
      recovered++;
    }

    await this.removeStaleWorkFolders();
    if (recovered > 0) {
      this.logger.log(
        `marked ${recovered} jobs left running by an earlier server process as failed`,
      );
    }
  }

  async forgetRunner(runnerName: string): Promise<void> {
    await this.repositories.forget(runnerName);
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const active = [...this.jobs.values()];
    for (const job of active) {
      this.stopJob(job, { status: 'failed', reason: SERVER_STOPPED_REASON });
    }

    const allFinished = Promise.allSettled(active.map((job) => job.finished)).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), SHUTDOWN_WAIT_MILLISECONDS);
    });
    const finished = await Promise.race([allFinished, timedOut]);
    clearTimeout(timer);
    await this.trash.flush();
    if (!finished) {
      const waiting = [...this.jobs.keys()].join(', ');
      this.logger.warn(
        `shutdown stopped waiting for jobs still fetching their repository: ${waiting}`,
      );
    }
  }

  /** Writes the secrets and the checkout; returns the failure reason, or undefined on success. */
  private async prepare(active: ActiveJob): Promise<string | undefined> {
    const { job, workspace } = active;
    const invalidSecrets = checkSecrets(job.secrets);
    if (invalidSecrets !== undefined) {
      return invalidSecrets;
    }

    try {
      await removeTree(workspace.dir);
      await workspace.create(job.secrets);
    } catch (error) {
      return `creating the work folder ${workspace.dir} failed: ${describe(error)}`;
    }

    try {
      const commit = await this.repositories.checkout(
        {
          runnerName: job.runnerName,
          gitUrl: job.gitUrl,
          branch: job.branch,
          gitToken: job.gitToken,
        },
        workspace.checkoutDir,
      );
      this.logger.debug?.(
        `job '${job.jobId}': checked out commit ${commit} of runner '${job.runnerName}'`,
      );
      return undefined;
    } catch (error) {
      return error instanceof CheckoutError ? error.message : `checkout failed: ${describe(error)}`;
    }
  }

  /** Spawns the sandbox, reports the start and arms the timeout; the exit is handled later. */
  private async start(active: ActiveJob): Promise<void> {
    const { job, workspace } = active;
    const args = buildSandboxArguments(
      {
        dataDir: this.dataDir,
        checkoutDir: workspace.checkoutDir,
        secretDir: workspace.secretDir,
        etcViewDir: this.etcView.path(),
      },
      job.command,
    );

    // The child gets its own copy of the descriptor during spawn, so ours is closed right after.
    const output = await open(workspace.outputPath, 'w', 0o600);
    let child: ChildProcess;
    try {
      child = spawnSandbox(this.bwrapPath, args, buildJobEnvironment(job), output.fd);
    } catch (error) {
      await output.close();
      await this.finishUnstarted(active, `starting the sandbox failed: ${describe(error)}`);
      return;
    }
    // Both listeners exist before the first await: Node emits 'spawn' on the next tick, and
    // a command that ends at once could emit 'exit' while the descriptor is being closed.
    const spawned = waitForSpawn(child);
    const exited = waitForExit(child);
    await output.close();

    const spawnError = await spawned;
    if (spawnError !== undefined) {
      await this.finishUnstarted(
        active,
        `starting ${this.bwrapPath} failed: ${spawnError.message}`,
      );
      return;
    }

    active.child = child;
    exited
      .then(({ code, signal }) => this.handleExit(active, code, signal))
      .catch((error: unknown) => {
        this.logger.error(
          `job '${job.jobId}': handling the sandbox exit failed: ${describe(error)}`,
        );
      });
    child.on('error', (error) => {
      this.logger.error(`job '${job.jobId}': sandbox process error: ${error.message}`);
    });

    this.armTimeout(active);
    if (active.stop !== undefined) {
      killSandbox(child);
    }

    const startedAt = new Date();
    this.logger.log(`job '${job.jobId}' of task '${job.taskName}' started (pid ${child.pid})`);
    active.startReported = this.report(job.jobId, 'jobStarted', () =>
      active.events.jobStarted(job.jobId, startedAt),
    );
    await active.startReported;
  }

  private armTimeout(active: ActiveJob): void {
    const seconds = active.job.timeoutSeconds;
    if (!(seconds > 0)) {
      return;
    }

    const delay = Math.min(seconds * 1000, MAX_TIMER_MILLISECONDS);
    active.timer = setTimeout(() => {
      this.stopJob(active, { status: 'failed', reason: `timed out after ${seconds} s` });
    }, delay);
  }

  /** Records why the job ends and kills its sandbox; does nothing once the job has exited. */
  private stopJob(active: ActiveJob, stop: JobStop): void {
    const child = active.child;
    const exited = active.exited || child?.exitCode != null || child?.signalCode != null;
    if (exited || active.stop !== undefined) {
      return;
    }

    active.stop = stop;
    this.logger.log(`job '${active.job.jobId}': stopping, ${stop.reason}`);
    if (child !== undefined) {
      killSandbox(child);
    }
  }

  private async handleExit(
    active: ActiveJob,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): Promise<void> {
    active.exited = true;
    clearTimeout(active.timer);

    const completedAt = new Date();
    const output = await this.readOutput(active.workspace.outputPath);
    const outcome: JobOutcome = {
      status: 'failed',
      exitCode: code,
      output: output.text,
      outputTruncated: output.truncated,
      completedAt,
    };

    if (active.stop !== undefined) {
      outcome.status = active.stop.status;
      outcome.reason = active.stop.reason;
    } else if (code === 0) {
      outcome.status = 'succeeded';
    } else if (signal !== null) {
      outcome.reason = `the sandbox was killed by signal ${signal}`;
    }
    await this.finish(active, outcome);
  }

  /** Ends a job whose sandbox never ran; a cancellation during preparation wins over reason. */
  private async finishUnstarted(active: ActiveJob, reason: string): Promise<void> {
    const stop: JobStop = active.stop ?? { status: 'failed', reason };
    await this.finish(active, {
      status: stop.status,
      exitCode: null,
      output: '',
      outputTruncated: false,
      reason: stop.reason,
      completedAt: new Date(),
    });
  }

  /** Reports the end once, after the start report, then drops the job and removes its folder. */
  private async finish(active: ActiveJob, outcome: JobOutcome): Promise<void> {
    const jobId = active.job.jobId;
    await active.startReported;
    await this.report(jobId, 'jobEnded', () => active.events.jobEnded(jobId, outcome));

    const exitCode = outcome.exitCode === null ? '' : ` with exit code ${outcome.exitCode}`;
    const reason = outcome.reason === undefined ? '' : `: ${outcome.reason}`;
    const message = `job '${jobId}' ${outcome.status}${exitCode}${reason}`;
    if (outcome.status === 'succeeded') {
      this.logger.log(message);
    } else {
      this.logger.warn(message);
    }

    this.jobs.delete(jobId);
    try {
      await this.trash.discard(active.workspace.dir, jobId);
    } catch (error) {
      this.logger.warn(
        `job '${jobId}': removing work folder ${active.workspace.dir} failed: ${describe(error)}`,
      );
    }
    active.markFinished();
  }

  /** Reads a job's output file, capped; a missing file reads as empty output. */
  private async readOutput(path: string): Promise<{ text: string; truncated: boolean }> {
    try {
      const captured = await readCapturedOutputFile(path, this.maxOutputBytes);
      return { text: captured.text, truncated: captured.truncated };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error(`reading job output ${path} failed: ${describe(error)}`);
      }
      return { text: '', truncated: false };
    }
  }

  /** Calls the event sink; a failure is logged, because the job itself went on regardless. */
  private async report(jobId: string, event: string, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.logger.error(`job '${jobId}': reporting ${event} failed: ${describe(error)}`);
    }
  }

  private async removeStaleWorkFolders(): Promise<void> {
    const names = await readdir(this.workDir).catch(() => [] as string[]);
    for (const name of names) {
      if (this.jobs.has(name)) {
        continue;
      }
      try {
        await removeTree(join(this.workDir, name));
      } catch (error) {
        this.logger.warn(
          `removing stale work folder ${join(this.workDir, name)} failed: ${describe(error)}`,
        );
      }
    }
  }
}

function createActiveJob(job: JobLaunch, events: JobEventSink, workspace: JobWorkspace): ActiveJob {
  let markFinished!: () => void;
  const finished = new Promise<void>((resolve) => {
    markFinished = resolve;
  });
  return { job, events, workspace, exited: false, finished, markFinished };
}

/** Resolves with the exit code or the signal that ended the child. */
function waitForExit(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Resolves when the child has started, or with the error that kept it from starting. */
function waitForSpawn(child: ChildProcess): Promise<Error | undefined> {
  return new Promise((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (error) => resolve(error));
  });
}

function checkOptions(options: LocalExecutorOptions): void {
  if (!isAbsolute(options.dataDir)) {
    throw new Error(`data directory '${options.dataDir}' is not an absolute path`);
  }
  if (!Number.isSafeInteger(options.maxOutputBytes) || options.maxOutputBytes < 0) {
    throw new Error(
      `maxOutputBytes ${options.maxOutputBytes} is invalid: use a whole number of bytes, 0 or more`,
    );
  }
  if (!Number.isFinite(options.repoRefreshSeconds) || options.repoRefreshSeconds < 0) {
    throw new Error(
      `repoRefreshSeconds ${options.repoRefreshSeconds} is invalid: use a number of seconds, 0 or more`,
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
