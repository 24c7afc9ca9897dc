import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  runnerGitSecretName,
  runnerSecretName,
  taskSecretName,
} from '@kriten/executor/kubernetes/resource-names';
import { mergeSecrets } from './secret-merge';
import type { SecretChange, SecretOwner } from './secret-store';

/** Label naming the runner that a Secret belongs to. */
export const RUNNER_LABEL = 'kriten.io/runner';
/** Label naming the task that a Secret belongs to. */
export const TASK_LABEL = 'kriten.io/task';

/** Returns the name of the Kubernetes Secret that contains an owner's values. */
export function secretNameOf(owner: SecretOwner): string {
  switch (owner.kind) {
    case 'runner':
      return runnerSecretName(owner.name);
    case 'runner_git_token':
      return runnerGitSecretName(owner.name);
    case 'task':
      return taskSecretName(owner.name);
  }
}

/** Labels of an owner's Secret: Kriten as the manager, and the runner or task it belongs to. */
export function secretLabelsOf(owner: SecretOwner): Record<string, string> {
  const ownerLabel = owner.kind === 'task' ? TASK_LABEL : RUNNER_LABEL;
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [ownerLabel]: owner.name };
}

/** Tells whether a change needs the stored values, which only a merge does. */
export function needsCurrentValues(change: SecretChange): boolean {
  return change.action === 'merge';
}

/** Returns the values an owner has after a change, given the values stored before it. */
export function valuesAfter(
  change: SecretChange,
  current: Record<string, string>,
): Record<string, string> {
  switch (change.action) {
    case 'merge':
      return mergeSecrets(current, change.posted);
    case 'replace':
      return mergeSecrets({}, change.values);
    case 'delete':
      return {};
  }
}

/** Encodes values as the base64 `data` of a Secret. */
export function encodeSecretData(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      Buffer.from(value, 'utf8').toString('base64'),
    ]),
  );
}

/** Decodes the base64 `data` of a Secret; a Secret without data has no values. */
export function decodeSecretData(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
}

/**
 * Describes a failed API call for a message: the HTTP status and the message of the Status
 * object the API server returned, or the network error. The request body is never included,
 * because it contains secret values.
 */
export function describeApiFailure(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const body = (error as { body?: unknown }).body;
  if (typeof code === 'number') {
    return `HTTP ${code}${statusMessage(body)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function statusMessage(body: unknown): string {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body === '' ? '' : `: ${body.slice(0, 200)}`;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? `: ${message}` : '';
}
