import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Secret keys follow the rule for Kubernetes Secret keys, which also makes them file names. */
const SECRET_KEY_PATTERN = /^[-._a-zA-Z0-9]+$/;

/** Job ids are `<task>-<5 characters>`; this also keeps them single path segments. */
const JOB_ID_PATTERN = /^[a-zA-Z0-9][-._a-zA-Z0-9]*$/;

/** Returns why a job id cannot name a work folder, or undefined when it can. */
export function checkJobId(jobId: string): string | undefined {
  if (JOB_ID_PATTERN.test(jobId) && jobId.length <= 253) {
    return undefined;
  }
  return `job id '${jobId}' is invalid: use letters, digits, '-', '.' and '_'`;
}

/** Returns why a set of secrets cannot be given to a job, or undefined when it can. */
export function checkSecrets(secrets: Record<string, string>): string | undefined {
  for (const [key, value] of Object.entries(secrets)) {
    if (!SECRET_KEY_PATTERN.test(key) || key === '.' || key === '..') {
      return `secret key '${key}' is invalid: use letters, digits, '-', '.' and '_'`;
    }
    if (value.includes('\0')) {
      return `secret '${key}' contains a NUL byte, which an environment variable cannot hold`;
    }
  }
  return undefined;
}

/**
 * A job's folder `<workDir>/<jobId>`: the writable checkout, the secret files and the output
 * file. Inside the sandbox only the checkout is visible, and the secret folder at /etc/secret.
 */
export class JobWorkspace {
  readonly dir: string;
  readonly checkoutDir: string;
  readonly secretDir: string;
  readonly outputPath: string;

  constructor(workDir: string, jobId: string) {
    this.dir = join(workDir, jobId);
    this.checkoutDir = join(this.dir, 'checkout');
    this.secretDir = join(this.dir, 'secret');
    this.outputPath = join(this.dir, 'output.log');
  }

  /** Creates the folder and writes each secret as a file of mode 0400; the checkout comes later. */
  async create(secrets: Record<string, string>): Promise<void> {
    await mkdir(this.dir, { mode: 0o700 });
    await mkdir(this.secretDir, { mode: 0o700 });
    for (const [key, value] of Object.entries(secrets)) {
      await writeFile(join(this.secretDir, key), value, { mode: 0o400, flag: 'wx' });
    }
  }

  /** Deletes the folder with everything in it. */
  async remove(): Promise<void> {
    await removeTree(this.dir);
  }
}

/**
 * Deletes a folder tree. A job may have removed the write permission from folders in its
 * checkout, which stops a non-root server from deleting their entries, so on failure every
 * folder is made writable and the deletion is tried once more.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch {
    await makeFoldersWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}

async function makeFoldersWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) {
      await makeFoldersWritable(join(dir, entry.name));
    }
  }
}
