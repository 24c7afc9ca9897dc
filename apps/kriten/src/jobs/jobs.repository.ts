import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository } from 'typeorm';
import {
  FINISHED_JOB_STATUSES,
  JobEntity,
  JobOutputEntity,
  JobStatus,
  REASON_MAX_LENGTH,
} from './job.entity';

const UNFINISHED: JobStatus[] = ['queued', 'running'];

export interface JobFilter {
  /** Only jobs of these tasks, when given: the ones the caller may read. */
  tasks?: string[];
  task?: string;
  status?: JobStatus;
  owner?: string;
  limit: number;
  offset: number;
}

export interface JobEnd {
  status: JobStatus;
  exitCode: number | null;
  reason: string | null;
  completionTime: Date;
  output: string;
  truncated: boolean;
  jsonData: string | null;
  jsonError: string | null;
}

/** Reads and writes job rows; every state change applies only to a job that is not finished yet. */
@Injectable()
export class JobsRepository {
  constructor(
    @InjectRepository(JobEntity) private readonly jobs: Repository<JobEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  insert(job: JobEntity): Promise<unknown> {
    return this.jobs.insert(job);
  }

  findById(id: string): Promise<JobEntity | null> {
    return this.jobs.findOneBy({ id });
  }

  findOutput(id: string): Promise<JobOutputEntity | null> {
    return this.dataSource.getRepository(JobOutputEntity).findOneBy({ jobId: id });
  }

  /** Returns the task a job belongs to, or undefined when the job does not exist. */
  async findTaskOfJob(id: string): Promise<string | undefined> {
    const job = await this.jobs.findOne({ where: { id }, select: { task: true } });
    return job?.task;
  }

  async list(filter: JobFilter): Promise<[JobEntity[], number]> {
    const tasks =
      filter.tasks && filter.task !== undefined
        ? filter.tasks.filter((task) => task === filter.task)
        : filter.tasks;
    if (tasks?.length === 0) {
      return [[], 0];
    }
    const where = {
      ...(filter.task !== undefined && { task: filter.task }),
      ...(tasks !== undefined && { task: In(tasks) }),
      ...(filter.status !== undefined && { status: filter.status }),
      ...(filter.owner !== undefined && { owner: filter.owner }),
    };
    // Not findAndCount: with a select, TypeORM 1.1.3 counts distinct combinations of the selected
    // columns, so a row with NULL in any of them, such as a queued job's start_time, is not counted.
    return Promise.all([
      this.jobs.find({
        where,
        select: {
          extraVars: false,
          id: true,
          task: true,
          runner: true,
          owner: true,
          ownerProvider: true,
          status: true,
          createdAt: true,
          startTime: true,
          completionTime: true,
          exitCode: true,
          reason: true,
        },
        order: { createdAt: 'DESC', id: 'DESC' },
        take: filter.limit,
        skip: filter.offset,
      }),
      this.jobs.count({ where }),
    ]);
  }

  /** Returns the ids of the oldest queued jobs. */
  async nextQueued(count: number): Promise<string[]> {
    const rows = await this.jobs.find({
      where: { status: 'queued' },
      select: { id: true },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: count,
    });
    return rows.map((row) => row.id);
  }

  /** Moves a queued job to running; false when another caller got there first. */
  async claim(id: string): Promise<boolean> {
    const result = await this.jobs.update({ id, status: 'queued' }, { status: 'running' });
    return result.affected === 1;
  }

  async markStarted(id: string, startTime: Date): Promise<void> {
    await this.jobs.update({ id, status: In(UNFINISHED) }, { status: 'running', startTime });
  }

  /** Cancels a job still waiting in the queue; false when it is no longer queued. */
  async cancelQueued(id: string, completionTime: Date): Promise<boolean> {
    const result = await this.jobs.update(
      { id, status: 'queued' },
      { status: 'cancelled', reason: 'cancelled before it started', completionTime },
    );
    return result.affected === 1;
  }

  /** Records how a job ended; false when it had already ended, so a terminal state is never overwritten. */
  async finish(id: string, end: JobEnd): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const result = await manager.getRepository(JobEntity).update(
        { id, status: In(UNFINISHED) },
        {
          status: end.status,
          exitCode: end.exitCode,
          reason: fitReason(end.reason),
          completionTime: end.completionTime,
        },
      );
      if (result.affected !== 1) {
        return false;
      }
      await manager.getRepository(JobOutputEntity).insert({
        jobId: id,
        output: end.output,
        truncated: end.truncated,
        jsonData: end.jsonData,
        jsonError: end.jsonError,
      });
      return true;
    });
  }

  /** Returns the jobs recorded as running, for recovery at start. */
  findRunning(): Promise<JobEntity[]> {
    return this.jobs.find({ where: { status: 'running' }, select: { id: true, startTime: true } });
  }

  isFinished(status: JobStatus): boolean {
    return FINISHED_JOB_STATUSES.includes(status);
  }
}

/**
 * Shortens a reason to the column length. MySQL in strict mode rejects a longer value, which
 * would leave the job running forever; a failed checkout's reason quotes git's error output.
 */
function fitReason(reason: string | null): string | null {
  if (reason === null || reason.length <= REASON_MAX_LENGTH) {
    return reason;
  }
  return `${reason.slice(0, REASON_MAX_LENGTH - 1)}…`;
}
