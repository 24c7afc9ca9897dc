/** Result of a job, taken from its output. Both fields are null when the output has no result. */
export interface JsonResult {
  /** JSON text exactly as the job printed it, without the whitespace around the value. */
  jsonText: string | null;
  /** Reason the text between the markers was rejected, or null. */
  jsonError: string | null;
}

const MARKER = '^JSON';
const JSON_WHITESPACE = new Set([' ', '\t', '\n', '\r']);

interface Line {
  start: number;
  /** Index after the line's `\n`, or the output length for the last line. */
  next: number;
}

/**
 * Extracts the job result: the JSON text between the first two lines that are exactly `^JSON`.
 *
 * The text is returned unchanged, apart from the JSON whitespace around the value, so number
 * spelling, key order and escapes stay as the job printed them. JSON.parse only validates it.
 */
export function parseJsonResult(output: string): JsonResult {
  const opening = findMarkerLine(output, 0);
  if (opening === null) {
    return { jsonText: null, jsonError: null };
  }

  const closing = findMarkerLine(output, opening.next);
  if (closing === null) {
    return { jsonText: null, jsonError: null };
  }

  const jsonText = trimJsonWhitespace(output.slice(opening.next, closing.start));
  return validateJson(jsonText);
}

/** Scans line by line with indexOf, so the cost is linear in the output length. */
function findMarkerLine(output: string, from: number): Line | null {
  let start = from;
  while (start < output.length) {
    const newline = output.indexOf('\n', start);
    const end = newline === -1 ? output.length : newline;
    const next = newline === -1 ? output.length : newline + 1;

    if (isMarkerLine(output, start, end)) {
      return { start, next };
    }
    start = next;
  }
  return null;
}

/** Checks for a marker line. It may end with `\r`, as scripts with Windows line endings print it. */
function isMarkerLine(output: string, start: number, end: number): boolean {
  if (!output.startsWith(MARKER, start)) {
    return false;
  }

  const length = end - start;
  if (length === MARKER.length) {
    return true;
  }
  return length === MARKER.length + 1 && output[end - 1] === '\r';
}

/** String.prototype.trim would also remove Unicode spaces, which JSON.parse rejects. */
function trimJsonWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && JSON_WHITESPACE.has(text[start])) {
    start++;
  }
  while (end > start && JSON_WHITESPACE.has(text[end - 1])) {
    end--;
  }
  return text.slice(start, end);
}

function validateJson(jsonText: string): JsonResult {
  if (jsonText === '') {
    return {
      jsonText: null,
      jsonError:
        'invalid JSON between ^JSON markers: the markers enclose no text; ' +
        'print one JSON value between the two ^JSON lines',
    };
  }

  try {
    JSON.parse(jsonText);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { jsonText: null, jsonError: `invalid JSON between ^JSON markers: ${message}` };
  }
  return { jsonText, jsonError: null };
}
