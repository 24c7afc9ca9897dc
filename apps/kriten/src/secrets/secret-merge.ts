/**
 * Value shown in place of every stored secret value. Posting it back for a key keeps the
 * stored value, so a client can send a masked secret back unchanged.
 */
export const SECRET_MASK = '************';

// The functions below build results with Object.fromEntries, which defines own properties:
// plain assignment of a key such as '__proto__', a valid secret key, would set the prototype.

/**
 * Applies posted secret values to the stored ones. A new key is added and a changed value
 * replaces the stored one. An empty string deletes the key. SECRET_MASK keeps the stored
 * value, and is ignored for a key that is not stored.
 */
export function mergeSecrets(
  stored: Record<string, string>,
  posted: Record<string, string>,
): Record<string, string> {
  const merged = new Map(Object.entries(stored));

  for (const [key, value] of Object.entries(posted)) {
    if (value === SECRET_MASK) {
      continue;
    }
    if (value === '') {
      merged.delete(key);
      continue;
    }
    merged.set(key, value);
  }
  return Object.fromEntries(merged);
}

/** Replaces every secret value with SECRET_MASK, keeping the keys. */
export function maskSecrets(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(values).map((key) => [key, SECRET_MASK]));
}

/** Maps each stored key to SECRET_MASK, for reads that list keys without decrypting values. */
export function maskKeys(keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.map((key) => [key, SECRET_MASK]));
}

/** Combines the secrets of a runner and of one of its tasks. A task value wins over a runner value. */
export function mergeRunnerAndTaskSecrets(
  runner: Record<string, string>,
  task: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries([...Object.entries(runner), ...Object.entries(task)]);
}
