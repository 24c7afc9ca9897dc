import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from 'typeorm';

/** Creates runners, tasks, secrets, users, jobs and job outputs; runs unchanged on SQLite and MySQL. */
export class CreateCoreTables1764892800000 implements MigrationInterface {
  name = 'CreateCoreTables1764892800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const largeText = largeTextType(queryRunner);
    const now = currentTimestampDefault(queryRunner);

    await createTable(
      queryRunner,
      new Table({
        name: 'users',
        columns: [
          varchar('id', 36, { isPrimary: true }),
          varchar('username', 255),
          varchar('provider', 32),
          varchar('password_hash', 255, { isNullable: true }),
          { name: 'builtin', type: 'boolean', default: false },
          { name: 'token_version', type: 'int', default: 0 },
          timestamp('created_at', { default: now }),
          timestamp('updated_at', { default: now }),
        ],
        uniques: [{ name: 'uq_users_username_provider', columnNames: ['username', 'provider'] }],
      }),
    );

    await createTable(
      queryRunner,
      new Table({
        name: 'runners',
        columns: [
          varchar('name', 63, { isPrimary: true }),
          varchar('image', 512),
          varchar('git_url', 2048),
          varchar('branch', 255),
          timestamp('created_at', { default: now }),
          timestamp('updated_at', { default: now }),
        ],
      }),
    );

    await createTable(
      queryRunner,
      new Table({
        name: 'tasks',
        columns: [
          varchar('name', 63, { isPrimary: true }),
          varchar('runner', 63),
          { name: 'command', type: 'text' },
          { name: 'synchronous', type: 'boolean', default: false },
          { name: 'schema', type: largeText, isNullable: true },
          { name: 'sync_timeout_seconds', type: 'int', isNullable: true },
          { name: 'timeout_seconds', type: 'int', isNullable: true },
          timestamp('created_at', { default: now }),
          timestamp('updated_at', { default: now }),
        ],
        foreignKeys: [
          {
            name: 'fk_tasks_runner',
            columnNames: ['runner'],
            referencedTableName: 'runners',
            referencedColumnNames: ['name'],
            onDelete: 'RESTRICT',
          },
        ],
        indices: [{ name: 'idx_tasks_runner', columnNames: ['runner'] }],
      }),
    );

    await createTable(
      queryRunner,
      new Table({
        name: 'secrets',
        columns: [
          varchar('owner_kind', 16, { isPrimary: true }),
          varchar('owner_name', 63, { isPrimary: true }),
          varchar('secret_key', 253, { isPrimary: true }),
          { name: 'encrypted_value', type: largeText },
        ],
      }),
    );

    await createTable(
      queryRunner,
      new Table({
        name: 'jobs',
        columns: [
          varchar('id', 63, { isPrimary: true }),
          varchar('task', 63),
          varchar('runner', 63),
          varchar('owner', 255),
          varchar('owner_provider', 32),
          varchar('status', 16),
          timestamp('created_at'),
          timestamp('start_time', { isNullable: true }),
          timestamp('completion_time', { isNullable: true }),
          { name: 'exit_code', type: 'int', isNullable: true },
          varchar('reason', 1024, { isNullable: true }),
          { name: 'extra_vars', type: largeText, isNullable: true },
        ],
      }),
    );
    for (const columns of [
      ['created_at'],
      ['task', 'created_at'],
      ['owner', 'created_at'],
      ['status', 'created_at'],
    ]) {
      const name = `idx_jobs_${columns[0] === 'created_at' ? 'created' : `${columns[0]}_created`}`;
      await queryRunner.createIndex('jobs', new TableIndex({ name, columnNames: columns }));
    }

    await createTable(
      queryRunner,
      new Table({
        name: 'job_outputs',
        columns: [
          varchar('job_id', 63, { isPrimary: true }),
          { name: 'output', type: largeText },
          { name: 'truncated', type: 'boolean', default: false },
          { name: 'json_data', type: largeText, isNullable: true },
          varchar('json_error', 1024, { isNullable: true }),
        ],
        foreignKeys: [
          {
            name: 'fk_job_outputs_job',
            columnNames: ['job_id'],
            referencedTableName: 'jobs',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['job_outputs', 'jobs', 'secrets', 'tasks', 'runners', 'users']) {
      await queryRunner.dropTable(table);
    }
  }
}

/**
 * Creates a table, with a binary collation for its varchar columns on MySQL so that names, ids and
 * secret keys compare byte for byte as on SQLite. A case-insensitive collation would make `TOKEN`
 * and `token` one secret key and let `ROOT` log in as `root`.
 */
async function createTable(queryRunner: QueryRunner, table: Table): Promise<void> {
  if (queryRunner.connection.options.type === 'mysql') {
    for (const column of table.columns.filter((candidate) => candidate.type === 'varchar')) {
      column.collation = 'utf8mb4_bin';
    }
  }
  await queryRunner.createTable(table);
}

/** MySQL's TEXT stops at 64 KiB; job output and schemas need more. */
function largeTextType(queryRunner: QueryRunner): string {
  return queryRunner.connection.options.type === 'mysql' ? 'longtext' : 'text';
}

/**
 * Returns the default for create and update date columns. TypeORM's inserts on MySQL send DEFAULT
 * for those columns, so they need one. On SQLite TypeORM writes datetime('now') into the insert.
 */
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
