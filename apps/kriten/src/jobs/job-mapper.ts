import type { JobOutputEntity, JobEntity } from './job.entity';
import type { JobDto, JobSummaryDto } from './job.dto';

export function toJobSummary(job: JobEntity): JobSummaryDto {
  return {
    id: job.id,
    task: job.task,
    runner: job.runner,
    owner: job.owner,
    status: job.status,
    created_time: job.createdAt.toISOString(),
    start_time: job.startTime?.toISOString() ?? null,
    completion_time: job.completionTime?.toISOString() ?? null,
    failed: job.status === 'failed' || job.status === 'cancelled' ? 1 : 0,
    completed: job.status === 'succeeded' ? 1 : 0,
    exit_code: job.exitCode,
    reason: job.reason,
  };
}

/**
 * Serializes a job with `json_data` spliced in as the exact text the job printed, so that
 * numbers, key order and escapes reach the client unchanged. The text was checked with JSON.parse.
 */
export function serializeJob(job: JobEntity, output: JobOutputEntity | null): string {
  const fields: Omit<JobDto, 'json_data'> = {
    ...toJobSummary(job),
    stdout: output?.output ?? '',
    stdout_truncated: output?.truncated ?? false,
    json_error: output?.jsonError ?? null,
  };
  const json = JSON.stringify(fields);
  return `${json.slice(0, -1)},"json_data":${output?.jsonData ?? 'null'}}`;
}
