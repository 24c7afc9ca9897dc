import type { DataSource, EntityManager } from 'typeorm';

/**
 * Makes transactions on the embedded SQLite database run one at a time.
 *
 * TypeORM's better-sqlite3 driver shares one connection and one query runner among all callers
 * (typeorm 1.x, BetterSqlite3Driver.createQueryRunner). A transaction that starts while another
 * awaits would become a savepoint inside it, so a rollback of either could undo the other's
 * writes. Queuing them keeps each transaction whole. MySQL and MariaDB give every transaction a
 * pooled connection of its own and are left alone.
 *
 * NOTE: statements outside any transaction still run on the shared connection, so one that
 * runs while a transaction awaits (such as a secret save waiting for the Kubernetes API)
 * becomes part of that transaction and is undone if it rolls back.
 *
 * Code inside a transaction uses the manager it was given. Starting another transaction through
 * the DataSource there would wait for the outer one forever.
 */
export function serializeSqliteTransactions(dataSource: DataSource): DataSource {
  if (dataSource.options.type !== 'better-sqlite3') {
    return dataSource;
  }

  const manager = dataSource.manager;
  const runTransaction = manager.transaction.bind(manager) as (
    ...args: unknown[]
  ) => Promise<unknown>;
  let previous: Promise<unknown> = Promise.resolve();
  manager.transaction = ((...args: unknown[]) => {
    const next = previous.then(() => runTransaction(...args));
    previous = next.catch(() => undefined);
    return next;
  }) as EntityManager['transaction'];
  return dataSource;
}
