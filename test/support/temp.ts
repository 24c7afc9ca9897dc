import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Creates a temporary folder inside the test run's folder, which the global teardown removes. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(process.env.KRITEN_TEST_TMPDIR ?? tmpdir(), prefix));
}
