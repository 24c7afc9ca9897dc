import { GIT_TOKEN_KEY } from '@kriten/executor/kubernetes/resource-names';
import { EntityManager, Repository } from 'typeorm';
import { writeLock } from '../common/row-locks';
import { SecretCipher } from './secret-cipher';
import { SecretEntity, SecretOwnerKind } from './secret.entity';
import { mergeSecrets } from './secret-merge';
import { LaunchSecrets, SecretChange, SecretStore, StagedSecretChange } from './secret-store';

/**
 * Keeps secret values in the database, encrypted with AES-256-GCM; the owner and key are bound
 * in as associated data, so a value moved to another row does not decrypt.
 */
export class DatabaseSecretStore implements SecretStore {
  readonly location = 'database';

  constructor(
    private readonly secrets: Repository<SecretEntity>,
    private readonly cipher: SecretCipher,
  ) {}

  /** Writes nothing: the values go into the database with the rows, in `record`. */
  async stage(changes: SecretChange[]): Promise<StagedSecretChange[]> {
    return changes.map((change) => ({ change }));
  }

  async record(staged: StagedSecretChange[], manager: EntityManager): Promise<void> {
    for (const { change } of staged) {
      const { kind, name } = change.owner;
      if (change.action === 'delete') {
        await manager.getRepository(SecretEntity).delete({ ownerKind: kind, ownerName: name });
        continue;
      }
      // The caller has locked the owner's row, and the read locks the secret rows too, so it
      // reads the latest committed values and two merges do not lose an update.
      const current = change.action === 'merge' ? await this.read(kind, name, manager) : {};
      const values =
        change.action === 'merge'
          ? mergeSecrets(current, change.posted)
          : mergeSecrets({}, change.values);
      await this.replaceRows(kind, name, values, manager);
    }
  }

  async readForLaunch(runner: string, task: string): Promise<LaunchSecrets> {
    const rows = await this.secrets.find({
      where: [
        { ownerKind: 'runner', ownerName: runner },
        { ownerKind: 'runner_git_token', ownerName: runner },
        { ownerKind: 'task', ownerName: task },
      ],
    });
    const values: Record<SecretOwnerKind, Record<string, string>> = {
      runner: {},
      runner_git_token: {},
      task: {},
    };
    for (const row of rows) {
      values[row.ownerKind][row.key] = this.decrypt(row);
    }
    const gitToken = values.runner_git_token[GIT_TOKEN_KEY];
    return {
      runnerValues: values.runner,
      taskValues: values.task,
      gitToken,
      runnerKeys: Object.keys(values.runner),
      taskKeys: Object.keys(values.task),
      hasGitToken: gitToken !== undefined,
    };
  }

  private async read(
    kind: SecretOwnerKind,
    ownerName: string,
    manager: EntityManager,
  ): Promise<Record<string, string>> {
    const rows = await manager
      .getRepository(SecretEntity)
      .find({ where: { ownerKind: kind, ownerName }, lock: writeLock(manager) });
    return Object.fromEntries(rows.map((row) => [row.key, this.decrypt(row)]));
  }

  private async replaceRows(
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

  private decrypt(row: SecretEntity): string {
    if (row.encryptedValue === null) {
      throw new Error(
        `secret '${row.key}' of ${row.ownerKind} '${row.ownerName}' has no value in the database: ` +
          `it was saved with KRITEN_EXECUTOR=kubernetes, where values live in Kubernetes Secrets; ` +
          `post the secret again to store it here`,
      );
    }
    return this.cipher.decrypt(
      row.encryptedValue,
      associatedData(row.ownerKind, row.ownerName, row.key),
    );
  }
}

function associatedData(kind: SecretOwnerKind, ownerName: string, key: string): string {
  return `${kind}/${ownerName}/${key}`;
}
