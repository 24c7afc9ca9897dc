import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-local';
import { DomainError } from '../common/domain-error';
import { LOCAL_PROVIDER, UsersService } from '../users/users.service';
import type { AuthenticatedUser } from './authenticated-user';

/** Checks a username and password posted to the login route. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(private readonly users: UsersService) {
    super({ usernameField: 'username', passwordField: 'password', passReqToCallback: true });
  }

  async validate(request: Request, username: string, password: string): Promise<AuthenticatedUser> {
    const provider = (request.body as { provider?: unknown }).provider ?? LOCAL_PROVIDER;
    if (provider !== LOCAL_PROVIDER) {
      throw new DomainError(
        'invalid_input',
        `provider '${String(provider)}' is not configured on this server: use 'local'`,
      );
    }
    if (typeof username !== 'string' || typeof password !== 'string') {
      throw new DomainError('invalid_input', 'username and password must be strings');
    }
    const user = await this.users.verifyLocalPassword(username, password);
    if (!user) {
      throw new DomainError('unauthenticated', 'invalid username or password');
    }
    return { id: user.id, username: user.username, provider: user.provider };
  }
}
