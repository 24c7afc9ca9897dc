/**
 * Names and labels of the Kubernetes objects Kriten owns. The Secret store (when a runner or
 * task is saved) and the Job builder (when a job starts) must agree on them.
 */

/** Label on every object Kriten creates, so watches and cleanup select only Kriten's objects. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kriten';

/** Secret holding a runner's secrets, one data key per secret key; loaded into every job of the runner. */
export function runnerSecretName(runner: string): string {
  return `kriten-runner-${runner}`;
}

/** Secret holding a runner's git access token under the key `token`; read only by the clone container. */
export function runnerGitSecretName(runner: string): string {
  return `kriten-runner-${runner}-git`;
}

export const GIT_TOKEN_KEY = 'token';

/** Secret holding a task's secrets, one data key per secret key; its keys win over the runner's. */
export function taskSecretName(task: string): string {
  return `kriten-task-${task}`;
}
