import { randomBytes } from 'node:crypto';
import { deriveApiTokenKey, generateApiToken, hashApiToken } from './api-token-secret';

describe('api token secrets', () => {
  it('token has prefix and base62 body', () => {
    const token = generateApiToken();

    expect(token).toMatch(/^kri_[0-9A-Za-z]{43}$/);
  });

  it('tokens differ', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateApiToken()));

    expect(tokens.size).toBe(1000);
  });

  it('every base62 character occurs', () => {
    const characters = new Set(
      Array.from({ length: 200 }, () => generateApiToken().slice(4)).join(''),
    );

    expect(characters.size).toBe(62);
  });

  it('hash depends on the key', () => {
    const token = generateApiToken();
    const first = hashApiToken(token, deriveApiTokenKey(randomBytes(32)));
    const second = hashApiToken(token, deriveApiTokenKey(randomBytes(32)));

    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(first).not.toBe(second);
  });

  it('hash is stable for one key', () => {
    const key = deriveApiTokenKey(Buffer.alloc(32, 7));
    const token = generateApiToken();

    expect(hashApiToken(token, key)).toBe(hashApiToken(token, key));
  });

  it('derived key differs from the secret key', () => {
    const secretKey = randomBytes(32);

    expect(deriveApiTokenKey(secretKey).equals(secretKey)).toBe(false);
  });
});
