import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { startExpectingFailure } from './support/kriten-server';
import { makeTempDir } from './support/temp';

describe('startup without bubblewrap', () => {
  let binDir: string;

  beforeAll(() => {
    // A PATH that has git and tar but no bwrap, as on a machine where bubblewrap is missing.
    binDir = makeTempDir('kriten-bin-');
    for (const tool of ['git', 'tar', 'sh']) {
      symlinkSync(`/usr/bin/${tool}`, join(binDir, tool));
    }
  });

  afterAll(() => rmSync(binDir, { recursive: true, force: true }));

  it('refuses to start', async () => {
    const { code } = await startExpectingFailure({ PATH: binDir });
    expect(code).toBe(1);
  });

  it('says how to install bubblewrap', async () => {
    const { output } = await startExpectingFailure({ PATH: binDir });
    expect(output).toContain('bubblewrap (bwrap) is not installed');
    expect(output).toContain('apt-get install bubblewrap');
  });
});
