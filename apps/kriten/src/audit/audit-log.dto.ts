import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../common/pagination';
import { AUDIT_OUTCOMES, AuditOutcome } from './audit-log.entity';

const ACTIONS = ['login', 'create', 'update', 'delete', 'start', 'cancel', 'read'];
const RFC_3339 = { strict: true, strictSeparator: true };
const RFC_3339_MESSAGE = '$property must be an RFC 3339 time, such as 2026-01-31T12:00:00Z';

export class ListAuditLogsQueryDto extends PageQueryDto {
  /** Only records of this username. */
  @IsOptional()
  @IsString()
  @MaxLength(255)
  user?: string;

  @IsOptional()
  @IsIn(ACTIONS)
  @ApiPropertyOptional({ enum: ACTIONS })
  action?: string;

  /** Only records of this resource, such as `runners` or `secrets`. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  resource?: string;

  @IsOptional()
  @IsString()
  @MaxLength(255)
  resource_id?: string;

  @IsOptional()
  @IsIn(AUDIT_OUTCOMES)
  @ApiPropertyOptional({ enum: AUDIT_OUTCOMES })
  outcome?: AuditOutcome;

  /** Only records at or after this time (RFC 3339, such as 2026-01-31T12:00:00Z). */
  @IsOptional()
  @IsISO8601(RFC_3339, { message: RFC_3339_MESSAGE })
  since?: string;

  /** Only records before this time (RFC 3339). */
  @IsOptional()
  @IsISO8601(RFC_3339, { message: RFC_3339_MESSAGE })
  until?: string;
}

/** One audit record. */
export class AuditLogDto {
  id: number;
  /** RFC 3339. */
  time: string;
  @ApiProperty({ type: String, nullable: true })
  user: string | null;
  @ApiProperty({ type: String, nullable: true })
  provider: string | null;
  @ApiProperty({ enum: ACTIONS })
  action: string;
  resource: string;
  @ApiProperty({ type: String, nullable: true })
  resource_id: string | null;
  @ApiProperty({ enum: AUDIT_OUTCOMES })
  outcome: AuditOutcome;
  status_code: number;
  /** The error message of a failed or denied request; null on success. */
  @ApiProperty({ type: String, nullable: true })
  reason: string | null;
  method: string;
  path: string;
  @ApiProperty({ type: String, nullable: true })
  client_address: string | null;
  request_id: string;
}
