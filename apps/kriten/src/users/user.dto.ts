import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PROVIDERS } from './providers';

export class CreateUserDto {
  /** Letters, digits, '.', '_', '-' and '@', at most 255 characters. */
  @IsString()
  username: string;

  /** At least 8 characters and at most 72 bytes (the bcrypt limit). Never returned. */
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;

  /** Only `local` users are created here; directory users are created when they first log in. */
  @IsOptional()
  @IsIn(PROVIDERS)
  @ApiPropertyOptional({ enum: PROVIDERS, default: 'local' })
  provider?: string;
}

export class UpdateUserDto {
  /** Must equal the user's name when given: users cannot be renamed. */
  @IsOptional()
  @IsString()
  username?: string;

  /** A new password; every token issued to the user before stops working. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password?: string;

  /** Must equal the user's provider when given. */
  @IsOptional()
  @IsString()
  provider?: string;
}

export class UserDto {
  id: string;
  username: string;
  @ApiProperty({ enum: PROVIDERS })
  provider: string;
  /** Built-in users such as root cannot be deleted. */
  builtin: boolean;
  /** Directory groups from the user's last login; empty for local users. */
  directory_groups: string[];
  /** RFC 3339. */
  created_time: string;
  /** RFC 3339. */
  updated_time: string;
}
