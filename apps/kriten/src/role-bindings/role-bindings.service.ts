import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import type { IdScope } from '../auth/permission-set';
import { isDuplicateKeyError } from '../common/database-errors';
import { DomainError, notFound } from '../common/domain-error';
import { MessageDto } from '../common/message.dto';
import { nameProblem } from '../common/names';
import { DEFAULT_PAGE_SIZE, Page, PageQueryDto, idCondition } from '../common/pagination';
import { GroupEntity } from '../groups/group.entity';
import { RoleEntity } from '../roles/role.entity';
import { ACTIVE_DIRECTORY_PROVIDER, LOCAL_PROVIDER, PROVIDERS } from '../users/providers';
import { UserEntity } from '../users/user.entity';
import {
  CreateRoleBindingDto,
  RoleBindingDto,
  SUBJECT_KINDS,
  UpdateRoleBindingDto,
} from './role-binding.dto';
import { RoleBindingEntity } from './role-binding.entity';

@Injectable()
export class RoleBindingsService {
  private readonly logger = new Logger(RoleBindingsService.name);

  constructor(
    @InjectRepository(RoleBindingEntity) private readonly bindings: Repository<RoleBindingEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async list(scope: IdScope, query: PageQueryDto): Promise<Page<RoleBindingDto>> {
    const name = idCondition(scope);
    if (name === null) {
      return { items: [], total: 0 };
    }
    const where = name === undefined ? {} : { name };
    const [bindings, total] = await Promise.all([
      this.bindings.find({
        where,
        order: { name: 'ASC' },
        take: query.limit ?? DEFAULT_PAGE_SIZE,
        skip: query.offset ?? 0,
      }),
      this.bindings.count({ where }),
    ]);
    return { items: bindings.map(toRoleBindingDto), total };
  }

  async get(name: string): Promise<RoleBindingDto> {
    return toRoleBindingDto(await this.load(name));
  }

  async create(input: CreateRoleBindingDto): Promise<RoleBindingDto> {
    const problem = nameProblem(input.name);
    if (problem) {
      throw new DomainError('invalid_input', `role binding ${problem}`);
    }
    const binding = this.bindings.create({
      name: input.name,
      roleName: input.role_name,
      subjectKind: input.subject_kind,
      subjectName: input.subject_name,
      subjectProvider: input.subject_provider ?? LOCAL_PROVIDER,
      builtin: false,
    });

    try {
      await this.dataSource.transaction(async (manager) => {
        await checkReferences(binding, manager);
        await manager.getRepository(RoleBindingEntity).insert(binding);
      });
    } catch (error) {
      throw isDuplicateKeyError(error)
        ? new DomainError('conflict', `role binding '${input.name}' already exists`)
        : error;
    }
    this.logger.log(`role binding '${binding.name}' created: ${describe(binding)}`);
    return this.get(binding.name);
  }

  async update(name: string, input: UpdateRoleBindingDto): Promise<RoleBindingDto> {
    if (input.name !== undefined && input.name !== name) {
      throw new DomainError(
        'invalid_input',
        `name '${input.name}' differs from the role binding in the path '${name}': role bindings cannot be renamed`,
      );
    }
    const binding = await this.dataSource.transaction(async (manager) => {
      const stored = await this.load(name, manager);
      rejectBuiltinChange(stored);
      stored.roleName = input.role_name ?? stored.roleName;
      stored.subjectKind = input.subject_kind ?? stored.subjectKind;
      stored.subjectName = input.subject_name ?? stored.subjectName;
      stored.subjectProvider = input.subject_provider ?? stored.subjectProvider;
      await checkReferences(stored, manager);
      return manager.getRepository(RoleBindingEntity).save(stored);
    });
    this.logger.log(`role binding '${name}' updated: ${describe(binding)}`);
    return toRoleBindingDto(binding);
  }

  async delete(name: string): Promise<MessageDto> {
    await this.dataSource.transaction(async (manager) => {
      rejectBuiltinChange(await this.load(name, manager));
      await manager.getRepository(RoleBindingEntity).delete({ name });
    });
    this.logger.log(`role binding '${name}' deleted`);
    return { msg: `role binding '${name}' deleted` };
  }

  private async load(name: string, manager?: EntityManager): Promise<RoleBindingEntity> {
    const repository = manager?.getRepository(RoleBindingEntity) ?? this.bindings;
    const binding = await repository.findOneBy({ name });
    if (!binding) {
      throw notFound('role binding', name);
    }
    return binding;
  }
}

export function toRoleBindingDto(binding: RoleBindingEntity): RoleBindingDto {
  return {
    name: binding.name,
    role_name: binding.roleName,
    subject_kind: binding.subjectKind,
    subject_name: binding.subjectName,
    subject_provider: binding.subjectProvider,
    builtin: binding.builtin,
    created_time: binding.createdAt.toISOString(),
    updated_time: binding.updatedAt.toISOString(),
  };
}

/** Built-in bindings reject every change with 409, as built-in roles do. */
function rejectBuiltinChange(binding: RoleBindingEntity): void {
  if (binding.builtin) {
    throw new DomainError(
      'conflict',
      `role binding '${binding.name}' is built in and cannot be changed or deleted`,
    );
  }
}

/**
 * Checks that the role and the subject exist. A directory user may be bound before their first
 * login, so only local users must exist; groups of both providers must exist in Kriten.
 */
async function checkReferences(binding: RoleBindingEntity, manager: EntityManager): Promise<void> {
  if (!SUBJECT_KINDS.includes(binding.subjectKind)) {
    throw new DomainError(
      'invalid_input',
      `subject_kind '${binding.subjectKind}' is unknown: use users or groups`,
    );
  }
  if (!PROVIDERS.includes(binding.subjectProvider as never)) {
    throw new DomainError(
      'invalid_input',
      `subject_provider '${binding.subjectProvider}' is unknown: use one of ${PROVIDERS.join(', ')}`,
    );
  }
  if (!(await manager.getRepository(RoleEntity).existsBy({ name: binding.roleName }))) {
    throw new DomainError(
      'not_found',
      `role '${binding.roleName}' not found: create it first with POST /api/v1/roles`,
    );
  }

  const subject = { name: binding.subjectName, provider: binding.subjectProvider };
  if (binding.subjectKind === 'groups') {
    if (!(await manager.getRepository(GroupEntity).existsBy(subject))) {
      throw new DomainError(
        'not_found',
        `group '${subject.name}' of provider '${subject.provider}' not found: create it first with POST /api/v1/groups`,
      );
    }
    return;
  }
  if (
    subject.provider !== ACTIVE_DIRECTORY_PROVIDER &&
    !(await manager
      .getRepository(UserEntity)
      .existsBy({ username: subject.name, provider: subject.provider }))
  ) {
    throw new DomainError(
      'not_found',
      `user '${subject.name}' of provider '${subject.provider}' not found: create it first with POST /api/v1/users`,
    );
  }
}

function describe(binding: RoleBindingEntity): string {
  return `role '${binding.roleName}' to ${binding.subjectKind} '${binding.subjectName}' (${binding.subjectProvider})`;
}
