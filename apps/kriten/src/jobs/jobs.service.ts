import { Inject, Injectable, Logger } from '@nestjs/common';
import { JOB_EXECUTOR, JobExecutor } from '@kriten/executor';
import { randomInt } from 'node:crypto';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { ALL_IDS, IdScope } from '../auth/permission-set';
import { DomainError, notFound } from '../common/domain-error';
import { isDuplicateKeyError } from '../common/database-errors';
import { DEFAULT_PAGE_SIZE } from '../common/pagination';
import { describeSchemaErrors } from '../tasks/input-schema';
import { DEFAULT_SYNC_TIMEOUT_SECONDS, TasksService } from '../tasks/tasks.service';
import { JobCreatedDto, JobSummaryDto, ListJobsQueryDto } from './job.dto';
import { JobEntity } from './job.entity';
import { serializeJob, toJobSummary } from './job-mapper';
import { JobDispatcher } from './job-dispatcher';
import { JobsRepository } from './jobs.repository';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** How often a followed job that has not reached the executor yet is checked again, in milliseconds. */
const FOLLOW_CHECK_INTERVAL_MS = 100;

/** How long a followed job that was claimed but not launched yet is waited for, in milliseconds. */
const LAUNCH_WAIT_MS = 10_000;

/** How long a followed job that the executor no longer runs is waited for to be recorded, in milliseconds. */
const END_WAIT_MS = 2_000;

/** The result of a launch: the finished job as JSON text, or the id of a job still running. */
export type LaunchResult = { finishedJob: string } | { accepted: JobCreatedDto };

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly jobs: JobsRepository,
    private readonly tasks: TasksService,
    private readonly dispatcher: JobDispatcher,
    @Inject(JOB_EXECUTOR) private readonly executor: JobExecutor,
  ) {}

  /** Queues a job; a synchronous task waits for it up to the task's sync timeout. */
  async launch(
    taskName: string,
    body: unknown,
    rawBody: string | undefined,
    caller: AuthenticatedUser,
  ): Promise<LaunchResult> {
    const task = await this.tasks.load(taskName);
    if (
      rawBody !== undefined &&
      (body === null || typeof body !== 'object' || Array.isArray(body))
    ) {
      throw new DomainError('invalid_input', 'request body must be a JSON object (or empty)');
    }
    if (task.schema !== null) {
      const validate = this.tasks.schemas.compileStored(task.schema);
      if (!validate(body ?? {})) {
        const problems = describeSchemaErrors(validate.errors);
        throw new DomainError(
          'schema_rejected',
          `input rejected by the schema of task '${task.name}': ${problems.join('; ')}`,
          problems,
        );
      }
    }

    const job = await this.insertQueued(task.name, task.runner, rawBody, caller);
    const ended = task.synchronous
      ? this.dispatcher.waiters.wait(
          job.id,
          (task.syncTimeoutSeconds ?? DEFAULT_SYNC_TIMEOUT_SECONDS) * 1000,
        )
      : undefined;
    this.dispatcher.wake();
    this.logger.log(`job '${job.id}' of task '${task.name}' queued by '${caller.username}'`);

    if (ended && (await ended)) {
      return { finishedJob: await this.getSerialized(job.id) };
    }
    const msg = ended
      ? `job ${job.id} is still running: read it at GET /api/v1/jobs/${job.id}`
      : `job ${job.id} created`;
    return { accepted: { id: job.id, msg } };
  }

  /** Lists jobs of the tasks in the scope: permissions on jobs name tasks. */
  async list(
    query: ListJobsQueryDto,
    scope: IdScope,
  ): Promise<{ jobs: JobSummaryDto[]; total: number }> {
    const [jobs, total] = await this.jobs.list({
      tasks: scope === ALL_IDS ? undefined : scope,
      task: query.task,
      status: query.status,
      owner: query.owner,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      offset: query.offset ?? 0,
    });
    return { jobs: jobs.map(toJobSummary), total };
  }

  /** Returns the job as JSON text, with its result exactly as the job printed it. */
  async getSerialized(id: string): Promise<string> {
    const job = await this.load(id);
    const output = this.jobs.isFinished(job.status) ? await this.jobs.findOutput(id) : null;
    return serializeJob(job, output);
  }

  /** Returns the combined output: what was stored for a finished job, what is printed so far otherwise. */
  async getLog(id: string): Promise<string> {
    const job = await this.load(id);
    if (this.jobs.isFinished(job.status)) {
      return (await this.jobs.findOutput(id))?.output ?? '';
    }
    return (await this.executor.readLiveOutput(id)) ?? '';
  }

  /**
   * Returns a job's output as it is printed, until the job ends: the stored output at once for
   * a finished job, else a stream from the executor. A queued job is waited for until it
   * starts. When the executor cannot follow the job, the output so far is returned.
   */
  async followLog(id: string, signal: AbortSignal): Promise<string | AsyncIterable<string>> {
    /** Since when the executor has not had the job, and whether the job had started then. */
    let missing: { since: number; started: boolean } | undefined;
    for (;;) {
      const job = await this.load(id);
      if (this.jobs.isFinished(job.status)) {
        return (await this.jobs.findOutput(id))?.output ?? '';
      }
      if (job.status === 'running') {
        const stream = this.executor.followOutput(id, signal);
        if (stream !== undefined) {
          return this.completeFromDatabase(id, stream, signal);
        }
        // The executor does not have the job yet, because a claimed job reaches it once its
        // launch is built, or no longer, because its end is still being recorded.
        const started = job.startTime !== null;
        if (missing === undefined || missing.started !== started) {
          missing = { since: Date.now(), started };
        }
        if (Date.now() - missing.since > (started ? END_WAIT_MS : LAUNCH_WAIT_MS)) {
          return this.getLog(id);
        }
      }
      if (signal.aborted) {
        return '';
      }
      await pause(FOLLOW_CHECK_INTERVAL_MS, signal);
    }
  }

  /**
   * Passes a followed stream on, then adds what it missed from the stored output. A stream can
   * miss the end, for example when a job ends and its output file is removed before the
   * follower reads it. A truncated stored output is left alone, because it is not a
   * continuation of the stream.
   */
  private async *completeFromDatabase(
    id: string,
    stream: AsyncIterable<string>,
    signal: AbortSignal,
  ): AsyncGenerator<string> {
    let streamedLength = 0;
    for await (const chunk of stream) {
      streamedLength += chunk.length;
      yield chunk;
    }

    const deadline = Date.now() + END_WAIT_MS;
    while (!signal.aborted && Date.now() < deadline) {
      const job = await this.load(id);
      if (this.jobs.isFinished(job.status)) {
        const stored = await this.jobs.findOutput(id);
        if (stored !== null && !stored.truncated && stored.output.length > streamedLength) {
          yield stored.output.slice(streamedLength);
        }
        return;
      }
      await pause(FOLLOW_CHECK_INTERVAL_MS, signal);
    }
  }

  async getSchema(taskName: string): Promise<Record<string, unknown>> {
    return (await this.tasks.getSchema(taskName)) ?? {};
  }

  /** Cancels a queued or running job. */
  async cancel(id: string): Promise<JobCreatedDto> {
    const job = await this.load(id);
    if (this.jobs.isFinished(job.status)) {
      throw new DomainError(
        'conflict',
        `job ${id} already ended with status ${job.status}: nothing to cancel`,
      );
    }

    if (job.status === 'queued' && (await this.jobs.cancelQueued(id, new Date()))) {
      this.dispatcher.waiters.notifyEnded(id);
      this.logger.log(`job '${id}' cancelled while queued`);
      return { id, msg: `job ${id} cancelled` };
    }
    if (!(await this.dispatcher.cancelRunning(id))) {
      throw new DomainError(
        'conflict',
        `job ${id} is not running on this server and cannot be cancelled here`,
      );
    }
    this.logger.log(`job '${id}' cancelled while running`);
    return { id, msg: `job ${id} cancelled` };
  }

  private async load(id: string): Promise<JobEntity> {
    const job = await this.jobs.findById(id);
    if (!job) {
      throw notFound('job', id);
    }
    return job;
  }

  private async insertQueued(
    task: string,
    runner: string,
    rawBody: string | undefined,
    caller: AuthenticatedUser,
  ): Promise<JobEntity> {
    for (let attempt = 0; ; attempt++) {
      const job = Object.assign(new JobEntity(), {
        id: `${task}-${randomSuffix()}`,
        task,
        runner,
        owner: caller.username,
        ownerProvider: caller.provider,
        status: 'queued' as const,
        createdAt: new Date(),
        startTime: null,
        completionTime: null,
        exitCode: null,
        reason: null,
        extraVars: rawBody ?? null,
      });
      try {
        await this.jobs.insert(job);
        return job;
      } catch (error) {
        // 36^5 ids per task: a collision is rare, and a few fresh draws settle it.
        if (!isDuplicateKeyError(error) || attempt >= 5) {
          throw error;
        }
      }
    }
  }
}

function pause(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, milliseconds);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function randomSuffix(): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) {
    suffix += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  }
  return suffix;
}
