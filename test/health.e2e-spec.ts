import { existsSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { DatabaseTarget, databaseTargets } from './support/databases';
import { ApiClient } from './support/http-client';
import { waitFor } from './support/job-fixtures';
import { KritenServer } from './support/kriten-server';
import { makeTempDir } from './support/temp';

jest.setTimeout(30_000);

// better-sqlite3 ships no type declarations; only these calls are used.
const Database = require('better-sqlite3') as new (path: string) => {
  exec(sql: string): void;
  close(): void;
};

/**
 * Takes the database away from a running server: MariaDB drops the whole database, and on
 * SQLite, whose open file cannot be taken away, a second connection drops the table that
 * the readiness check reads.
 */
async function removeDatabase(target: DatabaseTarget, server: KritenServer, url?: string) {
  if (target.name === 'mariadb') {
    const connection = await createConnection(url!);
    await connection.query(`DROP DATABASE \`${new URL(url!).pathname.slice(1)}\``);
    await connection.end();
    return;
  }
  const database = new Database(join(server.dataDir, 'kriten.sqlite'));
  database.exec('DROP TABLE migrations');
  database.close();
}

describe.each(databaseTargets())('health endpoints on $name', (target: DatabaseTarget) => {
  let databaseUrl: string | undefined;
  let server: KritenServer;
  let anonymous: ApiClient;

  beforeAll(async () => {
    databaseUrl = await target.create();
    server = await KritenServer.start({ databaseUrl });
    anonymous = new ApiClient(server.baseUrl);
  });

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    await target.drop(databaseUrl);
  });

  it('start logs no warning', () => {
    expect(server.logs).not.toMatch(/\bWARN\b/);
  });

  it('liveness responds without credentials', async () => {
    const response = await anonymous.get('/healthz');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('readiness reports every check passing', async () => {
    const response = await anonymous.get('/readyz');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'ready',
      checks: [
        { name: 'database', status: 'ok' },
        { name: 'executor', status: 'ok' },
      ],
    });
  });

  it('probes live outside the API prefix', async () => {
    expect((await anonymous.get('/api/v1/healthz')).status).toBe(404);
    expect((await anonymous.get('/api/v1/readyz')).status).toBe(404);
  });

  it('OpenAPI marks both probes public', async () => {
    const document = (await anonymous.get('/swagger/doc.json')).body;

    expect(document.paths['/healthz'].get.security).toEqual([]);
    expect(document.paths['/readyz'].get.security).toEqual([]);
    expect(Object.keys(document.paths['/readyz'].get.responses)).toEqual(['200', '503']);
  });

  // Runs last in this block, because the server has no database afterwards.
  it('readiness fails once the database is gone', async () => {
    await removeDatabase(target, server, databaseUrl);

    const response = await waitFor('readiness to fail', async () => {
      const answer = await anonymous.get('/readyz');
      return answer.status === 200 ? undefined : answer;
    });

    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      status: 'not ready',
      checks: [
        {
          name: 'database',
          status: 'failed',
          message: 'the check failed: the cause is in the server log',
        },
        { name: 'executor', status: 'ok' },
      ],
    });
    expect(server.logs).toContain("readiness check 'database' failed");
    expect((await anonymous.get('/healthz')).status).toBe(200);
  });
});

/** Returns the path of a tool on this machine's PATH, as the server would find it. */
function locate(tool: string): string {
  const directory = (process.env.PATH ?? '/usr/bin:/bin')
    .split(':')
    .find((candidate) => candidate !== '' && existsSync(join(candidate, tool)));
  if (directory === undefined) {
    throw new Error(`${tool} is not on PATH, and this test needs it`);
  }
  return join(directory, tool);
}

describe('executor readiness', () => {
  let binDir: string;
  let server: KritenServer;
  let anonymous: ApiClient;

  beforeAll(async () => {
    // A PATH of its own, so that the test can take bubblewrap away from a running server.
    binDir = makeTempDir('kriten-bin-');
    for (const tool of ['git', 'tar', 'sh', 'bwrap']) {
      symlinkSync(locate(tool), join(binDir, tool));
    }
    server = await KritenServer.start({ env: { PATH: binDir } });
    anonymous = new ApiClient(server.baseUrl);
  });

  afterAll(async () => {
    await server?.stop();
    server?.removeDataDir();
    rmSync(binDir, { recursive: true, force: true });
  });

  it('fails while bubblewrap is missing', async () => {
    unlinkSync(join(binDir, 'bwrap'));

    const response = await waitFor('readiness to fail', async () => {
      const answer = await anonymous.get('/readyz');
      return answer.status === 200 ? undefined : answer;
    });

    expect(response.status).toBe(503);
    expect(response.body.checks).toEqual([
      { name: 'database', status: 'ok' },
      {
        name: 'executor',
        status: 'failed',
        message: 'the check failed: the cause is in the server log',
      },
    ]);
    expect(server.logs).toContain(
      "readiness check 'executor' failed: the local executor cannot run jobs: bubblewrap (bwrap) is not installed",
    );
  });

  it('recovers once bubblewrap is back', async () => {
    symlinkSync(locate('bwrap'), join(binDir, 'bwrap'));

    const response = await waitFor('readiness to recover', async () => {
      const answer = await anonymous.get('/readyz');
      return answer.status === 200 ? answer : undefined;
    });

    expect(response.body.status).toBe('ready');
    expect(server.logs).toContain("readiness check 'executor' passes again");
  });
});
