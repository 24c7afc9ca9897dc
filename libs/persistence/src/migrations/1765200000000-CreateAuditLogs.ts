import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

/** Creates audit_logs with an index for each filter of GET /audit_logs; SQLite and MySQL alike. */
export class CreateAuditLogs1765200000000 implements MigrationInterface {
  name = 'CreateAuditLogs1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const mysql = queryRunner.connection.options.type === 'mysql';
    const table = new Table({
      name: 'audit_logs',
      columns: [
        {
          name: 'id',
          // SQLite only auto-increments an INTEGER PRIMARY KEY.
          type: mysql ? 'bigint' : 'integer',
          isPrimary: true,
          isGenerated: true,
          generationStrategy: 'increment',
        },
        { name: 'time', type: 'datetime', precision: 3 },
        varchar('username', 255, { isNullable: true }),
        varchar('provider', 32, { isNullable: true }),
        varchar('action', 16),
        varchar('resource', 64),
        varchar('resource_id', 255, { isNullable: true }),
        varchar('outcome', 16),
        { name: 'status_code', type: 'int' },
        varchar('reason', 1024, { isNullable: true }),
        varchar('method', 8),
        varchar('path', 1024),
        varchar('client_address', 64, { isNullable: true }),
        varchar('request_id', 128),
      ],
      indices: [
        { name: 'idx_audit_logs_time', columnNames: ['time'] },
        { name: 'idx_audit_logs_username_time', columnNames: ['username', 'time'] },
        { name: 'idx_audit_logs_action_time', columnNames: ['action', 'time'] },
        {
          name: 'idx_audit_logs_resource_time',
          columnNames: ['resource', 'resource_id', 'time'],
        },
        { name: 'idx_audit_logs_outcome_time', columnNames: ['outcome', 'time'] },
      ],
    });
    if (mysql) {
      // Byte-for-byte comparison, as for every other name column: `Root` is not `root`.
      for (const column of table.columns.filter((candidate) => candidate.type === 'varchar')) {
        column.collation = 'utf8mb4_bin';
      }
    }
    await queryRunner.createTable(table);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_logs');
  }
}

function varchar(
  name: string,
  length: number,
  options: Partial<TableColumnOptions> = {},
): TableColumnOptions {
  return { name, type: 'varchar', length: String(length), ...options };
}
