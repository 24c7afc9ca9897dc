import { createHash } from 'node:crypto';

/** Maximum length of a label value that Kubernetes accepts. */
export const MAX_LABEL_VALUE_LENGTH = 63;

const LABEL_VALUE_PATTERN = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Hex digits of the hash that keeps two sanitised values apart. */
const HASH_LENGTH = 10;

export function isValidLabelValue(value: string): boolean {
  return value.length <= MAX_LABEL_VALUE_LENGTH && LABEL_VALUE_PATTERN.test(value);
}

/**
 * Turns any text, such as a user name with `@` or `\`, into a valid label value. A valid value
 * is kept as it is. Any other value becomes its readable part, with invalid characters replaced
 * by `-`, followed by `-` and a hash of the whole original, so that two different names never
 * share a value. Labels only select objects: the exact name lives in an annotation.
 */
export function toLabelValue(value: string): string {
  if (isValidLabelValue(value)) {
    return value;
  }

  const hash = createHash('sha256').update(value, 'utf8').digest('hex').slice(0, HASH_LENGTH);
  const readable = value
    .replace(/[^-A-Za-z0-9_.]/g, '-')
    .slice(0, MAX_LABEL_VALUE_LENGTH - HASH_LENGTH - 1)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
  return readable.length > 0 ? `${readable}-${hash}` : hash;
}
