import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { KeyMaterial } from '../config/key-material';
import { DomainError } from '../common/domain-error';
import { secretKeyProblem } from '../common/names';
import { SecretCipher } from './secret-cipher';
import { SecretEntity, SecretOwnerKind } from './secret.entity';
import { mergeSecrets } from './secret-merge';

/** Stores secrets encrypted; values leave this service only for job launches. */
@Injectable()
export class SecretsService {
  private readonly cipher: SecretCipher;

  constructor(
    @InjectRepository(SecretEntity) private readonly secrets: Repository<SecretEntity>,
    keys: KeyMaterial,
  ) {
    this.cipher = new SecretCipher(keys.secretKey);
  }

  /** Returns the decrypted values of one owner's secrets. */
  async read(
    kind: SecretOwnerKind,
    ownerName: string,
    manager?: EntityManager,
  ): Promise<Record<string, string>> {
    const repository = manager?.getRepository(SecretEntity) ?? this.secrets;
    const rows = await repository.findBy({ ownerKind: kind, ownerName });
    const values: Record<string, string> = {};
    for (const row of rows) {
      values[row.key] = this.cipher.decrypt(
        row.encryptedValue,
        associatedData(kind, ownerName, row.key),
      );
    }
    return values;
  }

  /** Returns the decrypted secrets of several owners with one query, keyed by `kind/owner`. */
  async readMany(
    owners: [SecretOwnerKind, string][],
  ): Promise<Map<string, Record<string, string>>> {
    const rows = await this.secrets.find({
      where: owners.map(([ownerKind, ownerName]) => ({ ownerKind, ownerName })),
    });
    const byOwner = new Map<string, Record<string, string>>(
      owners.map(([kind, name]) => [`${kind}/${name}`, {}]),
    );
    for (const row of rows) {
      byOwner.get(`${row.ownerKind}/${row.ownerName}`)![row.key] = this.cipher.decrypt(
        row.encryptedValue,
        associatedData(row.ownerKind, row.ownerName, row.key),
      );
    }
    return byOwner;
  }

  /** Returns the keys of one owner's secrets, without decrypting anything. */
  async keys(kind: SecretOwnerKind, ownerName: string): Promise<string[]> {
    const rows = await this.secrets.find({
      where: { ownerKind: kind, ownerName },
      select: { key: true },
      order: { key: 'ASC' },
    });
    return rows.map((row) => row.key);
  }

  /** Merges posted values into the stored ones (see mergeSecrets) inside the caller's transaction. */
  async merge(
    kind: SecretOwnerKind,
    ownerName: string,
    posted: Record<string, string>,
    manager: EntityManager,
  ): Promise<void> {
    const stored = await this.read(kind, ownerName, manager);
    await this.replace(kind, ownerName, mergeSecrets(stored, posted), manager);
  }

  /** Replaces all of one owner's secrets inside the caller's transaction. */
  async replace(
    kind: SecretOwnerKind,
    ownerName: string,
    values: Record<string, string>,
    manager: EntityManager,
  ): Promise<void> {
    const repository = manager.getRepository(SecretEntity);
    await repository.delete({ ownerKind: kind, ownerName });
    const rows = Object.entries(values).map(([key, value]) =>
      repository.create({
        ownerKind: kind,
        ownerName,
        key,
        encryptedValue: this.cipher.encrypt(value, associatedData(kind, ownerName, key)),
      }),
    );
    if (rows.length > 0) {
      await repository.insert(rows);
    }
  }

  async deleteAll(kind: SecretOwnerKind, ownerName: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(SecretEntity).delete({ ownerKind: kind, ownerName });
  }
}

/** Checks the keys and values of a posted secret map; throws invalid_input naming the first problem. */
export function validateSecretMap(field: string, value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DomainError('invalid_input', `${field} must be an object of string values`);
  }
  for (const [key, item] of Object.entries(value)) {
    const problem = secretKeyProblem(key);
    if (problem) {
      throw new DomainError('invalid_input', `${field}: ${problem}`);
    }
    if (typeof item !== 'string') {
      throw new DomainError('invalid_input', `${field}: value of '${key}' must be a string`);
    }
  }
  return value as Record<string, string>;
}

function associatedData(kind: SecretOwnerKind, ownerName: string, key: string): string {
  return `${kind}/${ownerName}/${key}`;
}
