import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PROVIDERS } from '../users/providers';

export class LoginDto {
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  username: string;

  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;

  /** The user's identity provider: `local` (the default) or `active_directory` (the LDAP directory). */
  @IsOptional()
  @IsIn(PROVIDERS)
  provider?: string;
}

export class TokenDto {
  /** A JWT to send as `Authorization: Bearer <token>`; the same value is set as the `token` cookie. */
  token: string;
}
