import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trash } from './trash';

const silentLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe('Trash', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(process.env.KRITEN_TEST_TMPDIR ?? tmpdir(), 'kriten-trash-'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function makeJobFolder(name: string): string {
    const folder = join(root, 'work', name);
    mkdirSync(join(folder, 'checkout', 'nested'), { recursive: true });
    writeFileSync(join(folder, 'checkout', 'nested', 'file.txt'), 'content');
    return folder;
  }

  it('moves a discarded folder out at once', async () => {
    const trash = new Trash(join(root, 'discarded'), silentLogger);
    const folder = makeJobFolder('job-aaaaa');

    await trash.discard(folder, 'job-aaaaa');

    expect(existsSync(folder)).toBe(false);
    await trash.flush();
  });

  it('deletes discarded folders on flush', async () => {
    const trash = new Trash(join(root, 'discarded'), silentLogger);
    await trash.discard(makeJobFolder('job-aaaaa'), 'job-aaaaa');
    await trash.discard(makeJobFolder('job-bbbbb'), 'job-bbbbb');

    await trash.flush();

    expect(readdirSync(join(root, 'discarded'))).toEqual(['trash']);
    expect(readdirSync(join(root, 'discarded', 'trash'))).toEqual([]);
  });

  it('deletes folders a job made read-only', async () => {
    const trash = new Trash(join(root, 'discarded'), silentLogger);
    const folder = makeJobFolder('job-ccccc');
    chmodSync(join(folder, 'checkout', 'nested'), 0o500);

    await trash.discard(folder, 'job-ccccc');
    await trash.flush();

    expect(readdirSync(join(root, 'discarded', 'trash'))).toEqual([]);
    expect(readdirSync(join(root, 'discarded'))).toEqual(['trash']);
  });

  it('removes trash left by an earlier process', async () => {
    mkdirSync(join(root, 'discarded', 'trash-1-1', 'job-ddddd'), { recursive: true });
    mkdirSync(join(root, 'discarded', 'trash', 'job-eeeee-1'), { recursive: true });
    const trash = new Trash(join(root, 'discarded'), silentLogger);

    await trash.start();
    await trash.flush();

    expect(readdirSync(join(root, 'discarded'))).toEqual(['trash']);
    expect(readdirSync(join(root, 'discarded', 'trash'))).toEqual([]);
  });
});
