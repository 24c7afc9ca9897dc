import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import type { IdScope } from '../auth/permission-set';
import { isDuplicateKeyError } from '../common/database-errors';
import { DomainError, notFound } from '../common/domain-error';
import { MessageDto } from '../common/message.dto';
import { nameProblem } from '../common/names';
import { DEFAULT_PAGE_SIZE, Page, PageQueryDto, idCondition } from '../common/pagination';
import { RoleBindingEntity } from '../role-bindings/role-binding.entity';
import { LOCAL_PROVIDER, PROVIDERS } from '../users/providers';
import { UserEntity } from '../users/user.entity';
import { ROOT_USERNAME } from '../users/users.service';
import { CreateGroupDto, GroupDto, GroupMemberDto, GroupMemberWithIdDto } from './group.dto';
import { GroupEntity, GroupMemberEntity } from './group.entity';

export const ADMIN_GROUP = 'Admin';
const MAX_DIRECTORY_GROUP_NAME = 255;

@Injectable()
export class GroupsService {
  private readonly logger = new Logger(GroupsService.name);

  constructor(
    @InjectRepository(GroupEntity) private readonly groups: Repository<GroupEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async list(scope: IdScope, query: PageQueryDto): Promise<Page<GroupDto>> {
    const name = idCondition(scope);
    if (name === null) {
      return { items: [], total: 0 };
    }
    const where = name === undefined ? {} : { name };
    const [groups, total] = await Promise.all([
      this.groups.find({
        where,
        order: { name: 'ASC' },
        take: query.limit ?? DEFAULT_PAGE_SIZE,
        skip: query.offset ?? 0,
      }),
      this.groups.count({ where }),
    ]);
    return { items: groups.map(toGroupDto), total };
  }

  async get(name: string): Promise<GroupDto> {
    return toGroupDto(await this.load(name));
  }

  async create(input: CreateGroupDto): Promise<GroupDto> {
    const provider = input.provider ?? LOCAL_PROVIDER;
    checkGroupName(input.name, provider);

    try {
      await this.groups.insert({ id: randomUUID(), name: input.name, provider, builtin: false });
    } catch (error) {
      throw isDuplicateKeyError(error)
        ? new DomainError('conflict', `group '${input.name}' already exists`)
        : error;
    }
    this.logger.log(`group '${input.name}' of provider '${provider}' created`);
    return this.get(input.name);
  }

  /** Deletes a group with its memberships and the role bindings naming it. */
  async delete(name: string): Promise<MessageDto> {
    await this.dataSource.transaction(async (manager) => {
      const group = await this.load(name, manager);
      if (group.builtin) {
        throw new DomainError('conflict', `group '${name}' is built in and cannot be deleted`);
      }
      await manager.getRepository(RoleBindingEntity).delete({
        subjectKind: 'groups',
        subjectName: group.name,
        subjectProvider: group.provider,
      });
      await manager.getRepository(GroupEntity).delete({ id: group.id });
    });
    this.logger.log(`group '${name}' deleted`);
    return { msg: `group '${name}' deleted` };
  }

  async listMembers(name: string): Promise<GroupMemberWithIdDto[]> {
    const group = await this.load(name);
    const users = await this.dataSource
      .getRepository(UserEntity)
      .createQueryBuilder('user')
      .innerJoin(GroupMemberEntity, 'member', 'member.user_id = user.id')
      .where('member.group_id = :groupId', { groupId: group.id })
      .orderBy('user.username', 'ASC')
      .addOrderBy('user.provider', 'ASC')
      .getMany();
    return users.map((user) => ({ id: user.id, name: user.username, provider: user.provider }));
  }

  /** Adds users to a local group; if any of them does not exist, none is added. */
  async addMembers(name: string, body: unknown): Promise<GroupMemberWithIdDto[]> {
    const members = parseMembers(body);
    await this.dataSource.transaction(async (manager) => {
      const group = await this.loadLocalGroup(name, manager);
      const users = await findUsers(members, manager);
      // orIgnore keeps existing memberships, also when another request adds the same user at once.
      await manager
        .createQueryBuilder()
        .insert()
        .into(GroupMemberEntity)
        .values(users.map((user) => ({ groupId: group.id, userId: user.id })))
        .orIgnore()
        .execute();
    });
    this.logger.log(`group '${name}': added ${describeMembers(members)}`);
    return this.listMembers(name);
  }

  /** Removes users from a local group; root stays in the Admin group. */
  async removeMembers(name: string, body: unknown): Promise<GroupMemberWithIdDto[]> {
    const members = parseMembers(body);
    await this.dataSource.transaction(async (manager) => {
      const group = await this.loadLocalGroup(name, manager);
      const users = await findUsers(members, manager);
      const root = users.find(
        (user) => user.builtin && user.username === ROOT_USERNAME && group.builtin,
      );
      if (root && group.name === ADMIN_GROUP) {
        throw new DomainError(
          'conflict',
          `user '${ROOT_USERNAME}' is a built-in member of group '${ADMIN_GROUP}' and cannot be removed`,
        );
      }
      await manager.getRepository(GroupMemberEntity).delete({
        groupId: group.id,
        userId: In(users.map((user) => user.id)),
      });
    });
    this.logger.log(`group '${name}': removed ${describeMembers(members)}`);
    return this.listMembers(name);
  }

  private async load(name: string, manager?: EntityManager): Promise<GroupEntity> {
    const group = await (manager?.getRepository(GroupEntity) ?? this.groups).findOneBy({ name });
    if (!group) {
      throw notFound('group', name);
    }
    return group;
  }

  private async loadLocalGroup(name: string, manager: EntityManager): Promise<GroupEntity> {
    const group = await this.load(name, manager);
    if (group.provider !== LOCAL_PROVIDER) {
      throw new DomainError(
        'invalid_input',
        `group '${name}' is an '${group.provider}' group: its members come from the directory at login`,
      );
    }
    return group;
  }
}

export function toGroupDto(group: GroupEntity): GroupDto {
  return {
    id: group.id,
    name: group.name,
    provider: group.provider,
    builtin: group.builtin,
    created_time: group.createdAt.toISOString(),
    updated_time: group.updatedAt.toISOString(),
  };
}

function checkGroupName(name: string, provider: string): void {
  if (provider === LOCAL_PROVIDER) {
    const problem = nameProblem(name);
    if (problem) {
      throw new DomainError('invalid_input', `group ${problem}`);
    }
    return;
  }
  if (name.length === 0 || name.length > MAX_DIRECTORY_GROUP_NAME || hasControlCharacter(name)) {
    throw new DomainError(
      'invalid_input',
      `group name is invalid: a directory group name has 1 to ${MAX_DIRECTORY_GROUP_NAME} characters and no control characters`,
    );
  }
}

/** Checks a member list: a JSON array of `{name, provider}` objects, provider `local` when omitted. */
function parseMembers(body: unknown): GroupMemberDto[] {
  if (!Array.isArray(body) || body.length === 0) {
    throw new DomainError(
      'invalid_input',
      'request body must be a non-empty JSON array of {"name": "<username>", "provider": "local"} objects',
    );
  }
  return body.map((item: unknown, index) => {
    const fields = lowercaseKeys(item);
    const { name, provider = LOCAL_PROVIDER } = fields ?? {};
    const unknownField = Object.keys(fields ?? {}).find(
      (key) => !['name', 'provider'].includes(key),
    );
    if (!fields || typeof name !== 'string' || name === '' || unknownField !== undefined) {
      throw new DomainError(
        'invalid_input',
        `member ${index} is invalid: expected {"name": "<username>", "provider": "local" or "active_directory"}${unknownField ? `, got unknown field '${unknownField}'` : ''}`,
      );
    }
    if (!PROVIDERS.includes(provider as never)) {
      throw new DomainError(
        'invalid_input',
        `member ${index} has provider '${String(provider)}': use one of ${PROVIDERS.join(', ')}`,
      );
    }
    return { name, provider: provider as string };
  });
}

function lowercaseKeys(item: unknown): Record<string, unknown> | null {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return null;
  }
  return Object.fromEntries(Object.entries(item).map(([key, value]) => [key.toLowerCase(), value]));
}

/** Loads the named users; a 404 names every one that does not exist. */
async function findUsers(members: GroupMemberDto[], manager: EntityManager): Promise<UserEntity[]> {
  const candidates = await manager
    .getRepository(UserEntity)
    .findBy({ username: In([...new Set(members.map((member) => member.name))]) });
  const missing: string[] = [];
  const users = new Map<string, UserEntity>();
  for (const member of members) {
    const user = candidates.find(
      (candidate) => candidate.username === member.name && candidate.provider === member.provider,
    );
    if (user) {
      users.set(user.id, user);
    } else {
      missing.push(`'${member.name}' (${member.provider})`);
    }
  }
  if (missing.length > 0) {
    throw new DomainError(
      'not_found',
      `${missing.length === 1 ? 'user' : 'users'} ${missing.join(', ')} not found: create ${missing.length === 1 ? 'it' : 'them'} first; no member was changed`,
    );
  }
  return [...users.values()];
}

function describeMembers(members: GroupMemberDto[]): string {
  return members.map((member) => `'${member.name}' (${member.provider})`).join(', ');
}

function hasControlCharacter(value: string): boolean {
  return [...value].some((character) => {
    const code = character.charCodeAt(0);
    return code < 0x20 || code === 0x7f;
  });
}
