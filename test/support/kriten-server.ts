import { ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './temp';

// KRITEN_TEST_SERVER_MAIN runs a copy of the build, so that a rebuild of dist/ during the run
// does not pull the server away.
const MAIN =
  process.env.KRITEN_TEST_SERVER_MAIN ?? join(__dirname, '../../dist/apps/kriten/src/main.js');
export const ROOT_PASSWORD = 'root-password-for-tests';

export interface StartOptions {
  /** Reuse a data directory, to restart a server on the same state. */
  dataDir?: string;
  databaseUrl?: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /**
   * A command and its arguments that run the server, such as bwrap with its mounts; the node
   * binary and the server's main.js are appended. Stopping the server signals this command.
   */
  wrapper?: string[];
}

/** Returns the program and arguments that start the server, inside wrapper when given. */
function serverCommand(wrapper: string[] = []): [string, string[]] {
  const command = [...wrapper, process.execPath, MAIN];
  return [command[0], command.slice(1)];
}

/** A Kriten server started from the build in dist/, as `npm start` runs it, on a random port. */
export class KritenServer {
  private output = '';

  private constructor(
    private readonly process: ChildProcess,
    readonly dataDir: string,
    readonly port: number,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Everything the server printed so far. */
  get logs(): string {
    return this.output;
  }

  static async start(options: StartOptions = {}): Promise<KritenServer> {
    const dataDir = options.dataDir ?? makeTempDir('kriten-e2e-');
    const [program, args] = serverCommand(options.wrapper);
    const child = spawn(program, args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        PORT: '0',
        KRITEN_LISTEN_HOST: '127.0.0.1',
        KRITEN_DATA_DIR: dataDir,
        KRITEN_ROOT_PASSWORD: ROOT_PASSWORD,
        KRITEN_LOG_LEVEL: 'debug',
        KRITEN_REPO_REFRESH_SECONDS: '1',
        // Suites log in far more often than a person would; the login limit has its own tests.
        KRITEN_LOGIN_RATE_LIMIT: '100000',
        ...(options.databaseUrl && { KRITEN_DATABASE_URL: options.databaseUrl }),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });

    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `server did not start within ${options.startTimeoutMs ?? 30000} ms:\n${output}`,
            ),
          ),
        options.startTimeoutMs ?? 30_000,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on \S+ port (\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          child.stderr!.off('data', onData);
          resolve(Number(match[1]));
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with code ${code} before listening:\n${output}`));
      });
    });

    const server = new KritenServer(child, dataDir, port);
    server.output = output;
    child.stdout!.on('data', (chunk: Buffer) => (server.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (server.output += chunk.toString()));
    return server;
  }

  /** Stops the server; SIGKILL simulates a crash. Resolves once the process has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.kill(signal);
    await exited;
  }

  removeDataDir(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Runs a server start that must fail, and returns its exit code and output. */
export async function startExpectingFailure(
  env: Record<string, string>,
  options: Pick<StartOptions, 'wrapper'> = {},
): Promise<{ code: number | null; output: string }> {
  const dataDir = makeTempDir('kriten-e2e-');
  const [program, args] = serverCommand(options.wrapper);
  const child = spawn(program, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: '0', KRITEN_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) =>
    child.once('exit', (exitCode) => resolve(exitCode)),
  );
  rmSync(dataDir, { recursive: true, force: true });
  return { code, output };
}
