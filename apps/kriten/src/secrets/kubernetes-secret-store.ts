import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { Logger } from '@nestjs/common';
import { EntityManager, Repository } from 'typeorm';
import { DomainError } from '../common/domain-error';
import {
  decodeSecretData,
  describeApiFailure,
  encodeSecretData,
  needsCurrentValues,
  secretLabelsOf,
  secretNameOf,
  valuesAfter,
} from './kubernetes-secret-plan';
import { SecretEntity } from './secret.entity';
import {
  LaunchSecrets,
  SecretChange,
  SecretOwner,
  SecretStore,
  StagedSecretChange,
} from './secret-store';

const NOT_FOUND = 404;
const CONFLICT = 409;

/**
 * Keeps secret values in Kubernetes Secrets, one per runner, runner git token and task, and
 * only their keys in the database. A Secret with no keys left is deleted. Secrets are written
 * before the database rows, so a failed write leaves the database unchanged. When the database
 * write fails afterwards, the Secret is ahead of the rows until the next save, which reads the
 * Secret and writes it whole again.
 */
export class KubernetesSecretStore implements SecretStore {
  readonly location = 'kubernetes';
  private readonly logger = new Logger(KubernetesSecretStore.name);

  constructor(
    private readonly core: CoreV1Api,
    private readonly namespace: string,
    private readonly secrets: Repository<SecretEntity>,
  ) {}

  async stage(changes: SecretChange[]): Promise<StagedSecretChange[]> {
    const staged: StagedSecretChange[] = [];
    for (const change of changes) {
      staged.push({ change, keys: await this.write(change) });
    }
    return staged;
  }

  /** Replaces the owners' rows with key-only rows: the values stay in the Secrets. */
  async record(staged: StagedSecretChange[], manager: EntityManager): Promise<void> {
    const repository = manager.getRepository(SecretEntity);
    for (const { change, keys } of staged) {
      const { kind, name } = change.owner;
      await repository.delete({ ownerKind: kind, ownerName: name });
      const rows = (keys ?? []).map((key) =>
        repository.create({ ownerKind: kind, ownerName: name, key, encryptedValue: null }),
      );
      if (rows.length > 0) {
        await repository.insert(rows);
      }
    }
  }

  /** Reads the keys from the database, so that a launch makes no API call for secrets. */
  async readForLaunch(runner: string, task: string): Promise<LaunchSecrets> {
    const rows = await this.secrets.find({
      where: [
        { ownerKind: 'runner', ownerName: runner },
        { ownerKind: 'runner_git_token', ownerName: runner },
        { ownerKind: 'task', ownerName: task },
      ],
      select: { ownerKind: true, key: true },
      order: { key: 'ASC' },
    });
    const keysOf = (kind: SecretEntity['ownerKind']) =>
      rows.filter((row) => row.ownerKind === kind).map((row) => row.key);
    return {
      runnerKeys: keysOf('runner'),
      taskKeys: keysOf('task'),
      hasGitToken: keysOf('runner_git_token').length > 0,
    };
  }

  /** Applies one change to its Secret and returns the keys the owner has afterwards. */
  private async write(change: SecretChange): Promise<string[]> {
    const name = secretNameOf(change.owner);
    const current = needsCurrentValues(change) ? await this.read(name) : undefined;
    const values = valuesAfter(change, decodeSecretData(current?.data));

    if (Object.keys(values).length === 0) {
      await this.delete(name);
      return [];
    }
    if (
      current &&
      sameValues(decodeSecretData(current.data), values) &&
      sameValues(current.metadata?.labels ?? {}, secretLabelsOf(change.owner))
    ) {
      // Clients send masked secrets back unchanged on every edit; that needs no write.
      return Object.keys(values).sort();
    }
    const secret = this.buildSecret(change.owner, name, values);
    if (current) {
      // The resourceVersion makes the replace fail if another save changed the Secret meanwhile.
      secret.metadata!.resourceVersion = current.metadata?.resourceVersion;
      await this.call('replacing', name, () =>
        this.core.replaceNamespacedSecret({ name, namespace: this.namespace, body: secret }),
      );
    } else if (needsCurrentValues(change)) {
      await this.call('creating', name, () =>
        this.core.createNamespacedSecret({ namespace: this.namespace, body: secret }),
      );
    } else {
      await this.createOrReplace(name, secret);
    }
    this.logger.log(`Secret '${name}' in namespace '${this.namespace}' written`);
    return Object.keys(values).sort();
  }

  /** Writes a Secret whatever it held before, such as one left by an earlier failed save. */
  private async createOrReplace(name: string, secret: V1Secret): Promise<void> {
    try {
      await this.core.createNamespacedSecret({ namespace: this.namespace, body: secret });
    } catch (error) {
      if (statusCodeOf(error) !== CONFLICT) {
        throw this.failure('creating', name, error);
      }
      await this.call('replacing', name, () =>
        this.core.replaceNamespacedSecret({ name, namespace: this.namespace, body: secret }),
      );
    }
  }

  private async read(name: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ name, namespace: this.namespace });
    } catch (error) {
      if (statusCodeOf(error) === NOT_FOUND) {
        return undefined;
      }
      throw this.failure('reading', name, error);
    }
  }

  private async delete(name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ name, namespace: this.namespace });
      this.logger.log(`Secret '${name}' in namespace '${this.namespace}' deleted`);
    } catch (error) {
      if (statusCodeOf(error) !== NOT_FOUND) {
        throw this.failure('deleting', name, error);
      }
    }
  }

  private buildSecret(owner: SecretOwner, name: string, values: Record<string, string>): V1Secret {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: this.namespace, labels: secretLabelsOf(owner) },
      type: 'Opaque',
      data: encodeSecretData(values),
    };
  }

  private async call(action: string, name: string, request: () => Promise<unknown>) {
    try {
      await request();
    } catch (error) {
      throw this.failure(action, name, error);
    }
  }

  private failure(action: string, name: string, error: unknown): DomainError {
    const cause = describeApiFailure(error);
    this.logger.error(
      `${action} Secret '${name}' in namespace '${this.namespace}' failed: ${cause}`,
    );
    if (statusCodeOf(error) === CONFLICT) {
      return new DomainError(
        'conflict',
        `${action} Secret '${name}' in namespace '${this.namespace}' failed: it was changed by ` +
          `another request meanwhile (${cause}); the database is unchanged, send the request again`,
      );
    }
    return new DomainError(
      'unavailable',
      `${action} Secret '${name}' in namespace '${this.namespace}' failed: ${cause}; ` +
        `the database is unchanged; check the Kubernetes API server and Kriten's access to Secrets, then retry`,
    );
  }
}

function sameValues(left: Record<string, string>, right: Record<string, string>): boolean {
  const leftKeys = Object.keys(left);
  return (
    leftKeys.length === Object.keys(right).length &&
    leftKeys.every((key) => Object.hasOwn(right, key) && right[key] === left[key])
  );
}

/**
 * Returns the HTTP status of a failed API call. client-node 1.x rejects with an ApiException
 * whose `code` is the status; the class is not imported, so that the local executor never
 * loads client-node.
 */
function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
