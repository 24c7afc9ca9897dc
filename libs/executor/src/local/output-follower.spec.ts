import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followOutputFile } from './output-follower';

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const chunks: string[] = [];
  for await (const chunk of iterable) {
    chunks.push(chunk);
  }
  return chunks;
}

describe('followOutputFile', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kriten-follow-'));
    path = join(dir, 'output');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('streams bytes written while it follows, until the end', async () => {
    writeFileSync(path, 'first\n');
    let ended = false;
    const chunks: string[] = [];
    const following = (async () => {
      for await (const chunk of followOutputFile(
        path,
        () => true,
        () => ended,
        new AbortController().signal,
      )) {
        chunks.push(chunk);
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(chunks.join('')).toBe('first\n');
    appendFileSync(path, 'second\n');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(chunks.join('')).toBe('first\nsecond\n');

    appendFileSync(path, 'last\n');
    ended = true;
    await following;
    expect(chunks.join('')).toBe('first\nsecond\nlast\n');
  });

  it('keeps a character split across writes whole', async () => {
    const bytes = Buffer.from('ü€😀');
    writeFileSync(path, bytes.subarray(0, 1));
    let ended = false;
    const result = collect(
      followOutputFile(
        path,
        () => true,
        () => ended,
        new AbortController().signal,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    appendFileSync(path, bytes.subarray(1));
    ended = true;
    expect((await result).join('')).toBe('ü€😀');
  });

  it('ends at once for a job that ended before it started', async () => {
    const chunks = await collect(
      followOutputFile(
        path,
        () => false,
        () => true,
        new AbortController().signal,
      ),
    );
    expect(chunks).toEqual([]);
  });

  it('stops when the signal aborts', async () => {
    writeFileSync(path, 'running\n');
    const abort = new AbortController();
    const result = collect(
      followOutputFile(
        path,
        () => true,
        () => false,
        abort.signal,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    abort.abort();
    expect((await result).join('')).toBe('running\n');
  });
});
