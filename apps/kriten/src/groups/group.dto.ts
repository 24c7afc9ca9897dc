import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { PROVIDERS } from '../users/providers';

export class CreateGroupDto {
  /**
   * A local group's name is a lowercase RFC 1123 label of at most 57 characters. An
   * `active_directory` group's name is the directory group's name, matched exactly at login.
   */
  @IsString()
  name: string;

  @IsOptional()
  @IsIn(PROVIDERS)
  @ApiPropertyOptional({ enum: PROVIDERS, default: 'local' })
  provider?: string;
}

export class GroupDto {
  id: string;
  name: string;
  @ApiProperty({ enum: PROVIDERS })
  provider: string;
  /** Built-in groups such as Admin cannot be deleted. */
  builtin: boolean;
  /** RFC 3339. */
  created_time: string;
  /** RFC 3339. */
  updated_time: string;
}

/** A user named in a group's member list. */
export class GroupMemberDto {
  /** The username. */
  name: string;
  @ApiProperty({ enum: PROVIDERS })
  provider: string;
}

export class GroupMemberWithIdDto extends GroupMemberDto {
  id: string;
}
