import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorLogger } from './local-executor-options';

const FLUSH_INTERVAL_MS = 1000;
const FLUSH_BATCH = 200;

/**
 * Deletes finished jobs' folders in batches. A folder is renamed into the trash at once, and
 * one `rm -rf` process deletes a whole batch later, which keeps the many small deletions off
 * the server's event loop while jobs are starting.
 */
export class Trash {
  private readonly dir: string;
  private pending = 0;
  private sequence = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly parentDir: string,
    private readonly logger: ExecutorLogger,
  ) {
    this.dir = join(parentDir, 'trash');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Removes trash left behind by an earlier process. */
  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const leftovers = (await readdir(this.parentDir)).filter((name) => name.startsWith('trash-'));
    await Promise.all(leftovers.map((name) => this.delete(join(this.parentDir, name))));
    this.pending = (await readdir(this.dir)).length;
    if (this.pending > 0) {
      this.scheduleFlush();
    }
  }

  /** Moves a folder out of the way; it is deleted with the next batch. */
  async discard(path: string, name: string): Promise<void> {
    await rename(path, join(this.dir, `${name}-${++this.sequence}`));
    this.pending++;
    if (this.pending >= FLUSH_BATCH) {
      void this.flush();
    } else {
      this.scheduleFlush();
    }
  }

  /** Deletes everything in the trash now. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.flushing || this.pending === 0) {
      return this.flushing;
    }
    this.pending = 0;
    this.flushing = this.flushBatch().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushBatch(): Promise<void> {
    const batch = join(this.parentDir, `trash-${Date.now()}-${this.sequence}`);
    await rename(this.dir, batch);
    await mkdir(this.dir, { recursive: true });
    await this.delete(batch);
  }

  private scheduleFlush(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Deletes a folder with one process; a job may have made folders read-only, so they are made writable first. */
  private delete(path: string): Promise<void> {
    return new Promise((resolve) => {
      const child = spawn(
        '/bin/sh',
        ['-c', 'chmod -R u+rwx -- "$1" 2>/dev/null; rm -rf -- "$1"', 'sh', path],
        {
          stdio: 'ignore',
        },
      );
      child.once('error', (error) => {
        this.logger.warn(`deleting ${path} failed: ${error.message}`);
        resolve();
      });
      child.once('exit', (code) => {
        if (code !== 0) {
          this.logger.warn(`deleting ${path} failed: rm exited with code ${code}`);
        }
        resolve();
      });
    });
  }
}
