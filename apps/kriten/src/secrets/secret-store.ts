import type { EntityManager } from 'typeorm';
import type { SecretOwnerKind } from './secret.entity';

/** The runner, runner git token or task whose secrets a change applies to. */
export interface SecretOwner {
  kind: SecretOwnerKind;
  name: string;
}

/**
 * A change to one owner's secrets: `merge` applies posted values with mergeSecrets (the mask
 * keeps a value, an empty string deletes a key), `replace` sets exactly the given values, and
 * `delete` removes every secret of the owner.
 */
export type SecretChange =
  | { owner: SecretOwner; action: 'merge'; posted: Record<string, string> }
  | { owner: SecretOwner; action: 'replace'; values: Record<string, string> }
  | { owner: SecretOwner; action: 'delete' };

/**
 * A change after its values were written outside the database. `keys` lists the keys the owner
 * has afterwards; it is undefined when the store writes values with the database rows.
 */
export interface StagedSecretChange {
  change: SecretChange;
  keys?: string[];
}

/**
 * The secrets a job needs. A store that keeps values in the database returns them. A store
 * that keeps them in Kubernetes Secrets returns only the keys, because the executor projects
 * the values from those Secrets.
 */
export interface LaunchSecrets {
  runnerValues?: Record<string, string>;
  taskValues?: Record<string, string>;
  gitToken?: string;
  runnerKeys: string[];
  taskKeys: string[];
  hasGitToken: boolean;
}

/**
 * Storage for secret values. Saving runs in two steps inside the caller's transaction, after
 * the owner's row is locked: `stage` writes values kept outside the database, and `record`
 * writes the database rows. A failed `stage` rolls the transaction back, so the database stays
 * unchanged.
 */
export interface SecretStore {
  readonly location: 'database' | 'kubernetes';

  /** Writes values kept outside the database; throws DomainError 'unavailable' when that fails. */
  stage(changes: SecretChange[]): Promise<StagedSecretChange[]>;

  /** Writes the database rows of staged changes inside the caller's transaction. */
  record(staged: StagedSecretChange[], manager: EntityManager): Promise<void>;

  /** Reads what a job of the task needs from the runner's and the task's secrets. */
  readForLaunch(runner: string, task: string): Promise<LaunchSecrets>;
}

export const SECRET_STORE = Symbol('SECRET_STORE');
