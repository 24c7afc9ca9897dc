import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * Adds CPU and memory `resources` (JSON text) to runners and tasks, and lets a secret row hold
 * only its key: with KRITEN_EXECUTOR=kubernetes the value lives in a Kubernetes Secret and
 * `encrypted_value` is null. Runs unchanged on SQLite and MySQL.
 */
export class AddResourcesAndKeyOnlySecrets1765000000000 implements MigrationInterface {
  name = 'AddResourcesAndKeyOnlySecrets1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['runners', 'tasks']) {
      await queryRunner.addColumn(
        table,
        new TableColumn({ name: 'resources', type: 'text', isNullable: true }),
      );
    }
    await queryRunner.changeColumn(
      'secrets',
      'encrypted_value',
      new TableColumn({
        name: 'encrypted_value',
        type: largeTextType(queryRunner),
        isNullable: true,
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Rows without a value cannot satisfy NOT NULL again; their values are in Kubernetes Secrets.
    await queryRunner.query('DELETE FROM secrets WHERE encrypted_value IS NULL');
    await queryRunner.changeColumn(
      'secrets',
      'encrypted_value',
      new TableColumn({ name: 'encrypted_value', type: largeTextType(queryRunner) }),
    );
    for (const table of ['tasks', 'runners']) {
      await queryRunner.dropColumn(table, 'resources');
    }
  }
}

/** The type CreateCoreTables gave `encrypted_value`: MySQL's TEXT stops at 64 KiB. */
function largeTextType(queryRunner: QueryRunner): string {
  return queryRunner.connection.options.type === 'mysql' ? 'longtext' : 'text';
}
