import { mkdtemp, rm, truncate, writeFile, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  decodeOutput,
  OutputCollector,
  readCapturedOutputFile,
  TRUNCATION_MARKER_PREFIX,
} from './output-capture';

const REPLACEMENT = '\ufffd';

function markerLine(omittedBytes: number): string {
  return `\n[kriten: output truncated, ${omittedBytes} bytes omitted]\n`;
}

/** Counts the bytes of head and tail that survived, from the text around the marker line. */
function keptBytes(text: string): number {
  const markerStart = text.indexOf(`\n${TRUNCATION_MARKER_PREFIX}`);
  const markerEnd = text.indexOf(']\n', markerStart) + 2;
  return Buffer.byteLength(text.slice(0, markerStart)) + Buffer.byteLength(text.slice(markerEnd));
}

function omittedBytesOf(text: string): number {
  const match = /\[kriten: output truncated, (\d+) bytes omitted\]/.exec(text);
  if (match === null) {
    throw new Error(`no truncation line in ${JSON.stringify(text)}`);
  }
  return Number(match[1]);
}

describe('decodeOutput', () => {
  it('decodes short output whole', () => {
    const bytes = Buffer.from('hello\nworld\n');

    expect(decodeOutput(bytes, 100)).toEqual({
      text: 'hello\nworld\n',
      truncated: false,
      totalBytes: 12,
    });
  });

  it('decodes empty output', () => {
    expect(decodeOutput(Buffer.alloc(0), 10)).toEqual({
      text: '',
      truncated: false,
      totalBytes: 0,
    });
  });

  it('keeps output exactly at the cap', () => {
    const bytes = Buffer.from('0123456789');

    expect(decodeOutput(bytes, 10)).toEqual({
      text: '0123456789',
      truncated: false,
      totalBytes: 10,
    });
  });

  it('keeps multibyte output exactly at the cap', () => {
    const bytes = Buffer.from('é😀漢'); // 2 + 4 + 3 bytes

    expect(decodeOutput(bytes, 9)).toEqual({ text: 'é😀漢', truncated: false, totalBytes: 9 });
  });

  it('truncates one byte over the cap', () => {
    const bytes = Buffer.from('0123456789X');

    expect(decodeOutput(bytes, 10)).toEqual({
      text: '01234' + markerLine(1) + '6789X',
      truncated: true,
      totalBytes: 11,
    });
  });

  it('keeps head and tail halves', () => {
    const bytes = Buffer.from('a'.repeat(100) + 'b'.repeat(1000) + 'c'.repeat(100));

    const result = decodeOutput(bytes, 200);

    expect(result.text).toBe('a'.repeat(100) + markerLine(1000) + 'c'.repeat(100));
    expect(result.truncated).toBe(true);
    expect(result.totalBytes).toBe(1200);
  });

  it('gives the extra byte of an odd cap to the tail', () => {
    const bytes = Buffer.from('abcdefghijklmnopqrstuvwxyz');

    expect(decodeOutput(bytes, 5).text).toBe('ab' + markerLine(21) + 'xyz');
  });

  it('keeps only the truncation line at cap zero', () => {
    expect(decodeOutput(Buffer.from('abc'), 0)).toEqual({
      text: markerLine(3),
      truncated: true,
      totalBytes: 3,
    });
    expect(decodeOutput(Buffer.alloc(0), 0).truncated).toBe(false);
  });

  it('starts the truncation line with the prefix', () => {
    const { text } = decodeOutput(Buffer.from('x'.repeat(50)), 10);

    expect(text).toContain(`\n${TRUNCATION_MARKER_PREFIX}, 40 bytes omitted]\n`);
    expect(TRUNCATION_MARKER_PREFIX).toBe('[kriten: output truncated');
  });

  it('replaces invalid bytes with U+FFFD', () => {
    const bytes = Buffer.from([0x61, 0xff, 0x62, 0xc3, 0x28, 0x63, 0xed, 0xa0, 0x80]);

    const { text } = decodeOutput(bytes, 100);

    expect(text.startsWith(`a${REPLACEMENT}b${REPLACEMENT}(c`)).toBe(true);
    expect(text).not.toContain('\u00c3');
  });

  it('decodes invalid bytes the same way twice', () => {
    const bytes = Buffer.from([0xf0, 0x9f, 0x98, 0x61, 0xff, 0xfe, 0x80, 0x62, 0xe2, 0x82]);

    const first = decodeOutput(bytes, 100);
    const second = decodeOutput(Buffer.from(bytes), 100);

    expect(second).toEqual(first);
    expect(first.text).toContain(REPLACEMENT);
  });

  it('decodes invalid bytes in truncated output', () => {
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0x61]),
      Buffer.from('m'.repeat(100)),
      Buffer.from([0x62, 0xfe]),
    ]);

    const result = decodeOutput(bytes, 4);

    expect(result.text).toBe(`${REPLACEMENT}a` + markerLine(100) + `b${REPLACEMENT}`);
    expect(decodeOutput(bytes, 4)).toEqual(result);
  });

  it('keeps a byte order mark', () => {
    const bytes = Buffer.from('\ufeffhello');

    expect(decodeOutput(bytes, 100).text).toBe('\ufeffhello');
  });

  it('moves a head cut inside a character back', () => {
    // 'ab' then '€' (e2 82 ac): a 4-byte head would end after e2 82.
    const bytes = Buffer.from('ab€' + 'x'.repeat(20) + 'tail');

    const result = decodeOutput(bytes, 8);

    expect(result.text).toBe('ab' + markerLine(bytes.length - 6) + 'tail');
    expect(result.text).not.toContain(REPLACEMENT);
  });

  it('moves a tail cut inside a character forward', () => {
    // A 4-byte tail of 'head' + … + '😀' + 'z' starts inside the emoji (f0 9f 98 80).
    const bytes = Buffer.from('head' + 'x'.repeat(20) + '😀z');

    const result = decodeOutput(bytes, 8);

    expect(result.text).toBe('head' + markerLine(bytes.length - 5) + 'z');
    expect(result.text).not.toContain(REPLACEMENT);
  });

  it('keeps a character ending at the head cut', () => {
    const bytes = Buffer.from('a€' + 'x'.repeat(20) + 'wxyz');

    expect(decodeOutput(bytes, 8).text).toBe('a€' + markerLine(20) + 'wxyz');
  });

  it('never splits multibyte characters at any cap', () => {
    const bytes = Buffer.from('é😀漢字 mixed ascii ü 𝄞 '.repeat(20));

    for (let maxBytes = 0; maxBytes < bytes.length; maxBytes++) {
      const result = decodeOutput(bytes, maxBytes);
      const omittedBytes = omittedBytesOf(result.text);

      expect(result.text).not.toContain(REPLACEMENT);
      expect(keptBytes(result.text)).toBeLessThanOrEqual(maxBytes);
      expect(keptBytes(result.text) + omittedBytes).toBe(bytes.length);
      expect(maxBytes - keptBytes(result.text)).toBeLessThanOrEqual(6);
    }
  });

  it('omits exactly the bytes over the cap for ASCII', () => {
    const bytes = Buffer.from('line of log output\n'.repeat(1000));

    for (const maxBytes of [1, 2, 99, 100, 1001, bytes.length - 1]) {
      const result = decodeOutput(bytes, maxBytes);

      expect(omittedBytesOf(result.text)).toBe(bytes.length - maxBytes);
      expect(keptBytes(result.text)).toBe(maxBytes);
    }
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects maxBytes %p', (maxBytes) => {
    expect(() => decodeOutput(Buffer.from('abc'), maxBytes)).toThrow(RangeError);
    expect(() => decodeOutput(Buffer.from('abc'), maxBytes)).toThrow(`maxBytes ${maxBytes}`);
  });
});

describe('readCapturedOutputFile', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'kriten-output-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function writeOutputFile(content: Buffer | string): Promise<string> {
    const path = join(directory, 'output.log');
    await writeFile(path, content);
    return path;
  }

  it('reads a small file whole', async () => {
    const path = await writeOutputFile('hello\nwörld\n');

    await expect(readCapturedOutputFile(path, 100)).resolves.toEqual({
      text: 'hello\nwörld\n',
      truncated: false,
      totalBytes: 13,
    });
  });

  it('reads an empty file', async () => {
    const path = await writeOutputFile('');

    await expect(readCapturedOutputFile(path, 100)).resolves.toEqual({
      text: '',
      truncated: false,
      totalBytes: 0,
    });
  });

  it('reads a file exactly at the cap', async () => {
    const path = await writeOutputFile('0123456789');

    const result = await readCapturedOutputFile(path, 10);

    expect(result).toEqual({ text: '0123456789', truncated: false, totalBytes: 10 });
  });

  it('truncates a large file like decodeOutput', async () => {
    const content = Buffer.from(
      Array.from({ length: 50_000 }, (_, index) => `line ${index} é😀\n`).join(''),
    );
    const path = await writeOutputFile(content);

    for (const maxBytes of [0, 1, 7, 1000, 4097, 65_536, content.length - 1]) {
      const result = await readCapturedOutputFile(path, maxBytes);

      expect(result).toEqual(decodeOutput(content, maxBytes));
      expect(result.truncated).toBe(true);
      expect(result.totalBytes).toBe(content.length);
    }
  });

  it('decodes invalid bytes like decodeOutput', async () => {
    const content = Buffer.from([0xff, 0x61, 0xe2, 0x82, 0x62, 0xc0, 0xaf, 0x63]);
    const path = await writeOutputFile(content);

    await expect(readCapturedOutputFile(path, 100)).resolves.toEqual(decodeOutput(content, 100));
    await expect(readCapturedOutputFile(path, 4)).resolves.toEqual(decodeOutput(content, 4));
  });

  it('reads only head and tail of a huge file', async () => {
    // fs.readFile rejects this 8 GiB sparse file with ERR_FS_FILE_TOO_LARGE on Node 20.
    const path = await writeOutputFile('first line\n');
    const size = 8 * 1024 * 1024 * 1024;
    await truncate(path, size);
    const file = await open(path, 'r+');
    await file.write(Buffer.from('\nlast line\n'), 0, 11, size - 11);
    await file.close();

    const result = await readCapturedOutputFile(path, 22);

    expect(result).toEqual({
      text: 'first line\n' + markerLine(size - 22) + '\nlast line\n',
      truncated: true,
      totalBytes: size,
    });
  });

  it('rejects a missing file', async () => {
    const path = join(directory, 'missing.log');

    await expect(readCapturedOutputFile(path, 100)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects an invalid maxBytes', async () => {
    const path = await writeOutputFile('abc');

    await expect(readCapturedOutputFile(path, -5)).rejects.toThrow(RangeError);
  });
});

describe('OutputCollector', () => {
  function collect(chunks: Buffer[], maxBytes: number) {
    const collector = new OutputCollector(maxBytes);
    chunks.forEach((chunk) => collector.write(chunk));
    return collector.finish();
  }

  it('keeps short output whole', () => {
    expect(collect([Buffer.from('hello '), Buffer.from('world\n')], 100)).toEqual(
      decodeOutput(Buffer.from('hello world\n'), 100),
    );
  });

  it('matches decodeOutput on long output in small chunks', () => {
    const text = Buffer.from('0123456789abcdefghij'.repeat(50) + 'ü€😀'.repeat(40));
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < text.length; offset += 7) {
      chunks.push(text.subarray(offset, offset + 7));
    }
    for (const maxBytes of [0, 1, 10, 99, 100, 1000, text.length, text.length + 1]) {
      expect(collect(chunks, maxBytes)).toEqual(decodeOutput(text, maxBytes));
    }
  });

  it('matches decodeOutput with one large chunk', () => {
    const text = Buffer.from('x'.repeat(5000));
    expect(collect([text], 64)).toEqual(decodeOutput(text, 64));
  });
});
