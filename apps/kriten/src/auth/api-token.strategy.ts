import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-custom';
import { ApiTokensService } from '../api-tokens/api-tokens.service';
import type { AuthenticatedUser } from './authenticated-user';
import { AuthorizationService } from './authorization.service';

export const API_TOKEN_STRATEGY = 'api-token';
/** The request header that carries an API token; Node lowercases header names. */
export const API_TOKEN_HEADER = 'token';

/** Accepts an API token from the `Token` header, with the permissions of its owner. */
@Injectable()
export class ApiTokenStrategy extends PassportStrategy(Strategy, API_TOKEN_STRATEGY) {
  constructor(
    private readonly tokens: ApiTokensService,
    private readonly authorization: AuthorizationService,
  ) {
    super();
  }

  async validate(request: Request): Promise<AuthenticatedUser | false> {
    const token = request.headers[API_TOKEN_HEADER];
    if (typeof token !== 'string' || token === '') {
      return false;
    }
    const owner = await this.tokens.findOwnerOfValidToken(token);
    return owner ? this.authorization.authenticate(owner) : false;
  }
}
