import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';

/** A database an e2e suite runs against: SQLite always, MySQL/MariaDB when a URL is given. */
export interface DatabaseTarget {
  name: 'sqlite' | 'mariadb';
  /** Creates an empty database and returns the URL the server should use (undefined for SQLite). */
  create(): Promise<string | undefined>;
  drop(url: string | undefined): Promise<void>;
}

const sqlite: DatabaseTarget = {
  name: 'sqlite',
  create: async () => undefined,
  drop: async () => undefined,
};

function mariadb(serverUrl: string): DatabaseTarget {
  const admin = async () => {
    const url = new URL(serverUrl);
    url.pathname = '/';
    return createConnection(url.toString());
  };
  return {
    name: 'mariadb',
    async create() {
      const name = `kriten_e2e_${randomBytes(4).toString('hex')}`;
      const connection = await admin();
      await connection.query(
        `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
      );
      await connection.end();
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async drop(url) {
      if (!url) return;
      const name = new URL(url).pathname.slice(1);
      const connection = await admin();
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

/** SQLite, plus MariaDB when KRITEN_TEST_DATABASE_URL is set (mysql://user@host:port/anything). */
export function databaseTargets(): DatabaseTarget[] {
  const url = process.env.KRITEN_TEST_DATABASE_URL;
  return url ? [sqlite, mariadb(url)] : [sqlite];
}
