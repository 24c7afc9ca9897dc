import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { ResourceRequirementsDto } from '../common/resources.dto';
import {
  IsGitBranch,
  IsGitUrl,
  IsResourceName,
  IsResourceRequirements,
} from '../common/validators';

export class CreateRunnerDto {
  /** Runner name: lowercase letters, digits and '-', at most 57 characters. */
  @IsResourceName()
  name: string;

  /** Container image with the scripts' dependencies (used by the kubernetes executor). */
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  image: string;

  /** Repository URL: https://, ssh://, git@host:path or file:///path. */
  @IsGitUrl()
  gitURL: string;

  /** Branch to run from; `main` when omitted. */
  @IsOptional()
  @IsGitBranch()
  branch?: string;

  /** Access token for the repository. Write-only: reads show a mask. */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  token?: string;

  /** Secrets shared by every task of the runner, as key-value pairs. Write-only. */
  @IsOptional()
  @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  secret?: Record<string, string>;
  /** CPU and memory requests and limits for the jobs of every task; a task's values win. */
  @IsOptional()
  @IsResourceRequirements()
  resources?: ResourceRequirementsDto;
}

export class UpdateRunnerDto {
  /** Must equal the name in the path when given. */
  @IsOptional()
  @IsString()
  name?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  image?: string;

  @IsOptional()
  @IsGitUrl()
  gitURL?: string;

  @IsOptional()
  @IsGitBranch()
  branch?: string;

  /** A new token replaces the stored one, an empty string removes it, the mask keeps it. */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  token?: string;

  /** Merged into the stored secrets: an empty value deletes a key, the mask keeps it. */
  @IsOptional()
  @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  secret?: Record<string, string>;
  /** Replaces the stored resources; null removes them. */
  @IsOptional()
  @IsResourceRequirements()
  @ApiPropertyOptional({ type: ResourceRequirementsDto, nullable: true })
  resources?: ResourceRequirementsDto | null;
}

export class RunnerDto {
  name: string;
  image: string;
  gitURL: string;
  branch: string;
  /** The mask when the runner has a token, an empty string otherwise. */
  token: string;
  /** Each stored key with a masked value. */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  secret: Record<string, string>;
  /** CPU and memory requests and limits, or null when none are set. */
  @ApiProperty({ type: ResourceRequirementsDto, nullable: true })
  resources: ResourceRequirementsDto | null;
}
