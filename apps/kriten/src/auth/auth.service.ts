import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Response } from 'express';
import { KritenConfig } from '../config/kriten-config';
import { DomainError } from '../common/domain-error';
import { UsersService } from '../users/users.service';
import type { AuthenticatedUser, TokenClaims } from './authenticated-user';
import { TOKEN_COOKIE } from './jwt.strategy';
import { TokenDto } from './auth.dto';

@Injectable()
export class AuthService {
  constructor(
    private readonly jwt: JwtService,
    private readonly users: UsersService,
    private readonly config: KritenConfig,
  ) {}

  /** Issues a token for the user and sets it as an HttpOnly cookie as well. */
  async issueToken(caller: AuthenticatedUser, response: Response): Promise<TokenDto> {
    const user = await this.users.findById(caller.id);
    if (!user) {
      throw new DomainError('unauthenticated', `user '${caller.username}' no longer exists`);
    }

    const claims: TokenClaims = {
      sub: user.id,
      username: user.username,
      provider: user.provider,
      ver: user.tokenVersion,
    };
    const token = await this.jwt.signAsync(claims);
    response.cookie(TOKEN_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.cookieSecure,
      path: '/',
      maxAge: this.config.jwtExpirySeconds * 1000,
    });
    return { token };
  }
}
