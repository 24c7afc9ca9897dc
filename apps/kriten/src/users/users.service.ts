import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import bcrypt from 'bcryptjs';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import type { IdScope } from '../auth/permission-set';
import { isDuplicateKeyError } from '../common/database-errors';
import { DomainError, notFound } from '../common/domain-error';
import { MessageDto } from '../common/message.dto';
import { DEFAULT_PAGE_SIZE, Page, PageQueryDto, idCondition } from '../common/pagination';
import { KritenConfig } from '../config/kriten-config';
import { RoleBindingEntity } from '../role-bindings/role-binding.entity';
import { ACTIVE_DIRECTORY_PROVIDER, LOCAL_PROVIDER } from './providers';
import { CreateUserDto, UpdateUserDto, UserDto } from './user.dto';
import { UserEntity } from './user.entity';

export { LOCAL_PROVIDER } from './providers';
export const ROOT_USERNAME = 'root';
const BCRYPT_COST = 10;
const USERNAME = /^[A-Za-z0-9._@-]{1,255}$/;
const MIN_PASSWORD_LENGTH = 8;
/** bcrypt ignores every byte after the 72nd, so a longer password would not be what it seems. */
const MAX_PASSWORD_BYTES = 72;

/** Compared against when a username is unknown, so that a login takes as long either way. */
const DUMMY_HASH = bcrypt.hashSync(randomBytes(16).toString('hex'), BCRYPT_COST);

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: KritenConfig,
  ) {}

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  /** Finds a user by id, else by username (a local user first, then a directory user). */
  async findByReference(reference: string): Promise<UserEntity | null> {
    const byId = await this.users.findOneBy({ id: reference });
    if (byId) {
      return byId;
    }
    const byName = await this.users.find({ where: { username: reference } });
    return byName.find((user) => user.provider === LOCAL_PROVIDER) ?? byName[0] ?? null;
  }

  findByName(username: string, provider: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ username, provider });
  }

  /** Returns the local user whose password matches, or null; takes the same time for unknown users. */
  async verifyLocalPassword(username: string, password: string): Promise<UserEntity | null> {
    const user = await this.users.findOneBy({ username, provider: LOCAL_PROVIDER });
    const matches = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
    return user && user.passwordHash && matches ? user : null;
  }

  /**
   * Returns the directory user of that name, creating it on its first login. Directory users
   * have no password in Kriten.
   */
  async findOrCreateDirectoryUser(username: string, provider: string): Promise<UserEntity> {
    const existing = await this.users.findOneBy({ username, provider });
    if (existing) {
      return existing;
    }
    try {
      await this.users.insert({
        id: randomUUID(),
        username,
        provider,
        passwordHash: null,
        builtin: false,
        tokenVersion: 0,
        directoryGroups: [],
      });
      this.logger.log(`user '${username}' of provider '${provider}' created at first login`);
    } catch (error) {
      // Two first logins at once: the other one created the user.
      if (!isDuplicateKeyError(error)) {
        throw error;
      }
    }
    return (await this.users.findOneBy({ username, provider }))!;
  }

  /**
   * Stores the names of the directory groups a user belongs to, as read at login. Role bindings
   * on groups of provider `active_directory` with one of these names apply to the user.
   */
  async setDirectoryGroups(userId: string, groupNames: string[]): Promise<void> {
    const names = [...new Set(groupNames)].sort();
    await this.users.update({ id: userId }, { directoryGroups: names });
  }

  async list(scope: IdScope, query: PageQueryDto): Promise<Page<UserDto>> {
    const username = idCondition(scope);
    if (username === null) {
      return { items: [], total: 0 };
    }
    const where = username === undefined ? {} : { username };
    const [users, total] = await Promise.all([
      this.users.find({
        where,
        order: { username: 'ASC', provider: 'ASC' },
        take: query.limit ?? DEFAULT_PAGE_SIZE,
        skip: query.offset ?? 0,
      }),
      this.users.count({ where }),
    ]);
    return { items: users.map(toUserDto), total };
  }

  async get(reference: string): Promise<UserDto> {
    return toUserDto(await this.load(reference));
  }

  async create(input: CreateUserDto): Promise<UserDto> {
    const provider = input.provider ?? LOCAL_PROVIDER;
    if (provider !== LOCAL_PROVIDER) {
      throw new DomainError(
        'invalid_input',
        `provider '${provider}' users are created when they first log in: only 'local' users can be created here`,
      );
    }
    checkUsername(input.username);
    checkPassword(input.password);

    const id = randomUUID();
    try {
      await this.users.insert({
        id,
        username: input.username,
        provider,
        passwordHash: await bcrypt.hash(input.password, BCRYPT_COST),
        builtin: false,
        tokenVersion: 0,
        directoryGroups: null,
      });
    } catch (error) {
      throw isDuplicateKeyError(error)
        ? new DomainError(
            'conflict',
            `user '${input.username}' of provider '${provider}' already exists`,
          )
        : error;
    }

    this.logger.log(`user '${input.username}' created`);
    return this.get(id);
  }

  /** Changes a local user's password; every JWT and API token issued before stops working. */
  async update(reference: string, input: UpdateUserDto): Promise<UserDto> {
    const user = await this.load(reference);
    if (input.username !== undefined && input.username !== user.username) {
      throw new DomainError(
        'invalid_input',
        `username '${input.username}' differs from the user's name '${user.username}': users cannot be renamed`,
      );
    }
    if (input.provider !== undefined && input.provider !== user.provider) {
      throw new DomainError(
        'invalid_input',
        `provider '${input.provider}' differs from the user's provider '${user.provider}': it cannot be changed`,
      );
    }
    if (input.password === undefined) {
      return toUserDto(user);
    }
    if (user.provider !== LOCAL_PROVIDER) {
      throw new DomainError(
        'invalid_input',
        `user '${user.username}' signs in through '${user.provider}': change the password in the directory`,
      );
    }
    checkPassword(input.password);

    user.passwordHash = await bcrypt.hash(input.password, BCRYPT_COST);
    user.tokenVersion += 1;
    await this.users.save(user);
    this.logger.log(`password of user '${user.username}' changed; its earlier tokens are revoked`);
    return toUserDto(user);
  }

  /** Deletes a user with its group memberships, API tokens and the role bindings naming it. */
  async delete(reference: string): Promise<MessageDto> {
    const user = await this.load(reference);
    if (user.builtin) {
      throw new DomainError(
        'conflict',
        `user '${user.username}' is built in and cannot be deleted`,
      );
    }

    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(RoleBindingEntity).delete({
        subjectKind: 'users',
        subjectName: user.username,
        subjectProvider: user.provider,
      });
      await manager.getRepository(UserEntity).delete({ id: user.id });
    });
    this.logger.log(`user '${user.username}' of provider '${user.provider}' deleted`);
    return { msg: `user '${user.username}' deleted` };
  }

  /** Creates root on the first start; KRITEN_ROOT_PASSWORD, when set, becomes its password. */
  async ensureRoot(): Promise<UserEntity> {
    const root = await this.users.findOneBy({ username: ROOT_USERNAME, provider: LOCAL_PROVIDER });
    const configured = this.config.rootPassword;

    if (root) {
      if (configured && !(await bcrypt.compare(configured, root.passwordHash ?? ''))) {
        root.passwordHash = await bcrypt.hash(configured, BCRYPT_COST);
        root.tokenVersion += 1;
        await this.users.save(root);
        this.logger.log('root password changed to the value of KRITEN_ROOT_PASSWORD');
      }
      return root;
    }

    const password = configured ?? randomBytes(18).toString('base64url');
    const id = randomUUID();
    await this.users.insert({
      id,
      username: ROOT_USERNAME,
      provider: LOCAL_PROVIDER,
      passwordHash: await bcrypt.hash(password, BCRYPT_COST),
      builtin: true,
      tokenVersion: 0,
      directoryGroups: null,
    });
    if (configured) {
      this.logger.log('created user root with the password from KRITEN_ROOT_PASSWORD');
    } else {
      // Shown once on purpose: only the hash is kept, so this line is the only copy.
      this.logger.warn(`created user root with the generated password: ${password}`);
      this.logger.warn(
        'store it now: it is not shown again (set KRITEN_ROOT_PASSWORD to choose one)',
      );
    }
    return (await this.users.findOneBy({ id }))!;
  }

  private async load(reference: string): Promise<UserEntity> {
    const user = await this.findByReference(reference);
    if (!user) {
      throw notFound('user', reference);
    }
    return user;
  }
}

export function toUserDto(user: UserEntity): UserDto {
  return {
    id: user.id,
    username: user.username,
    provider: user.provider,
    builtin: user.builtin,
    directory_groups: user.directoryGroups ?? [],
    created_time: user.createdAt.toISOString(),
    updated_time: user.updatedAt.toISOString(),
  };
}

function checkUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw new DomainError(
      'invalid_input',
      `username '${username.slice(0, 80)}' is invalid: use 1 to 255 letters, digits, '.', '_', '-' and '@'`,
    );
  }
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new DomainError(
      'invalid_input',
      `password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`,
    );
  }
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw new DomainError(
      'invalid_input',
      `password is too long: use at most ${MAX_PASSWORD_BYTES} bytes (bcrypt ignores the rest)`,
    );
  }
}

export { ACTIVE_DIRECTORY_PROVIDER };
