import { open, type FileHandle } from 'node:fs/promises';

/** How often a followed output file is checked for new bytes, in milliseconds. */
const FOLLOW_INTERVAL_MS = 100;

const READ_SIZE = 64 * 1024;

/**
 * Streams an output file from its beginning while a job writes it, and ends after the last
 * bytes once `ended` returns true, or when the signal aborts. `ready` resolves when the file
 * exists. Bytes are decoded as UTF-8 across chunk boundaries.
 */
export async function* followOutputFile(
  path: string,
  ready: () => boolean,
  ended: () => boolean,
  signal: AbortSignal,
): AsyncGenerator<string> {
  while (!ready()) {
    if (ended() || signal.aborted) {
      return;
    }
    await pause(signal);
  }

  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch {
    return;
  }
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const buffer = Buffer.alloc(READ_SIZE);
  let position = 0;
  try {
    while (!signal.aborted) {
      // Checked before reading, so the read after the job's end takes its last bytes.
      const finished = ended();
      const { bytesRead } = await file.read(buffer, 0, READ_SIZE, position);
      if (bytesRead > 0) {
        position += bytesRead;
        yield decoder.decode(buffer.subarray(0, bytesRead), { stream: true });
        continue;
      }
      if (finished) {
        break;
      }
      await pause(signal);
    }
  } finally {
    await file.close();
  }
  const rest = decoder.decode();
  if (rest.length > 0) {
    yield rest;
  }
}

function pause(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, FOLLOW_INTERVAL_MS);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
