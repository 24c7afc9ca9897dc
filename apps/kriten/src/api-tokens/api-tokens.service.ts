import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { In, Repository } from 'typeorm';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import type { IdScope } from '../auth/permission-set';
import { DomainError, notFound } from '../common/domain-error';
import { MessageDto } from '../common/message.dto';
import { DEFAULT_PAGE_SIZE, Page, PageQueryDto, idCondition } from '../common/pagination';
import { KeyMaterial } from '../config/key-material';
import { UserEntity } from '../users/user.entity';
import {
  ApiTokenDto,
  CreateApiTokenDto,
  CreatedApiTokenDto,
  UpdateApiTokenDto,
} from './api-token.dto';
import { ApiTokenEntity } from './api-token.entity';
import {
  API_TOKEN_PREFIX,
  deriveApiTokenKey,
  generateApiToken,
  hashApiToken,
} from './api-token-secret';

const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
/** Longer values cannot be tokens; they are rejected before hashing. */
const MAX_TOKEN_LENGTH = 128;

@Injectable()
export class ApiTokensService {
  private readonly logger = new Logger(ApiTokensService.name);
  private readonly hashKey: Buffer;

  constructor(
    @InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    keys: KeyMaterial,
  ) {
    this.hashKey = deriveApiTokenKey(keys.secretKey);
  }

  /**
   * Returns the owner of a token that is enabled, not expired, and issued under the owner's
   * current token version; null otherwise.
   */
  async findOwnerOfValidToken(token: string): Promise<UserEntity | null> {
    if (!token.startsWith(API_TOKEN_PREFIX) || token.length > MAX_TOKEN_LENGTH) {
      return null;
    }
    const stored = await this.tokens.findOneBy({ tokenHash: hashApiToken(token, this.hashKey) });
    if (!stored || !stored.enabled || (stored.expiresAt && stored.expiresAt <= new Date())) {
      return null;
    }
    const owner = await this.users.findOneBy({ id: stored.userId });
    return owner && owner.tokenVersion === stored.userTokenVersion ? owner : null;
  }

  async listOwn(caller: AuthenticatedUser): Promise<ApiTokenDto[]> {
    const tokens = await this.tokens.find({
      where: { userId: caller.id },
      order: { createdAt: 'DESC', id: 'ASC' },
    });
    return tokens.map((token) => toApiTokenDto(token, caller.username, caller.provider));
  }

  async listAll(scope: IdScope, query: PageQueryDto): Promise<Page<ApiTokenDto>> {
    const id = idCondition(scope);
    if (id === null) {
      return { items: [], total: 0 };
    }
    const where = id === undefined ? {} : { id };
    const [tokens, total] = await Promise.all([
      this.tokens.find({
        where,
        order: { createdAt: 'DESC', id: 'ASC' },
        take: query.limit ?? DEFAULT_PAGE_SIZE,
        skip: query.offset ?? 0,
      }),
      this.tokens.count({ where }),
    ]);
    return { items: await this.withOwners(tokens), total };
  }

  /** Creates a token for the caller; the response is the only place the token appears. */
  async create(caller: AuthenticatedUser, input: CreateApiTokenDto): Promise<CreatedApiTokenDto> {
    const owner = await this.users.findOneBy({ id: caller.id });
    if (!owner) {
      throw new DomainError('unauthenticated', `user '${caller.username}' no longer exists`);
    }
    const expiresAt = parseExpiry(input.expires);
    const token = generateApiToken();
    const entity = this.tokens.create({
      id: randomUUID(),
      userId: owner.id,
      tokenHash: hashApiToken(token, this.hashKey),
      description: input.description ?? '',
      enabled: input.enabled ?? true,
      expiresAt,
      userTokenVersion: owner.tokenVersion,
    });

    await this.tokens.insert(entity);
    this.logger.log(`API token '${entity.id}' created for user '${owner.username}'`);
    const stored = (await this.tokens.findOneBy({ id: entity.id }))!;
    return { ...toApiTokenDto(stored, owner.username, owner.provider), token };
  }

  /** Changes a token of the caller's own, or any token with api_tokens write on its id. */
  async update(
    caller: AuthenticatedUser,
    id: string,
    input: UpdateApiTokenDto,
  ): Promise<ApiTokenDto> {
    const token = await this.loadForWrite(caller, id);
    token.description = input.description ?? token.description;
    token.enabled = input.enabled ?? token.enabled;
    if (input.expires !== undefined) {
      token.expiresAt = parseExpiry(input.expires);
    }

    await this.tokens.save(token);
    this.logger.log(`API token '${id}' updated by '${caller.username}'`);
    return (await this.withOwners([token]))[0];
  }

  async delete(caller: AuthenticatedUser, id: string): Promise<MessageDto> {
    await this.loadForWrite(caller, id);
    await this.tokens.delete({ id });
    this.logger.log(`API token '${id}' deleted by '${caller.username}'`);
    return { msg: `API token '${id}' deleted` };
  }

  /**
   * Loads a token the caller may change: their own, or any with api_tokens write on its id.
   * A token that does not exist is a 404 only for a caller who could change it.
   */
  private async loadForWrite(caller: AuthenticatedUser, id: string): Promise<ApiTokenEntity> {
    const token = await this.tokens.findOneBy({ id });
    const permitted =
      token?.userId === caller.id || caller.permissions!.allows('api_tokens', 'write', id);
    if (!permitted) {
      throw new DomainError(
        'forbidden',
        `user '${caller.username}' has no write access to api_tokens '${id}' and does not own it`,
      );
    }
    if (!token) {
      throw notFound('API token', id);
    }
    return token;
  }

  private async withOwners(tokens: ApiTokenEntity[]): Promise<ApiTokenDto[]> {
    const ownerIds = [...new Set(tokens.map((token) => token.userId))];
    const owners = ownerIds.length === 0 ? [] : await this.users.findBy({ id: In(ownerIds) });
    return tokens.map((token) => {
      const owner = owners.find((user) => user.id === token.userId);
      return toApiTokenDto(token, owner?.username ?? '', owner?.provider ?? '');
    });
  }
}

function toApiTokenDto(token: ApiTokenEntity, owner: string, ownerProvider: string): ApiTokenDto {
  return {
    id: token.id,
    description: token.description,
    enabled: token.enabled,
    expires: token.expiresAt ? token.expiresAt.toISOString() : null,
    owner,
    owner_provider: ownerProvider,
    created_time: token.createdAt.toISOString(),
    updated_time: token.updatedAt.toISOString(),
  };
}

/** Parses an RFC 3339 expiry in the future; null or undefined means the token never expires. */
function parseExpiry(value: string | null | undefined): Date | null {
  if (value === undefined || value === null) {
    return null;
  }
  const time = Date.parse(value);
  if (!RFC_3339.test(value) || Number.isNaN(time)) {
    throw new DomainError(
      'invalid_input',
      `expires '${value.slice(0, 64)}' is not an RFC 3339 time: use a form like 2030-01-31T12:00:00Z`,
    );
  }
  if (time <= Date.now()) {
    throw new DomainError(
      'invalid_input',
      `expires '${value}' is in the past: give a time in the future, or null for no expiry`,
    );
  }
  return new Date(time);
}
