import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { PageQueryDto } from '../common/pagination';
import type { JobStatus } from './job.entity';

const STATUSES: JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export class ListJobsQueryDto extends PageQueryDto {
  /** Only jobs of this task. */
  @IsOptional()
  @IsString()
  task?: string;

  @IsOptional()
  @IsIn(STATUSES)
  @ApiPropertyOptional({ enum: STATUSES })
  status?: JobStatus;

  /** Only jobs started by this user. */
  @IsOptional()
  @IsString()
  owner?: string;
}

/** Query of `GET /jobs/{id}/log`. */
export class JobLogQueryDto {
  /** `true` streams the output while the job runs and ends when the job ends. */
  @IsOptional()
  @IsIn(['true', 'false'], { message: "follow must be 'true' or 'false'" })
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false' })
  follow?: 'true' | 'false';
}

/** A job as listed: its state without its output. */
export class JobSummaryDto {
  id: string;
  task: string;
  runner: string;
  owner: string;
  @ApiProperty({ enum: STATUSES })
  status: JobStatus;
  /** When the job was accepted (RFC 3339). */
  created_time: string;
  /** When its process started (RFC 3339); null while queued. */
  @ApiProperty({ type: String, nullable: true })
  start_time: string | null;
  @ApiProperty({ type: String, nullable: true })
  completion_time: string | null;
  /** 1 when the job failed or was cancelled, as Kriten counts failed pods. */
  failed: number;
  /** 1 when the job succeeded. */
  completed: number;
  @ApiProperty({ type: Number, nullable: true })
  exit_code: number | null;
  /** The cause of a failure or cancellation that the exit code alone does not show. */
  @ApiProperty({ type: String, nullable: true })
  reason: string | null;
}

/** A job with its output and result. */
export class JobDto extends JobSummaryDto {
  /** Combined stdout and stderr; empty until the job ends. */
  stdout: string;
  /** True when the output exceeded the stored maximum and its middle was left out. */
  stdout_truncated: boolean;
  /** Problem with the text between the ^JSON markers, if it was not valid JSON. */
  @ApiProperty({ type: String, nullable: true })
  json_error: string | null;
  /** The JSON the job printed between two lines `^JSON`, exactly as printed; null without markers. */
  @ApiProperty({ nullable: true, description: 'Any JSON value' })
  json_data: unknown;
}

/** Returned by a launch that does not wait for the job. */
export class JobCreatedDto {
  id: string;
  msg: string;
}
