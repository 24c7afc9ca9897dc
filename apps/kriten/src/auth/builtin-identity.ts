import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { isDuplicateKeyError } from '../common/database-errors';
import { GroupEntity, GroupMemberEntity } from '../groups/group.entity';
import { ADMIN_GROUP } from '../groups/groups.service';
import { RoleBindingEntity } from '../role-bindings/role-binding.entity';
import { RoleEntity } from '../roles/role.entity';
import { LOCAL_PROVIDER } from '../users/providers';
import { UsersService } from '../users/users.service';
import { ALL_IDS, RESOURCES, Resource } from './permission-set';

export const ADMIN_ROLE = 'Admin';
export const ADMIN_BINDING = 'Admin';

/**
 * Names the built-in role that grants write on every id of one resource, such as
 * `WriteAllRoleBindings`. Built-in names start with a capital letter, which names given
 * through the API cannot, so the two never collide.
 */
export function writeAllRoleName(resource: Resource): string {
  const words = resource.split('_').map((word) => word[0].toUpperCase() + word.slice(1));
  return `WriteAll${words.join('')}`;
}

/** Lists the built-in roles: Admin on everything, and one write-on-every-id role per resource. */
export function builtinRoles(): Pick<RoleEntity, 'name' | 'resource' | 'resourceIds' | 'access'>[] {
  return [
    { name: ADMIN_ROLE, resource: '*', resourceIds: [ALL_IDS], access: 'write' },
    ...RESOURCES.map((resource) => ({
      name: writeAllRoleName(resource),
      resource,
      resourceIds: [ALL_IDS],
      access: 'write',
    })),
  ];
}

/**
 * Creates root, the Admin group with root in it, the built-in roles and the binding of Admin
 * to the Admin group at every start. Each step only inserts what is missing, so replicas
 * starting together and later starts change nothing.
 */
@Injectable()
export class BuiltinIdentitySeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(BuiltinIdentitySeeder.name);

  constructor(
    private readonly users: UsersService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const root = await this.users.ensureRoot();

    await this.insertIfMissing(
      GroupEntity,
      { name: ADMIN_GROUP },
      {
        id: randomUUID(),
        name: ADMIN_GROUP,
        provider: LOCAL_PROVIDER,
        builtin: true,
      },
    );
    const group = await this.dataSource
      .getRepository(GroupEntity)
      .findOneByOrFail({ name: ADMIN_GROUP });
    await this.insertIfMissing(
      GroupMemberEntity,
      { groupId: group.id, userId: root.id },
      { groupId: group.id, userId: root.id },
    );

    for (const role of builtinRoles()) {
      await this.insertIfMissing(RoleEntity, { name: role.name }, { ...role, builtin: true });
    }
    await this.insertIfMissing(
      RoleBindingEntity,
      { name: ADMIN_BINDING },
      {
        name: ADMIN_BINDING,
        roleName: ADMIN_ROLE,
        subjectKind: 'groups',
        subjectName: ADMIN_GROUP,
        subjectProvider: LOCAL_PROVIDER,
        builtin: true,
      },
    );
  }

  private async insertIfMissing<T extends ObjectLiteral>(
    target: EntityTarget<T>,
    key: Partial<T>,
    values: Partial<T>,
  ): Promise<void> {
    const repository = this.dataSource.getRepository(target);
    if (await repository.existsBy(key as never)) {
      return;
    }
    try {
      await repository.insert(values as never);
      this.logger.log(
        `created built-in ${repository.metadata.tableName} row ${JSON.stringify(key)}`,
      );
    } catch (error) {
      // Another replica starting at the same time inserted it first.
      if (!isDuplicateKeyError(error)) {
        throw error;
      }
    }
  }
}
