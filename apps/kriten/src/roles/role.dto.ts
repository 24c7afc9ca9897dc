import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { ACCESS_LEVELS, RESOURCES } from '../auth/permission-set';

const ROLE_RESOURCES = [...RESOURCES, '*'];

export class CreateRoleDto {
  /** Lowercase letters, digits and '-', at most 57 characters. */
  @IsString()
  name: string;

  @IsString()
  @ApiProperty({ enum: ROLE_RESOURCES })
  resource: string;

  /** Ids of the resource, or `["*"]` for every id. Jobs are named by their task. */
  @IsOptional()
  @ApiPropertyOptional({ type: [String] })
  resource_ids?: unknown;

  /** Accepted as another spelling of `resource_ids`. */
  @IsOptional()
  @ApiPropertyOptional({ type: [String], deprecated: true })
  resources_ids?: unknown;

  @IsString()
  @ApiProperty({ enum: ACCESS_LEVELS })
  access: string;
}

export class UpdateRoleDto {
  /** Must equal the name in the path when given. */
  @IsOptional()
  @IsString()
  name?: string;

  @IsOptional()
  @IsString()
  @ApiPropertyOptional({ enum: ROLE_RESOURCES })
  resource?: string;

  @IsOptional()
  @ApiPropertyOptional({ type: [String] })
  resource_ids?: unknown;

  @IsOptional()
  @ApiPropertyOptional({ type: [String], deprecated: true })
  resources_ids?: unknown;

  @IsOptional()
  @IsString()
  @ApiPropertyOptional({ enum: ACCESS_LEVELS })
  access?: string;
}

export class RoleDto {
  name: string;
  @ApiProperty({ enum: ROLE_RESOURCES })
  resource: string;
  resource_ids: string[];
  @ApiProperty({ enum: ACCESS_LEVELS })
  access: string;
  /** Built-in roles cannot be changed or deleted. */
  builtin: boolean;
  /** RFC 3339. */
  created_time: string;
  /** RFC 3339. */
  updated_time: string;
}
