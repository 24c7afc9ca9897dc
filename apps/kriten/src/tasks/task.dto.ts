import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ResourceRequirementsDto } from '../common/resources.dto';
import { IsResourceName, IsResourceRequirements } from '../common/validators';

export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;
export const MAX_SYNC_TIMEOUT_SECONDS = 3600;

export class CreateTaskDto {
  /** Task name: lowercase letters, digits and '-', at most 57 characters. */
  @IsResourceName()
  name: string;

  /** Name of an existing runner. */
  @IsString()
  @MinLength(1)
  runner: string;

  /** Shell command run as `sh -c <command>` in the checkout. */
  @IsString()
  @MinLength(1)
  @MaxLength(65_536)
  command: string;

  /** When true a launch waits for the job and returns it. */
  @IsOptional()
  @IsBoolean()
  synchronous?: boolean;

  /** OpenAPI 3 schema object that launch bodies must match. */
  @IsOptional()
  @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  schema?: Record<string, unknown>;

  /** Task secrets; on a key present in both, the task's value wins over the runner's. Write-only. */
  @IsOptional()
  @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  secret?: Record<string, string>;

  /** How long a synchronous launch waits for the job, in seconds (20 when omitted). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_SYNC_TIMEOUT_SECONDS)
  sync_timeout_seconds?: number;

  /** How long a job may run before it is killed, in seconds (3600 when omitted). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TIMEOUT_SECONDS)
  timeout_seconds?: number;

  /** CPU and memory requests and limits; each value set here wins over the runner's. */
  @IsOptional()
  @IsResourceRequirements()
  resources?: ResourceRequirementsDto;
}

export class UpdateTaskDto {
  /** Must equal the name in the path when given. */
  @IsOptional()
  @IsString()
  name?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  runner?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(65_536)
  command?: string;

  @IsOptional()
  @IsBoolean()
  synchronous?: boolean;

  /** Replaces the schema; null removes it. */
  @IsOptional()
  @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  schema?: Record<string, unknown> | null;

  /** Merged into the stored secrets: an empty value deletes a key, the mask keeps it. */
  @IsOptional()
  @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  secret?: Record<string, string>;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_SYNC_TIMEOUT_SECONDS)
  sync_timeout_seconds?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TIMEOUT_SECONDS)
  timeout_seconds?: number;

  /** Replaces the stored resources; null removes them. */
  @IsOptional()
  @IsResourceRequirements()
  @ApiPropertyOptional({ type: ResourceRequirementsDto, nullable: true })
  resources?: ResourceRequirementsDto | null;
}

export class TaskDto {
  name: string;
  runner: string;
  command: string;
  synchronous: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  schema: Record<string, unknown> | null;
  /** Each stored key with a masked value. */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  secret: Record<string, string>;
  sync_timeout_seconds: number;
  timeout_seconds: number;
  /** CPU and memory requests and limits of the task itself, or null when none are set. */
  @ApiProperty({ type: ResourceRequirementsDto, nullable: true })
  resources: ResourceRequirementsDto | null;
}
