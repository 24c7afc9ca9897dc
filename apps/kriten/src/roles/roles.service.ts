import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { ACCESS_LEVELS, ALL_IDS, IdScope, RESOURCES } from '../auth/permission-set';
import { isDuplicateKeyError } from '../common/database-errors';
import { DomainError, notFound } from '../common/domain-error';
import { MessageDto } from '../common/message.dto';
import { nameProblem } from '../common/names';
import { DEFAULT_PAGE_SIZE, Page, PageQueryDto, idCondition } from '../common/pagination';
import { RoleBindingEntity } from '../role-bindings/role-binding.entity';
import { CreateRoleDto, RoleDto, UpdateRoleDto } from './role.dto';
import { RoleEntity } from './role.entity';

const ROLE_RESOURCES: string[] = [...RESOURCES, '*'];
const MAX_RESOURCE_IDS = 1000;
const MAX_RESOURCE_ID_LENGTH = 255;

@Injectable()
export class RolesService {
  private readonly logger = new Logger(RolesService.name);

  constructor(
    @InjectRepository(RoleEntity) private readonly roles: Repository<RoleEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async list(scope: IdScope, query: PageQueryDto): Promise<Page<RoleDto>> {
    const name = idCondition(scope);
    if (name === null) {
      return { items: [], total: 0 };
    }
    const where = name === undefined ? {} : { name };
    const [roles, total] = await Promise.all([
      this.roles.find({
        where,
        order: { name: 'ASC' },
        take: query.limit ?? DEFAULT_PAGE_SIZE,
        skip: query.offset ?? 0,
      }),
      this.roles.count({ where }),
    ]);
    return { items: roles.map(toRoleDto), total };
  }

  async get(name: string): Promise<RoleDto> {
    return toRoleDto(await this.load(name));
  }

  async create(input: CreateRoleDto): Promise<RoleDto> {
    const problem = nameProblem(input.name);
    if (problem) {
      throw new DomainError('invalid_input', `role ${problem}`);
    }
    const role = this.roles.create({
      name: input.name,
      resource: checkResource(input.resource),
      resourceIds: checkResourceIds(resourceIdsOf(input) ?? [ALL_IDS]),
      access: checkAccess(input.access),
      builtin: false,
    });

    try {
      await this.roles.insert(role);
    } catch (error) {
      throw isDuplicateKeyError(error)
        ? new DomainError('conflict', `role '${input.name}' already exists`)
        : error;
    }
    this.logger.log(`role '${role.name}' created: ${role.access} on ${role.resource}`);
    return this.get(role.name);
  }

  async update(name: string, input: UpdateRoleDto): Promise<RoleDto> {
    if (input.name !== undefined && input.name !== name) {
      throw new DomainError(
        'invalid_input',
        `name '${input.name}' differs from the role in the path '${name}': roles cannot be renamed`,
      );
    }
    const role = await this.load(name);
    rejectBuiltinChange(role);

    const resourceIds = resourceIdsOf(input);
    role.resource = input.resource === undefined ? role.resource : checkResource(input.resource);
    role.resourceIds = resourceIds === undefined ? role.resourceIds : checkResourceIds(resourceIds);
    role.access = input.access === undefined ? role.access : checkAccess(input.access);
    await this.roles.save(role);
    this.logger.log(`role '${name}' updated: ${role.access} on ${role.resource}`);
    return toRoleDto(role);
  }

  async delete(name: string): Promise<MessageDto> {
    await this.dataSource.transaction(async (manager) => {
      const role = await manager.getRepository(RoleEntity).findOneBy({ name });
      if (!role) {
        throw notFound('role', name);
      }
      rejectBuiltinChange(role);
      const bindings = await manager
        .getRepository(RoleBindingEntity)
        .find({ where: { roleName: name }, select: { name: true }, order: { name: 'ASC' } });
      if (bindings.length > 0) {
        const names = bindings.map((binding) => `'${binding.name}'`).join(', ');
        throw new DomainError(
          'conflict',
          `role '${name}' is still bound by role bindings ${names}: delete them first`,
        );
      }
      await manager.getRepository(RoleEntity).delete({ name });
    });
    this.logger.log(`role '${name}' deleted`);
    return { msg: `role '${name}' deleted` };
  }

  private async load(name: string): Promise<RoleEntity> {
    const role = await this.roles.findOneBy({ name });
    if (!role) {
      throw notFound('role', name);
    }
    return role;
  }
}

export function toRoleDto(role: RoleEntity): RoleDto {
  return {
    name: role.name,
    resource: role.resource,
    resource_ids: role.resourceIds,
    access: role.access,
    builtin: role.builtin,
    created_time: role.createdAt.toISOString(),
    updated_time: role.updatedAt.toISOString(),
  };
}

/**
 * Built-in roles and bindings reject every change with 409 (the object's state forbids it),
 * not 403, which in this API means the caller lacks a permission: root is refused too.
 */
function rejectBuiltinChange(role: RoleEntity): void {
  if (role.builtin) {
    throw new DomainError(
      'conflict',
      `role '${role.name}' is built in and cannot be changed or deleted`,
    );
  }
}

function resourceIdsOf(input: { resource_ids?: unknown; resources_ids?: unknown }): unknown {
  if (
    input.resource_ids !== undefined &&
    input.resources_ids !== undefined &&
    JSON.stringify(input.resource_ids) !== JSON.stringify(input.resources_ids)
  ) {
    throw new DomainError(
      'invalid_input',
      'resource_ids and resources_ids differ: send only resource_ids',
    );
  }
  return input.resource_ids ?? input.resources_ids;
}

function checkResource(resource: string): string {
  if (!ROLE_RESOURCES.includes(resource)) {
    throw new DomainError(
      'invalid_input',
      `resource '${resource}' is unknown: use one of ${ROLE_RESOURCES.join(', ')}`,
    );
  }
  return resource;
}

function checkAccess(access: string): string {
  if (!ACCESS_LEVELS.includes(access as never)) {
    throw new DomainError('invalid_input', `access '${access}' is unknown: use read or write`);
  }
  return access;
}

function checkResourceIds(ids: unknown): string[] {
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_RESOURCE_IDS) {
    throw new DomainError(
      'invalid_input',
      `resource_ids must be a JSON array of 1 to ${MAX_RESOURCE_IDS} ids, or ["*"] for every id`,
    );
  }
  const invalid = ids.find(
    (id) => typeof id !== 'string' || id === '' || id.length > MAX_RESOURCE_ID_LENGTH,
  );
  if (invalid !== undefined) {
    throw new DomainError(
      'invalid_input',
      `resource_ids contains ${JSON.stringify(invalid)}: each id is a string of 1 to ${MAX_RESOURCE_ID_LENGTH} characters`,
    );
  }
  if (ids.includes(ALL_IDS) && ids.length > 1) {
    throw new DomainError(
      'invalid_input',
      'resource_ids mixes "*" with other ids: "*" already means every id, so send ["*"] alone',
    );
  }
  return [...new Set(ids as string[])];
}
