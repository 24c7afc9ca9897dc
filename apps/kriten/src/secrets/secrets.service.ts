import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { DomainError } from '../common/domain-error';
import { secretKeyProblem } from '../common/names';
import { SecretEntity, SecretOwnerKind } from './secret.entity';
import { LaunchSecrets, SECRET_STORE, SecretChange, SecretStore } from './secret-store';

/**
 * Saves secrets with the configured SecretStore and lists their keys. Values leave this service
 * only for job launches, and only when the store keeps them in the database.
 */
@Injectable()
export class SecretsService {
  constructor(
    @InjectRepository(SecretEntity) private readonly secrets: Repository<SecretEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(SECRET_STORE) private readonly store: SecretStore,
  ) {}

  /**
   * READ COMMITTED on MySQL and MariaDB. Under their default REPEATABLE READ, replacing the
   * secret rows of one owner takes gap locks that reach the rows of the next owner, so saves to
   * two owners at once could deadlock. The owner's row lock already orders saves to one owner.
   * SQLite runs one transaction at a time and keeps its default.
   */
  private get isolationLevel(): IsolationLevel {
    return this.dataSource.options.type === 'mysql' ? 'READ COMMITTED' : 'SERIALIZABLE';
  }

  /** Location of the values: the database, or Kubernetes Secrets. */
  get location(): SecretStore['location'] {
    return this.store.location;
  }

  /**
   * Applies secret changes together with the caller's database writes, in one transaction.
   * writeRecords runs first and must lock or insert the owners' rows, as the runners and tasks
   * services do. Saves to one owner then run one after another, and a duplicate create fails
   * before any value is written. Values kept outside the database are
   * written next; a failure there rolls the transaction back and leaves the database unchanged.
   */
  async save<T>(
    changes: SecretChange[],
    writeRecords: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    return this.dataSource.transaction(this.isolationLevel, async (manager) => {
      const result = await writeRecords(manager);
      const staged = await this.store.stage(changes);
      await this.store.record(staged, manager);
      return result;
    });
  }

  /** Returns the keys of one owner's secrets, without reading any value. */
  async keys(kind: SecretOwnerKind, ownerName: string): Promise<string[]> {
    const rows = await this.secrets.find({
      where: { ownerKind: kind, ownerName },
      select: { key: true },
      order: { key: 'ASC' },
    });
    return rows.map((row) => row.key);
  }

  /** Reads what a job of the task needs: values from the database store, keys from Kubernetes. */
  readForLaunch(runner: string, task: string): Promise<LaunchSecrets> {
    return this.store.readForLaunch(runner, task);
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
