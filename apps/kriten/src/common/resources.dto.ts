import { ApiPropertyOptional } from '@nestjs/swagger';
import { QUANTITY } from './resources';

/** CPU and memory amounts, each a Kubernetes quantity. */
export class ResourceListDto {
  /** CPU cores, such as `500m` (half a core) or `2`. */
  @ApiPropertyOptional({ pattern: QUANTITY.source, example: '500m' })
  cpu?: string;

  /** Memory in bytes, such as `256Mi` or `1G`. */
  @ApiPropertyOptional({ pattern: QUANTITY.source, example: '256Mi' })
  memory?: string;
}

/**
 * CPU and memory requests and limits of a job's container. Only the kubernetes executor
 * applies them; the local executor ignores them.
 */
export class ResourceRequirementsDto {
  /** Amounts the job is guaranteed; the scheduler places its pod where they are free. */
  requests?: ResourceListDto;

  /** Amounts the job may not exceed: CPU is throttled, and memory above the limit kills the job. */
  limits?: ResourceListDto;
}
