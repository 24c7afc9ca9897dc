import { open, type FileHandle } from 'node:fs/promises';

/** Output of a job as stored: the whole text, or its head and tail around a truncation line. */
export interface CapturedOutput {
  text: string;
  truncated: boolean;
  /** Size of the original output in bytes, before truncation. */
  totalBytes: number;
}

/** Start of the line that replaces the omitted middle of a truncated output. */
export const TRUNCATION_MARKER_PREFIX = '[kriten: output truncated';

/**
 * Decodes job output as UTF-8, keeping at most maxBytes bytes.
 *
 * Longer output keeps its first and last maxBytes / 2 bytes with a truncation line between
 * them. Both cuts move to a character boundary, so valid UTF-8 gains no replacement
 * characters, and the line states the exact number of bytes omitted. Invalid bytes decode to
 * U+FFFD, so the same bytes always give the same text.
 */
export function decodeOutput(bytes: Buffer, maxBytes: number): CapturedOutput {
  checkMaxBytes(maxBytes);

  if (bytes.length <= maxBytes) {
    return { text: decodeUtf8(bytes), truncated: false, totalBytes: bytes.length };
  }

  const { headLength, tailLength } = splitMaxBytes(maxBytes);
  const head = bytes.subarray(0, headLength);
  const tail = bytes.subarray(bytes.length - tailLength);
  return joinHeadAndTail(head, tail, bytes.length);
}

/**
 * Reads and decodes an output file like decodeOutput. A file larger than maxBytes is read
 * only at its head and tail. Errors from the file system, such as ENOENT, are passed on.
 */
export async function readCapturedOutputFile(
  path: string,
  maxBytes: number,
): Promise<CapturedOutput> {
  checkMaxBytes(maxBytes);

  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size <= maxBytes) {
      return decodeOutput(await readBytes(file, 0, size), maxBytes);
    }

    const { headLength, tailLength } = splitMaxBytes(maxBytes);
    const head = await readBytes(file, 0, headLength);
    const tail = await readBytes(file, size - tailLength, tailLength);
    return joinHeadAndTail(head, tail, size);
  } finally {
    await file.close();
  }
}

/** Reads until length bytes or the end of the file, because one read may return fewer bytes. */
async function readBytes(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) {
      break;
    }
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * Collects output that arrives in chunks, such as a container log read over HTTP, keeping only
 * what decodeOutput would keep: the whole output up to maxBytes, else its head and tail.
 */
export class OutputCollector {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  /** The latest chunks, dropped from the front once the rest still covers tailLength bytes. */
  private readonly tail: Buffer[] = [];
  private tailBytes = 0;
  private totalBytes = 0;
  private readonly headLength: number;
  private readonly tailLength: number;

  constructor(private readonly maxBytes: number) {
    checkMaxBytes(maxBytes);
    ({ headLength: this.headLength, tailLength: this.tailLength } = splitMaxBytes(maxBytes));
  }

  write(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    // Up to maxBytes the output may still fit whole, so the head keeps that much until it does not.
    const headRoom = this.maxBytes - this.headBytes;
    if (headRoom > 0) {
      const part = chunk.subarray(0, headRoom);
      this.head.push(part);
      this.headBytes += part.length;
    }
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tail.length > 1 && this.tailBytes - this.tail[0].length >= this.tailLength) {
      this.tailBytes -= this.tail.shift()!.length;
    }
  }

  finish(): CapturedOutput {
    const head = Buffer.concat(this.head);
    if (this.totalBytes <= this.maxBytes) {
      return decodeOutput(head, this.maxBytes);
    }
    const tail = Buffer.concat(this.tail);
    return joinHeadAndTail(
      head.subarray(0, this.headLength),
      tail.subarray(tail.length - Math.min(tail.length, this.tailLength)),
      this.totalBytes,
    );
  }
}

function checkMaxBytes(maxBytes: number): void {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(
      `maxBytes ${maxBytes} is invalid: pass a non-negative integer number of bytes`,
    );
  }
}

function splitMaxBytes(maxBytes: number): { headLength: number; tailLength: number } {
  const headLength = Math.floor(maxBytes / 2);
  return { headLength, tailLength: maxBytes - headLength };
}

function joinHeadAndTail(head: Buffer, tail: Buffer, totalBytes: number): CapturedOutput {
  const keptHead = head.subarray(0, endOfLastWholeCharacter(head));
  const keptTail = tail.subarray(startOfFirstWholeCharacter(tail));
  const omittedBytes = totalBytes - keptHead.length - keptTail.length;

  const marker = `\n${TRUNCATION_MARKER_PREFIX}, ${omittedBytes} bytes omitted]\n`;
  const text = decodeUtf8(keptHead) + marker + decodeUtf8(keptTail);
  return { text, truncated: true, totalBytes };
}

// ignoreBOM keeps a byte order mark as U+FEFF, where the default would drop it from the text.
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

function isContinuationByte(byte: number): boolean {
  return (byte & 0b1100_0000) === 0b1000_0000;
}

/** Length of the UTF-8 sequence that a lead byte starts, or 0 for a byte that starts none. */
function sequenceLength(leadByte: number): number {
  if (leadByte < 0x80) {
    return 1;
  }
  if (leadByte >= 0xc2 && leadByte <= 0xdf) {
    return 2;
  }
  if (leadByte >= 0xe0 && leadByte <= 0xef) {
    return 3;
  }
  if (leadByte >= 0xf0 && leadByte <= 0xf4) {
    return 4;
  }
  return 0;
}

/**
 * Finds where the head must end so that it does not stop inside a character. Invalid bytes at
 * the end are kept, because they decode to U+FFFD either way.
 */
function endOfLastWholeCharacter(head: Uint8Array): number {
  const earliest = Math.max(0, head.length - 3);
  for (let index = head.length - 1; index >= earliest; index--) {
    if (isContinuationByte(head[index])) {
      continue;
    }

    const length = sequenceLength(head[index]);
    const available = head.length - index;
    return length > available ? index : head.length;
  }
  return head.length;
}

/**
 * Finds where the tail's first character starts. Up to three leading continuation bytes are
 * skipped: they finish a character cut by the truncation, or are invalid and would decode to
 * U+FFFD. They count as omitted bytes.
 */
function startOfFirstWholeCharacter(tail: Uint8Array): number {
  let index = 0;
  while (index < 3 && index < tail.length && isContinuationByte(tail[index])) {
    index++;
  }
  return index;
}
