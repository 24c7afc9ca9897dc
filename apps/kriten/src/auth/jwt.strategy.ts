import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { KeyMaterial } from '../config/key-material';
import { UsersService } from '../users/users.service';
import type { AuthenticatedUser, TokenClaims } from './authenticated-user';

export const TOKEN_COOKIE = 'token';
export const JWT_ALGORITHM = 'HS256';

function tokenFromCookie(request: Request): string | null {
  const cookies = request.cookies as Record<string, string> | undefined;
  return cookies?.[TOKEN_COOKIE] ?? null;
}

/** Accepts a Kriten JWT from `Authorization: Bearer` or the `token` cookie. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: KeyMaterial,
    private readonly users: UsersService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromExtractors([
        ExtractJwt.fromAuthHeaderAsBearerToken(),
        tokenFromCookie,
      ]),
      secretOrKey: keys.jwtSecret,
      algorithms: [JWT_ALGORITHM],
      ignoreExpiration: false,
    });
  }

  async validate(claims: TokenClaims): Promise<AuthenticatedUser | false> {
    const user = await this.users.findById(claims.sub);
    if (!user || user.tokenVersion !== claims.ver) {
      return false;
    }
    return { id: user.id, username: user.username, provider: user.provider };
  }
}
