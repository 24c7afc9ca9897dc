import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, KritenConfig, decodeSecretKey } from './kriten-config';

/** The keys that sign tokens and encrypt secrets. */
export class KeyMaterial {
  constructor(
    readonly jwtSecret: string,
    readonly secretKey: Buffer,
  ) {}
}

/** Takes the keys from the settings, or from files generated once into the data directory. */
export function loadKeyMaterial(config: KritenConfig): KeyMaterial {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  const jwtSecret = config.jwtSecret ?? readOrCreate(join(config.dataDir, 'jwt-secret'));
  const secretKeyText = config.secretKey ?? readOrCreate(join(config.dataDir, 'secret-key'));
  const secretKey = decodeSecretKey(secretKeyText);
  if (!secretKey) {
    throw new ConfigError(
      `invalid key in ${join(config.dataDir, 'secret-key')}: expected 64 hex characters; restore the file from a backup`,
    );
  }
  return new KeyMaterial(jwtSecret, secretKey);
}

function readOrCreate(path: string): string {
  if (existsSync(path)) {
    return readFileSync(path, 'utf8').trim();
  }
  const value = randomBytes(32).toString('hex');
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return value;
}
