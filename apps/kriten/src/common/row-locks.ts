import type { EntityManager, FindOneOptions } from 'typeorm';

/**
 * Returns the lock option that makes a read inside a transaction hold the rows it finds until
 * commit, so that concurrent writes to the same runner or task run one after another, also
 * across replicas. MySQL and MariaDB take a row lock (`SELECT ... FOR UPDATE`). SQLite needs
 * none, because it runs one write transaction at a time and TypeORM rejects lock modes there.
 */
export function writeLock(manager: EntityManager): FindOneOptions['lock'] {
  return manager.connection.options.type === 'mysql' ? { mode: 'pessimistic_write' } : undefined;
}
