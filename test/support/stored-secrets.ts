import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';

interface SqliteDatabase {
  prepare(sql: string): { all(): unknown[] };
  close(): void;
}

// better-sqlite3 ships no type declarations; only these two calls are used.
const Database = require('better-sqlite3') as new (
  path: string,
  options: { readonly: boolean },
) => SqliteDatabase;

/** A row of the `secrets` table, read straight from the database. */
export interface StoredSecretRow {
  ownerKind: string;
  ownerName: string;
  key: string;
  encryptedValue: string | null;
}

const SELECT_SECRETS =
  'SELECT owner_kind AS ownerKind, owner_name AS ownerName, secret_key AS `key`, ' +
  'encrypted_value AS encryptedValue FROM secrets ORDER BY owner_kind, owner_name, secret_key';

/**
 * Reads every row of the `secrets` table from the server's SQLite file, or from MariaDB when a
 * URL is given, while the server runs.
 */
export async function readStoredSecrets(
  dataDir: string,
  databaseUrl: string | undefined,
): Promise<StoredSecretRow[]> {
  if (databaseUrl !== undefined) {
    const connection = await createConnection(databaseUrl);
    try {
      const [rows] = await connection.query(SELECT_SECRETS);
      return rows as StoredSecretRow[];
    } finally {
      await connection.end();
    }
  }
  const database = new Database(join(dataDir, 'kriten.sqlite'), { readonly: true });
  try {
    return database.prepare(SELECT_SECRETS).all() as StoredSecretRow[];
  } finally {
    database.close();
  }
}

/** Returns the SQLite database file and its write-ahead log as one latin1 text, to search bytes. */
export function readSqliteFiles(dataDir: string): string {
  return ['kriten.sqlite', 'kriten.sqlite-wal']
    .map((name) => join(dataDir, name))
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path).toString('latin1'))
    .join('');
}
