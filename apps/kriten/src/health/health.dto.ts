import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { CheckStatus } from './readiness-probe';

/** Response body of the liveness endpoint. */
export class LivenessDto {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}

/** The outcome of one readiness check. */
export class CheckResultDto {
  @ApiProperty({ enum: ['database', 'executor'], example: 'database' })
  name: string;

  @ApiProperty({ enum: ['ok', 'failed'] })
  status: CheckStatus;

  @ApiPropertyOptional({
    description: 'Reason for the failure. The cause itself is in the server log',
    example: 'timed out after 3000 ms',
  })
  message?: string;
}

/** Response body of the readiness endpoint. */
export class ReadinessDto {
  @ApiProperty({ enum: ['ready', 'not ready'] })
  status: 'ready' | 'not ready';

  @ApiProperty({ type: [CheckResultDto] })
  checks: CheckResultDto[];
}
