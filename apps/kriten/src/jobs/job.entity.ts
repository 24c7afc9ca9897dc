import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const FINISHED_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Length of the `reason` column, in characters. */
export const REASON_MAX_LENGTH = 1024;

@Entity('jobs')
@Index('idx_jobs_created', ['createdAt'])
@Index('idx_jobs_task_created', ['task', 'createdAt'])
@Index('idx_jobs_owner_created', ['owner', 'createdAt'])
@Index('idx_jobs_status_created', ['status', 'createdAt'])
export class JobEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  id: string;

  @Column({ type: 'varchar', length: 63 })
  task: string;

  @Column({ type: 'varchar', length: 63 })
  runner: string;

  @Column({ type: 'varchar', length: 255 })
  owner: string;

  @Column({ name: 'owner_provider', type: 'varchar', length: 32 })
  ownerProvider: string;

  @Column({ type: 'varchar', length: 16 })
  status: JobStatus;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'start_time', type: 'datetime', precision: 3, nullable: true })
  startTime: Date | null;

  @Column({ name: 'completion_time', type: 'datetime', precision: 3, nullable: true })
  completionTime: Date | null;

  @Column({ name: 'exit_code', type: 'int', nullable: true })
  exitCode: number | null;

  /** The cause of a failure or cancellation that the exit code alone does not show. */
  @Column({ type: 'varchar', length: REASON_MAX_LENGTH, nullable: true })
  reason: string | null;

  /** The request body as JSON text; kept until the job has started. */
  @Column({ name: 'extra_vars', type: 'text', nullable: true })
  extraVars: string | null;
}

/** A finished job's output, apart from the job row so that listing stays light. */
@Entity('job_outputs')
export class JobOutputEntity {
  @PrimaryColumn({ name: 'job_id', type: 'varchar', length: 63 })
  jobId: string;

  @Column({ type: 'text' })
  output: string;

  @Column({ type: 'boolean', default: false })
  truncated: boolean;

  /** The JSON text between the `^JSON` markers, exactly as the job printed it. */
  @Column({ name: 'json_data', type: 'text', nullable: true })
  jsonData: string | null;

  @Column({ name: 'json_error', type: 'varchar', length: 1024, nullable: true })
  jsonError: string | null;
}
