import { createHmac, hkdfSync, randomBytes } from 'node:crypto';

export const API_TOKEN_PREFIX = 'kri_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 43 base62 characters carry about 256 bits. */
const RANDOM_LENGTH = 43;
/** The largest multiple of 62 below 256: bytes at or above it are dropped so that no character is more likely. */
const UNBIASED_LIMIT = 248;

/** Generates `kri_` followed by 43 random base62 characters from the system's CSPRNG. */
export function generateApiToken(): string {
  let random = '';
  while (random.length < RANDOM_LENGTH) {
    for (const byte of randomBytes(64)) {
      if (byte < UNBIASED_LIMIT && random.length < RANDOM_LENGTH) {
        random += BASE62[byte % 62];
      }
    }
  }
  return `${API_TOKEN_PREFIX}${random}`;
}

/** Derives the key that hashes API tokens from the server's secret key, with HKDF-SHA256. */
export function deriveApiTokenKey(secretKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, 'kriten', 'api token hash', 32));
}

/** Returns the stored form of a token: HMAC-SHA256 under the derived key, as hex. */
export function hashApiToken(token: string, key: Buffer): string {
  return createHmac('sha256', key).update(token, 'utf8').digest('hex');
}
