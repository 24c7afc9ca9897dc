import type { JobLaunch, JobResources } from '../job-executor';
import { escapeForKubelet } from './kubelet-escape';
import { toLabelValue } from './label-values';
import {
  GIT_TOKEN_KEY,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  runnerGitSecretName,
  runnerSecretName,
  taskSecretName,
} from './resource-names';

export const JOB_ID_LABEL = 'kriten.io/job-id';
export const TASK_LABEL = 'kriten.io/task';
export const RUNNER_LABEL = 'kriten.io/runner';
/** Sanitised owner; the exact name is in OWNER_ANNOTATION. */
export const OWNER_LABEL = 'kriten.io/owner';
export const OWNER_ANNOTATION = 'kriten.io/owner';

export const CLONE_CONTAINER = 'clone';
export const MAIN_CONTAINER = 'main';
export const WORKSPACE_PATH = '/workspace';
export const SECRET_MOUNT_PATH = '/etc/secret';

/** Label selector for every object Kriten creates. */
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** Settings of the kubernetes executor that shape every Job. */
export interface JobSpecSettings {
  namespace: string;
  /** Image of the init container that clones the repository; it needs `sh` and `git`. */
  gitImage: string;
  /** Service account the job's pod runs as; its token is not mounted. */
  jobServiceAccount: string;
  /** Seconds a finished Job is kept before Kubernetes deletes it. */
  jobsTtlSeconds: number;
}

/**
 * Shell script of the clone container, with the remote URL as $1 and the branch as $2. The
 * user name for HTTP authentication is in $GIT_USERNAME. The credential helper prints the token from
 * $GIT_TOKEN only when git requests a password, so the token is never in the URL, a command
 * line or git's output. `credential.helper=` first clears helpers that the image configures.
 * Files are made writable for everyone, because the runner's image may run as another user.
 *
 * NOTE: only HTTP(S) remotes can authenticate here. An ssh:// or git@host:path remote gets no
 * key in the clone container, so it works only for hosts that need none.
 */
export const CLONE_SCRIPT = [
  'set -e',
  `git -c credential.helper= -c 'credential.helper=!f() { test "$1" = get || exit 0; test -n "$GIT_TOKEN" || exit 0; echo "username=$GIT_USERNAME"; echo "password=$GIT_TOKEN"; }; f' clone --quiet --depth 1 --single-branch --branch "$2" -- "$1" ${WORKSPACE_PATH}`,
  `chmod -R a+rwX ${WORKSPACE_PATH}`,
].join('\n');

/** User name sent with the token when the git URL has none; hosts read only the token. */
const DEFAULT_GIT_USERNAME = 'kriten';

const WORKSPACE_VOLUME = 'workspace';
const SECRET_VOLUME = 'secret';

/** Labels on the Job and its pods; all values are valid label values. */
export function buildJobLabels(launch: JobLaunch): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [JOB_ID_LABEL]: launch.jobId,
    [TASK_LABEL]: toLabelValue(launch.taskName),
    [RUNNER_LABEL]: toLabelValue(launch.runnerName),
    [OWNER_LABEL]: toLabelValue(launch.owner),
  };
}

/**
 * Builds the `batch/v1` Job that runs one Kriten job. Every value that Kriten sets in a
 * command, args or env is escaped for the kubelet, so the script receives it unchanged.
 * Throws when the launch lacks the secret key names.
 */
export function buildJobManifest(launch: JobLaunch, settings: JobSpecSettings): object {
  if (launch.secretKeys === undefined) {
    throw new Error(
      `job '${launch.jobId}' has no secret key names, which the kubernetes executor needs`,
    );
  }
  const labels = buildJobLabels(launch);
  const secretKeys = launch.secretKeys;

  const timeout = launch.timeoutSeconds > 0 ? { activeDeadlineSeconds: launch.timeoutSeconds } : {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: launch.jobId,
      namespace: settings.namespace,
      labels,
      annotations: { [OWNER_ANNOTATION]: launch.owner },
    },
    spec: {
      // Kriten runs a job once: tasks have no retry setting, and a second run could repeat
      // side effects of the first.
      backoffLimit: 0,
      ...timeout,
      ttlSecondsAfterFinished: settings.jobsTtlSeconds,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: settings.jobServiceAccount,
          automountServiceAccountToken: false,
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          volumes: [
            { name: WORKSPACE_VOLUME, emptyDir: {} },
            buildSecretVolume(launch, secretKeys.runner, secretKeys.task),
          ],
          initContainers: [buildCloneContainer(launch, settings, secretKeys.gitToken)],
          containers: [buildMainContainer(launch, secretKeys.runner, secretKeys.task)],
        },
      },
    },
  };
}

function buildCloneContainer(
  launch: JobLaunch,
  settings: JobSpecSettings,
  hasGitToken: boolean,
): object {
  const env: object[] = [];
  if (hasGitToken) {
    env.push({
      name: 'GIT_TOKEN',
      valueFrom: {
        secretKeyRef: { name: runnerGitSecretName(launch.runnerName), key: GIT_TOKEN_KEY },
      },
    });
  }
  env.push({ name: 'GIT_USERNAME', value: escapeForKubelet(gitUsername(launch.gitUrl)) });
  // Without a terminal prompt, a remote that wants credentials fails at once instead of waiting.
  env.push({ name: 'GIT_TERMINAL_PROMPT', value: '0' });

  // `sh -c script name url branch`: the positional arguments keep the URL and the branch out
  // of the script's text, so no quoting is needed.
  return {
    name: CLONE_CONTAINER,
    image: settings.gitImage,
    command: ['sh', '-c', escapeForKubelet(CLONE_SCRIPT)],
    args: ['git-clone', launch.gitUrl, launch.branch].map(escapeForKubelet),
    env,
    volumeMounts: [{ name: WORKSPACE_VOLUME, mountPath: WORKSPACE_PATH }],
    securityContext: { allowPrivilegeEscalation: false },
    ...resourcesField(launch.resources),
  };
}

function buildMainContainer(launch: JobLaunch, runnerKeys: string[], taskKeys: string[]): object {
  // envFrom applies in order, so task keys replace runner keys; env entries replace both.
  const envFrom: object[] = [];
  if (runnerKeys.length > 0) {
    envFrom.push({ secretRef: { name: runnerSecretName(launch.runnerName) } });
  }
  if (taskKeys.length > 0) {
    envFrom.push({ secretRef: { name: taskSecretName(launch.taskName) } });
  }

  const env: object[] = [{ name: 'KRITEN_JOB_ID', value: escapeForKubelet(launch.jobId) }];
  if (launch.extraVars !== undefined) {
    env.push({ name: 'EXTRA_VARS', value: escapeForKubelet(launch.extraVars) });
  }

  return {
    name: MAIN_CONTAINER,
    image: launch.image,
    command: ['sh', '-c', escapeForKubelet(launch.command)],
    workingDir: WORKSPACE_PATH,
    env,
    ...(envFrom.length > 0 && { envFrom }),
    volumeMounts: [
      { name: WORKSPACE_VOLUME, mountPath: WORKSPACE_PATH },
      { name: SECRET_VOLUME, mountPath: SECRET_MOUNT_PATH, readOnly: true },
    ],
    securityContext: { allowPrivilegeEscalation: false },
    ...resourcesField(launch.resources),
  };
}

/**
 * Projects both Secrets at /etc/secret. Kubernetes rejects a projected volume in which two
 * sources write the same path, so the runner's source lists only the keys the task does not
 * override. A job without secrets gets an empty folder there, as on the local executor.
 *
 * The sources are optional. A missing Secret in a volume leaves the pod waiting with nothing
 * in its status but `ContainerCreating`, and the reason appears only as an event. The same
 * Secrets in envFrom are required, so a missing one stops the main container with
 * `CreateContainerConfigError` and a message that names it.
 */
function buildSecretVolume(launch: JobLaunch, runnerKeys: string[], taskKeys: string[]): object {
  const overridden = new Set(taskKeys);
  const runnerOnly = runnerKeys.filter((key) => !overridden.has(key)).sort();
  const sources: object[] = [];
  if (runnerOnly.length > 0) {
    sources.push({
      secret: {
        name: runnerSecretName(launch.runnerName),
        items: runnerOnly.map((key) => ({ key, path: key })),
        optional: true,
      },
    });
  }
  if (taskKeys.length > 0) {
    sources.push({ secret: { name: taskSecretName(launch.taskName), optional: true } });
  }

  if (sources.length === 0) {
    return { name: SECRET_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } };
  }
  return { name: SECRET_VOLUME, projected: { sources } };
}

function resourcesField(resources: JobResources | undefined): object {
  const result: Record<string, object> = {};
  for (const kind of ['requests', 'limits'] as const) {
    const quantities = resources?.[kind];
    if (quantities === undefined) {
      continue;
    }
    const entries = Object.entries(quantities).filter(([, value]) => value !== undefined);
    if (entries.length > 0) {
      result[kind] = Object.fromEntries(entries);
    }
  }
  return Object.keys(result).length > 0 ? { resources: result } : {};
}

/** Returns the user name of an HTTP(S) git URL, or the default when it has none. */
function gitUsername(gitUrl: string): string {
  try {
    const url = new URL(gitUrl);
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.username !== '') {
      return decodeURIComponent(url.username);
    }
  } catch {
    // scp-like addresses such as git@host:path are not URLs and use SSH, not this helper.
  }
  return DEFAULT_GIT_USERNAME;
}
