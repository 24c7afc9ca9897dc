import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateApiTokenDto {
  /** Purpose of the token. */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  /** When the token stops working (RFC 3339, in the future); never when omitted or null. */
  @IsOptional()
  @IsString()
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  expires?: string | null;

  /** A disabled token is rejected until enabled again; true when omitted. */
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateApiTokenDto {
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  /** RFC 3339, or null to never expire. */
  @IsOptional()
  @IsString()
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  expires?: string | null;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class ApiTokenDto {
  id: string;
  description: string;
  enabled: boolean;
  /** RFC 3339; null when the token never expires. */
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires: string | null;
  /** The owner's username; the token acts with the owner's permissions. */
  owner: string;
  owner_provider: string;
  /** RFC 3339. */
  created_time: string;
  /** RFC 3339. */
  updated_time: string;
}

/** A new token. This is the only response that contains the token itself. */
export class CreatedApiTokenDto extends ApiTokenDto {
  /** Send it as the `Token` header. Shown once: only a keyed hash is stored. */
  token: string;
}
