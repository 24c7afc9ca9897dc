import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { PROVIDERS } from '../users/providers';

export const SUBJECT_KINDS = ['users', 'groups'];

export class CreateRoleBindingDto {
  /** Lowercase letters, digits and '-', at most 57 characters. */
  @IsString()
  name: string;

  /** The role to grant; it must exist. */
  @IsString()
  role_name: string;

  @IsString()
  @ApiProperty({ enum: SUBJECT_KINDS })
  subject_kind: string;

  /** A username or a group name. */
  @IsString()
  subject_name: string;

  @IsOptional()
  @IsString()
  @ApiPropertyOptional({ enum: PROVIDERS, default: 'local' })
  subject_provider?: string;
}

export class UpdateRoleBindingDto {
  /** Must equal the name in the path when given. */
  @IsOptional()
  @IsString()
  name?: string;

  @IsOptional()
  @IsString()
  role_name?: string;

  @IsOptional()
  @IsString()
  @ApiPropertyOptional({ enum: SUBJECT_KINDS })
  subject_kind?: string;

  @IsOptional()
  @IsString()
  subject_name?: string;

  @IsOptional()
  @IsString()
  @ApiPropertyOptional({ enum: PROVIDERS })
  subject_provider?: string;
}

export class RoleBindingDto {
  name: string;
  role_name: string;
  @ApiProperty({ enum: SUBJECT_KINDS })
  subject_kind: string;
  subject_name: string;
  @ApiProperty({ enum: PROVIDERS })
  subject_provider: string;
  /** Built-in bindings cannot be changed or deleted. */
  builtin: boolean;
  /** RFC 3339. */
  created_time: string;
  /** RFC 3339. */
  updated_time: string;
}
