import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-local';
import { DomainError } from '../common/domain-error';
import { DirectoryService } from '../directory/directory.service';
import { ACTIVE_DIRECTORY_PROVIDER } from '../users/providers';
import { LOCAL_PROVIDER, UsersService } from '../users/users.service';
import type { AuthenticatedUser } from './authenticated-user';

/** Checks a username and password posted to the login route. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(
    private readonly users: UsersService,
    private readonly directory: DirectoryService,
  ) {
    super({ usernameField: 'username', passwordField: 'password', passReqToCallback: true });
  }

  async validate(request: Request, username: string, password: string): Promise<AuthenticatedUser> {
    const provider = (request.body as { provider?: unknown }).provider ?? LOCAL_PROVIDER;
    if (provider !== LOCAL_PROVIDER && provider !== ACTIVE_DIRECTORY_PROVIDER) {
      throw new DomainError(
        'invalid_input',
        `provider '${String(provider)}' is not known: use 'local' or 'active_directory'`,
      );
    }
    if (typeof username !== 'string' || typeof password !== 'string') {
      throw new DomainError('invalid_input', 'username and password must be strings');
    }
    if (provider === ACTIVE_DIRECTORY_PROVIDER) {
      return this.validateDirectoryUser(username, password);
    }
    const user = await this.users.verifyLocalPassword(username, password);
    if (!user) {
      throw new DomainError('unauthenticated', 'invalid username or password');
    }
    return {
      id: user.id,
      username: user.username,
      provider: user.provider,
      directoryGroups: user.directoryGroups ?? [],
    };
  }

  /** Checks the password with the directory, then records the user and its current groups. */
  private async validateDirectoryUser(
    username: string,
    password: string,
  ): Promise<AuthenticatedUser> {
    if (username.length > 255 || password.length > 1024) {
      throw new DomainError(
        'invalid_input',
        'username must be at most 255 characters and password at most 1024',
      );
    }
    const account = await this.directory.authenticate(username, password);

    const user = await this.users.findOrCreateDirectoryUser(
      account.username,
      ACTIVE_DIRECTORY_PROVIDER,
    );
    await this.users.setDirectoryGroups(user.id, account.groups);
    return {
      id: user.id,
      username: user.username,
      provider: user.provider,
      directoryGroups: account.groups,
    };
  }
}
