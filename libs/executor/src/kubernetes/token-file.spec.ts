import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RotatingTokenFile } from './token-file';

describe('RotatingTokenFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kriten-token-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the token without its newline', () => {
    writeFileSync(join(dir, 'token'), 'first-token\n');
    expect(new RotatingTokenFile(join(dir, 'token')).read()).toBe('first-token');
  });

  it('returns a replaced token at once', () => {
    const path = join(dir, 'token');
    writeFileSync(path, 'first-token');
    const file = new RotatingTokenFile(path);
    expect(file.read()).toBe('first-token');

    // The kubelet swaps the file atomically, as a rename does.
    writeFileSync(join(dir, 'token.new'), 'second-token');
    renameSync(join(dir, 'token.new'), path);
    expect(file.read()).toBe('second-token');
  });

  it('throws when the file is missing', () => {
    expect(() => new RotatingTokenFile(join(dir, 'missing')).read()).toThrow(/ENOENT/);
  });
});
