import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { JOB_EXECUTOR, JobEventSink, JobExecutor, JobLaunch, JobOutcome } from '@kriten/executor';
import { parseJsonResult } from '@kriten/results';
import { KritenConfig } from '../config/kriten-config';
import { effectiveResources, parseResources } from '../common/resources';
import { RunnersService } from '../runners/runners.service';
import { SecretsService } from '../secrets/secrets.service';
import { mergeRunnerAndTaskSecrets } from '../secrets/secret-merge';
import { DEFAULT_TIMEOUT_SECONDS } from '../tasks/tasks.service';
import { TaskEntity } from '../tasks/task.entity';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { JobEntity } from './job.entity';
import { JobWaiters } from './job-waiters';
import { JobsRepository } from './jobs.repository';

/**
 * Runs queued jobs, at most KRITEN_MAX_CONCURRENT_JOBS at once, and records what the executor
 * reports. Queued jobs live only in the database, so a restart loses none.
 */
@Injectable()
export class JobDispatcher implements JobEventSink, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobDispatcher.name);
  private readonly active = new Set<string>();
  private readonly cancelRequested = new Set<string>();
  private draining: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = false;

  constructor(
    private readonly jobs: JobsRepository,
    @InjectRepository(TaskEntity) private readonly tasks: Repository<TaskEntity>,
    private readonly runners: RunnersService,
    private readonly secrets: SecretsService,
    private readonly config: KritenConfig,
    readonly waiters: JobWaiters,
    @Inject(JOB_EXECUTOR) private readonly executor: JobExecutor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const running = await this.jobs.findRunning();
    if (running.length > 0) {
      this.logger.warn(
        `${running.length} job(s) were running when the server last stopped; settling them`,
      );
    }
    // Called even with no jobs: it also hands the executor this sink, which records the end of
    // a job that another replica launched and that this one cancels.
    await this.executor.recoverUnfinished(
      running.map((job) => ({ jobId: job.id, startedAt: job.startTime })),
      this,
    );
    this.wake();
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.stopped = true;
    this.logger.log(
      `shutting down${signal ? ` on ${signal}` : ''}: stopping ${this.active.size} running job(s); queued jobs stay queued for the next start`,
    );
    await this.executor.shutdown();
  }

  /** Starts queued jobs while slots are free; calls made while draining trigger one more pass. */
  wake(): void {
    if (this.draining) {
      this.wakeAgain = true;
      return;
    }
    this.draining = this.drain()
      .catch((error: Error) =>
        this.logger.error(`starting queued jobs failed: ${error.stack ?? error.message}`),
      )
      .finally(() => {
        this.draining = undefined;
        if (this.wakeAgain) {
          this.wakeAgain = false;
          this.wake();
        }
      });
  }

  /**
   * Cancels a running job. A job that this process launched is always cancelled, even while
   * its launch is still in progress. Any other job is cancelled only if the executor can reach
   * it, as the kubernetes executor can reach a Job that another replica created. Returns false
   * when the job cannot be cancelled from here.
   */
  async cancelRunning(jobId: string): Promise<boolean> {
    const launchedHere = this.active.has(jobId);
    if (launchedHere) {
      this.cancelRequested.add(jobId);
    }
    const cancelled = await this.executor.cancel(jobId);
    return launchedHere || cancelled;
  }

  async isUnfinished(jobId: string): Promise<boolean> {
    const job = await this.jobs.findById(jobId);
    return job !== null && !this.jobs.isFinished(job.status);
  }

  async jobStarted(jobId: string, startedAt: Date): Promise<void> {
    await this.jobs.markStarted(jobId, startedAt);
    this.logger.debug(`job '${jobId}' recorded as started`);
  }

  async jobEnded(jobId: string, outcome: JobOutcome): Promise<void> {
    const result = parseJsonResult(outcome.output);
    let recorded: boolean;
    try {
      recorded = await this.jobs.finish(jobId, {
        status: outcome.status,
        exitCode: outcome.exitCode,
        reason: outcome.reason ?? null,
        completionTime: outcome.completedAt,
        output: outcome.output,
        truncated: outcome.outputTruncated,
        jsonData: result.jsonText,
        jsonError: result.jsonError,
      });
    } finally {
      // The process has ended even when the write fails, so free its slot and release any waiting launch.
      this.active.delete(jobId);
      this.cancelRequested.delete(jobId);
      this.waiters.notifyEnded(jobId);
      this.wake();
    }

    if (recorded) {
      const detail = outcome.reason ? `: ${outcome.reason}` : '';
      this.logger.debug(
        `job ${jobId} recorded as ${outcome.status} with exit code ${outcome.exitCode ?? 'none'}${detail}`,
      );
    }
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const free = this.config.maxConcurrentJobs - this.active.size;
      if (free <= 0) {
        return;
      }
      const ids = await this.jobs.nextQueued(free);
      if (ids.length === 0) {
        return;
      }
      for (const id of ids) {
        if (await this.jobs.claim(id)) {
          this.active.add(id);
          this.launch(id).catch((error: Error) =>
            this.logger.error(
              `job ${id} could not be recorded as failed: ${error.stack ?? error.message}`,
            ),
          );
        }
      }
    }
  }

  private async launch(jobId: string): Promise<void> {
    try {
      const launch = await this.buildLaunch(jobId);
      if (typeof launch === 'string') {
        await this.jobEnded(jobId, failure(launch));
        return;
      }
      await this.executor.launch(launch, this);
      if (this.cancelRequested.has(jobId)) {
        await this.executor.cancel(jobId);
      }
    } catch (error) {
      this.logger.error(
        `job ${jobId} could not be launched: ${(error as Error).stack ?? String(error)}`,
      );
      await this.jobEnded(jobId, failure(`launch failed: ${(error as Error).message}`));
    }
  }

  /** Gathers what the executor needs; returns a failure reason when the task or runner is gone. */
  private async buildLaunch(jobId: string): Promise<JobLaunch | string> {
    const job = (await this.jobs.findById(jobId)) as JobEntity;
    const task = await this.tasks.findOneBy({ name: job.task });
    if (!task) {
      return `task '${job.task}' was deleted before the job started`;
    }
    const runner = await this.runners.load(task.runner).catch(() => undefined);
    if (!runner) {
      return `runner '${task.runner}' was deleted before the job started`;
    }

    const secrets = await this.secrets.readForLaunch(runner.name, task.name);
    return {
      jobId,
      taskName: task.name,
      runnerName: runner.name,
      owner: job.owner,
      command: task.command,
      gitUrl: runner.gitUrl,
      branch: runner.branch,
      image: runner.image,
      gitToken: secrets.gitToken,
      // Empty when the values live in Kubernetes Secrets: the executor then projects them by key.
      secrets: mergeRunnerAndTaskSecrets(secrets.runnerValues ?? {}, secrets.taskValues ?? {}),
      secretKeys: {
        runner: secrets.runnerKeys,
        task: secrets.taskKeys,
        gitToken: secrets.hasGitToken,
      },
      resources: effectiveResources(
        parseResources(runner.resources),
        parseResources(task.resources),
      ),
      extraVars: job.extraVars ?? undefined,
      timeoutSeconds: task.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    };
  }
}

function failure(reason: string): JobOutcome {
  return {
    status: 'failed',
    exitCode: null,
    output: '',
    outputTruncated: false,
    reason,
    completedAt: new Date(),
  };
}
