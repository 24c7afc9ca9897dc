import { MigrationInterface, QueryRunner, Table, TableColumn, TableColumnOptions } from 'typeorm';

/**
 * Creates groups, group members, roles, role bindings and API tokens, and adds the directory
 * groups of a user. Runs unchanged on SQLite and MySQL.
 */
export class CreateIdentityTables1765100000000 implements MigrationInterface {
  name = 'CreateIdentityTables1765100000000';

  // Groups live in `user_groups` because GROUPS is a reserved word in MySQL 8.
  async up(queryRunner: QueryRunner): Promise<void> {
    const now = currentTimestampDefault(queryRunner);
    const created = timestamp('created_at', { default: now });
    const updated = timestamp('updated_at', { default: now });

    // The names of the directory groups the user belonged to at their last login, as JSON.
    await queryRunner.addColumn(
      'users',
      new TableColumn({ name: 'directory_groups', type: 'text', isNullable: true }),
    );

    await createTable(
      queryRunner,
      new Table({
        name: 'user_groups',
        columns: [
          varchar('id', 36, { isPrimary: true }),
          varchar('name', 255),
          varchar('provider', 32),
          { name: 'builtin', type: 'boolean', default: false },
          created,
          updated,
        ],
        uniques: [{ name: 'uq_user_groups_name', columnNames: ['name'] }],
      }),
    );

    await createTable(
      queryRunner,
      new Table({
        name: 'group_members',
        columns: [
          varchar('group_id', 36, { isPrimary: true }),
          varchar('user_id', 36, { isPrimary: true }),
        ],
        foreignKeys: [
          {
            name: 'fk_group_members_group',
            columnNames: ['group_id'],
            referencedTableName: 'user_groups',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
          {
            name: 'fk_group_members_user',
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ name: 'idx_group_members_user', columnNames: ['user_id'] }],
      }),
    );

    await createTable(
      queryRunner,
      new Table({
        name: 'roles',
        columns: [
          varchar('name', 63, { isPrimary: true }),
          varchar('resource', 32),
          { name: 'resource_ids', type: 'text' },
          varchar('access', 8),
          { name: 'builtin', type: 'boolean', default: false },
          created,
          updated,
        ],
      }),
    );

    await createTable(
      queryRunner,
      new Table({
        name: 'role_bindings',
        columns: [
          varchar('name', 63, { isPrimary: true }),
          varchar('role_name', 63),
          varchar('subject_kind', 16),
          varchar('subject_name', 255),
          varchar('subject_provider', 32),
          { name: 'builtin', type: 'boolean', default: false },
          created,
          updated,
        ],
        foreignKeys: [
          {
            name: 'fk_role_bindings_role',
            columnNames: ['role_name'],
            referencedTableName: 'roles',
            referencedColumnNames: ['name'],
            onDelete: 'RESTRICT',
          },
        ],
        indices: [
          { name: 'idx_role_bindings_role', columnNames: ['role_name'] },
          {
            name: 'idx_role_bindings_subject',
            columnNames: ['subject_kind', 'subject_provider', 'subject_name'],
          },
        ],
      }),
    );

    await createTable(
      queryRunner,
      new Table({
        name: 'api_tokens',
        columns: [
          varchar('id', 36, { isPrimary: true }),
          varchar('user_id', 36),
          varchar('token_hash', 64),
          varchar('description', 1024),
          { name: 'enabled', type: 'boolean', default: true },
          timestamp('expires_at', { isNullable: true }),
          // The owner's token version at creation: a password change raises it and so revokes the token.
          { name: 'user_token_version', type: 'int' },
          created,
          updated,
        ],
        uniques: [{ name: 'uq_api_tokens_hash', columnNames: ['token_hash'] }],
        foreignKeys: [
          {
            name: 'fk_api_tokens_user',
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ name: 'idx_api_tokens_user', columnNames: ['user_id'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['api_tokens', 'role_bindings', 'roles', 'group_members', 'user_groups']) {
      await queryRunner.dropTable(table);
    }
    await queryRunner.dropColumn('users', 'directory_groups');
  }
}

/** Creates a table with byte-for-byte comparison of its varchar columns on MySQL, as on SQLite. */
async function createTable(queryRunner: QueryRunner, table: Table): Promise<void> {
  if (queryRunner.connection.options.type === 'mysql') {
    for (const column of table.columns.filter((candidate) => candidate.type === 'varchar')) {
      column.collation = 'utf8mb4_bin';
    }
  }
  await queryRunner.createTable(table);
}

/** TypeORM's inserts on MySQL send DEFAULT for create and update date columns, so they need one. */
function currentTimestampDefault(queryRunner: QueryRunner): string | undefined {
  return queryRunner.connection.options.type === 'mysql' ? 'CURRENT_TIMESTAMP(3)' : undefined;
}

function varchar(
  name: string,
  length: number,
  options: Partial<TableColumnOptions> = {},
): TableColumnOptions {
  return { name, type: 'varchar', length: String(length), ...options };
}

function timestamp(name: string, options: Partial<TableColumnOptions> = {}): TableColumnOptions {
  return { name, type: 'datetime', precision: 3, ...options };
}
