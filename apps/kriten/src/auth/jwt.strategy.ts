import { createSecretKey } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { KeyMaterial } from '../config/key-material';
import { UsersService } from '../users/users.service';
import type { AuthenticatedUser, TokenClaims } from './authenticated-user';
import { AuthorizationService } from './authorization.service';

export const TOKEN_COOKIE = 'token';
export const JWT_STRATEGY = 'jwt';
export const JWT_ALGORITHM = 'HS256';

function tokenFromCookie(request: Request): string | null {
  const cookies = request.cookies as Record<string, string> | undefined;
  return cookies?.[TOKEN_COOKIE] ?? null;
}

/** Accepts a Kriten JWT from `Authorization: Bearer` or the `token` cookie. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    keys: KeyMaterial,
    private readonly users: UsersService,
    private readonly authorization: AuthorizationService,
  ) {
    const signingKey = createSecretKey(Buffer.from(keys.jwtSecret));
    super({
      jwtFromRequest: ExtractJwt.fromExtractors([
        ExtractJwt.fromAuthHeaderAsBearerToken(),
        tokenFromCookie,
      ]),
      // A KeyObject made once: given a string or Buffer, jsonwebtoken first tries to parse it
      // as a public key on every call, which costs more than the signature check.
      secretOrKeyProvider: (
        _request: unknown,
        _token: unknown,
        done: (error: null, key: string) => void,
      ) => done(null, signingKey as unknown as string),
      algorithms: [JWT_ALGORITHM],
      ignoreExpiration: false,
    });
  }

  async validate(claims: TokenClaims): Promise<AuthenticatedUser | false> {
    const user = await this.users.findById(claims.sub);
    if (!user || user.tokenVersion !== claims.ver) {
      return false;
    }
    return this.authorization.authenticate(user);
  }
}
