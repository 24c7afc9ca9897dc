import { join } from 'node:path';
import type { DataSourceOptions, MixedList } from 'typeorm';
import { CreateCoreTables1764892800000 } from './migrations/1764892800000-CreateCoreTables';
import { AddResourcesAndKeyOnlySecrets1765000000000 } from './migrations/1765000000000-AddResourcesAndKeyOnlySecrets';
import { CreateIdentityTables1765100000000 } from './migrations/1765100000000-CreateIdentityTables';
import { CreateAuditLogs1765200000000 } from './migrations/1765200000000-CreateAuditLogs';

export const MIGRATIONS = [
  CreateCoreTables1764892800000,
  AddResourcesAndKeyOnlySecrets1765000000000,
  CreateIdentityTables1765100000000,
  CreateAuditLogs1765200000000,
];

export interface DatabaseSettings {
  kind: 'sqlite' | 'mysql';
  /** MySQL/MariaDB connection URL. */
  url?: string;
  dataDir: string;
}

/** Builds TypeORM options: SQLite in WAL mode in the data directory, or MySQL/MariaDB from a URL. */
export function buildDataSourceOptions(
  settings: DatabaseSettings,
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function>,
): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    logging: ['error' as const],
  };
  if (settings.kind === 'mysql') {
    return {
      ...common,
      type: 'mysql',
      url: settings.url,
      timezone: 'Z',
      charset: 'utf8mb4_unicode_ci',
      poolSize: 10,
    };
  }
  return {
    ...common,
    type: 'better-sqlite3',
    database: join(settings.dataDir, 'kriten.sqlite'),
    enableWAL: true,
    prepareDatabase: (db: { pragma(statement: string): unknown }) => {
      // WAL with NORMAL sync is durable across process crashes and avoids an fsync per commit.
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  };
}
