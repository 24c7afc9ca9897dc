import type { ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { constants as osConstants } from 'node:os';
import {
  buildContainerArgv,
  buildContainerEnvironment,
  ContainerConfigError,
  type SecretLookup,
} from './container-env';
import {
  buildFilesystemArguments,
  signalContainer,
  spawnContainer,
  type ContainerMount,
} from './container-sandbox';
import type { PodScenario, ScenarioRegistry } from './scenarios';
import { kubeTime, metadataOf, type Json, type ObjectStore } from './store';

export interface KubeletOptions {
  bwrapPath: string;
  /** Folder for volumes and container logs. */
  stateDir: string;
  nodeName: string;
  /** How often a pod stuck on a missing Secret or an image pull tries again. */
  retryMilliseconds: number;
  /** Upper bound on a termination grace period, so that tests never wait 30 s for a kill. */
  maxGraceMilliseconds: number;
  /** Delay before a container that failed under restartPolicy OnFailure starts again. */
  restartBackoffMilliseconds: number;
  /** Host folders bound read-only into every container at the same path. */
  sharedHostPaths: string[];
}

/** One run of a container and where its output goes. */
interface ContainerRun {
  logPath: string;
  /** The log of the run before the last restart, which `previous=true` returns. */
  previousLogPath?: string;
  child?: ChildProcess;
  terminated: boolean;
}

interface PodRun {
  namespace: string;
  name: string;
  uid: string;
  dir: string;
  scenarios: PodScenario[];
  abort: AbortController;
  containers: Map<string, ContainerRun>;
  done: Promise<void>;
}

/** Why a volume cannot be set up yet: the kubelet's FailedMount reason. */
class MountError extends Error {}

const PULL_FAILURE = (image: string): string =>
  `failed to pull and unpack image "${qualifiedImage(image)}": failed to resolve reference "${qualifiedImage(image)}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`;

function qualifiedImage(image: string): string {
  const withTag = /:[^/]+$/.test(image) || image.includes('@') ? image : `${image}:latest`;
  const first = withTag.split('/')[0];
  if (
    withTag.includes('/') &&
    (first.includes('.') || first.includes(':') || first === 'localhost')
  ) {
    return withTag;
  }
  return withTag.includes('/') ? `docker.io/${withTag}` : `docker.io/library/${withTag}`;
}

function delay(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, milliseconds);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return osConstants.signals[signal] ?? 9;
}

function findOnPath(program: string, searchPath: string): boolean {
  for (const dir of searchPath.split(':')) {
    try {
      accessSync(join(dir || '.', program), constants.X_OK);
      return true;
    } catch {
      continue;
    }
  }
  return false;
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function setCondition(status: Json, type: string, value: boolean, reason?: string): void {
  const conditions = list(status.conditions);
  const now = kubeTime();
  let condition = conditions.find((entry) => entry.type === type);
  if (condition === undefined) {
    condition = { type, status: '', lastProbeTime: null, lastTransitionTime: now };
    conditions.push(condition);
  }
  const text = value ? 'True' : 'False';
  if (condition.status !== text) {
    condition.lastTransitionTime = now;
  }
  condition.status = text;
  if (reason === undefined) {
    delete condition.reason;
  } else {
    condition.reason = reason;
  }
  status.conditions = conditions;
}

/**
 * Derives the pod phase and the Initialized, Ready and ContainersReady conditions from the
 * container statuses, as the kubelet's getPhase does for restartPolicy Never and OnFailure.
 */
function refreshPhase(pod: Json): void {
  const status = pod.status as Json;
  const spec = pod.spec as Json;
  const initStatuses = list(status.initContainerStatuses);
  const statuses = list(status.containerStatuses);
  const terminatedWith = (entry: Json): number | undefined =>
    ((entry.state as Json).terminated as Json | undefined)?.exitCode as number | undefined;

  const initFailed =
    spec.restartPolicy === 'Never' &&
    initStatuses.some((entry) => (terminatedWith(entry) ?? 0) !== 0);
  const initialized = initStatuses.every((entry) => terminatedWith(entry) === 0);
  const allTerminated =
    statuses.length > 0 && statuses.every((entry) => terminatedWith(entry) !== undefined);
  const anyRunning = statuses.some((entry) => (entry.state as Json).running !== undefined);
  const anyFailed = statuses.some((entry) => (terminatedWith(entry) ?? 0) !== 0);

  if (initFailed) {
    status.phase = 'Failed';
  } else if (allTerminated && (spec.restartPolicy === 'Never' || !anyFailed)) {
    status.phase = anyFailed ? 'Failed' : 'Succeeded';
  } else if (
    initialized &&
    (anyRunning ||
      statuses.some(
        (entry) => terminatedWith(entry) !== undefined || Number(entry.restartCount) > 0,
      ))
  ) {
    status.phase = 'Running';
  } else {
    status.phase = 'Pending';
  }

  const ready = statuses.length > 0 && statuses.every((entry) => entry.ready === true);
  const finished = status.phase === 'Succeeded' || status.phase === 'Failed';
  let notReadyReason = initialized ? 'ContainersNotReady' : 'ContainersNotInitialized';
  let initializedReason = initialized ? undefined : 'ContainersNotInitialized';
  if (finished) {
    notReadyReason = 'PodCompleted';
    initializedReason = initialized ? 'PodCompleted' : initializedReason;
  }
  setCondition(status, 'Initialized', initialized, initializedReason);
  setCondition(status, 'Ready', ready, ready ? undefined : notReadyReason);
  setCondition(status, 'ContainersReady', ready, ready ? undefined : notReadyReason);
  if (finished) {
    setCondition(status, 'PodReadyToStartContainers', false);
  }
}

/**
 * The node agent: runs the containers of each pod for real in bubblewrap, in the order and
 * with the volumes, environment and statuses that a kubelet gives them.
 */
export class Kubelet {
  private readonly runs = new Map<string, PodRun>();
  private readonly finishedLogs = new Map<string, Map<string, ContainerRun>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly scenarios: ScenarioRegistry,
    private readonly options: KubeletOptions,
  ) {}

  /** Starts a newly created pod. */
  startPod(pod: Json): void {
    const meta = metadataOf(pod);
    const uid = String(meta.uid);
    const run: PodRun = {
      namespace: String(meta.namespace),
      name: String(meta.name),
      uid,
      dir: join(this.options.stateDir, 'pods', uid),
      scenarios: this.scenarios.takeFor(pod),
      abort: new AbortController(),
      containers: new Map(),
      done: Promise.resolve(),
    };
    mkdirSync(run.dir, { recursive: true, mode: 0o700 });
    this.runs.set(uid, run);
    this.finishedLogs.set(uid, run.containers);
    run.done = this.runPod(run).catch((error: unknown) => {
      process.stderr.write(
        `fake-kube: pod ${run.namespace}/${run.name} failed in the fake kubelet: ${String(error)}\n`,
      );
    });
  }

  /** Returns the log file and run state of a container, or undefined when it never started. */
  containerLog(uid: string, container: string): ContainerRun | undefined {
    return this.finishedLogs.get(uid)?.get(container);
  }

  /**
   * Stops a pod's containers: SIGTERM to every process, SIGKILL after the grace period (capped
   * by maxGraceMilliseconds). Resolves when every process has exited and statuses are written.
   */
  async stopPod(uid: string, graceSeconds: number): Promise<void> {
    const run = this.runs.get(uid);
    if (run === undefined) {
      return;
    }
    run.abort.abort();
    for (const container of run.containers.values()) {
      if (container.child !== undefined) {
        signalContainer(container.child, graceSeconds === 0 ? 'SIGKILL' : 'SIGTERM');
      }
    }
    const grace = Math.min(graceSeconds * 1000, this.options.maxGraceMilliseconds);
    const timer = setTimeout(() => {
      for (const container of run.containers.values()) {
        if (container.child !== undefined) {
          signalContainer(container.child, 'SIGKILL');
        }
      }
    }, grace);
    await run.done;
    clearTimeout(timer);
  }

  /** Kills every pod and removes the state folder. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.runs.keys()].map((uid) => this.stopPod(uid, 0)));
  }

  /** Forgets a removed pod's volumes; its logs go with it, as on a real node. */
  forgetPod(uid: string): void {
    const run = this.runs.get(uid);
    this.runs.delete(uid);
    this.finishedLogs.delete(uid);
    // A container that is still being killed may write into its volumes; removing the folder
    // before it exits fails with ENOTEMPTY.
    const folder = join(this.options.stateDir, 'pods', uid);
    const remove = () => rmSync(folder, { recursive: true, force: true, maxRetries: 5 });
    if (run === undefined) {
      remove();
      return;
    }
    void run.done.then(remove, remove).catch((error: Error) => {
      process.stderr.write(`fake kubelet: removing ${folder} failed: ${error.message}\n`);
    });
  }

  private secretsOf(namespace: string): SecretLookup {
    return (name) => {
      const secret = this.store.get('secrets', namespace, name);
      if (secret === undefined) {
        return undefined;
      }
      const data: Record<string, Buffer> = {};
      for (const [key, value] of Object.entries((secret.data ?? {}) as Record<string, string>)) {
        data[key] = Buffer.from(value, 'base64');
      }
      return data;
    };
  }

  /** Applies a change to the stored pod, unless the pod is gone or was replaced. */
  private update(run: PodRun, change: (pod: Json) => void): Json | undefined {
    const pod = this.store.get('pods', run.namespace, run.name);
    if (pod === undefined || metadataOf(pod).uid !== run.uid) {
      return undefined;
    }
    pod.status ??= {};
    change(pod);
    refreshPhase(pod);
    return this.store.update('pods', pod);
  }

  private setContainerState(
    run: PodRun,
    name: string,
    init: boolean,
    state: Json,
    extra: Json = {},
  ): void {
    this.update(run, (pod) => {
      const status = pod.status as Json;
      const key = init ? 'initContainerStatuses' : 'containerStatuses';
      const entry = list(status[key]).find((candidate) => candidate.name === name);
      if (entry !== undefined) {
        entry.state = state;
        Object.assign(entry, extra);
      }
    });
  }

  private async runPod(run: PodRun): Promise<void> {
    const signal = run.abort.signal;
    const slowStart = run.scenarios.find((scenario) => scenario.effect === 'slowStart');
    if (slowStart !== undefined && slowStart.effect === 'slowStart') {
      await delay(slowStart.delayMilliseconds, signal);
    }
    if (signal.aborted) {
      return;
    }

    const initial = this.update(run, (pod) => {
      const spec = pod.spec as Json;
      spec.nodeName = this.options.nodeName;
      const status = pod.status as Json;
      status.phase = 'Pending';
      setCondition(status, 'PodScheduled', true);
      setCondition(status, 'PodReadyToStartContainers', false);
      status.hostIP = '127.0.0.1';
      status.hostIPs = [{ ip: '127.0.0.1' }];
      status.startTime = kubeTime();
      status.qosClass = 'BestEffort';
      const initContainers = list(spec.initContainers);
      const entry = (container: Json, reason: string): Json => ({
        name: container.name,
        state: { waiting: { reason } },
        lastState: {},
        ready: false,
        restartCount: 0,
        image: container.image,
        imageID: '',
        started: false,
      });
      if (initContainers.length > 0) {
        status.initContainerStatuses = initContainers.map((container) =>
          entry(container, 'PodInitializing'),
        );
      }
      status.containerStatuses = list(spec.containers).map((container) =>
        entry(container, initContainers.length > 0 ? 'PodInitializing' : 'ContainerCreating'),
      );
    });
    if (initial === undefined) {
      return;
    }

    const mounts = await this.prepareVolumes(run, initial);
    if (mounts === undefined) {
      return;
    }
    this.update(run, (pod) => {
      const status = pod.status as Json;
      status.podIP = '127.0.0.1';
      status.podIPs = [{ ip: '127.0.0.1' }];
      setCondition(status, 'PodReadyToStartContainers', true);
    });

    const spec = initial.spec as Json;
    for (const container of list(spec.initContainers)) {
      const exitCode = await this.runContainer(run, container, true, mounts);
      if (exitCode !== 0) {
        return;
      }
    }
    await Promise.all(
      list(spec.containers).map((container) => this.runContainer(run, container, false, mounts)),
    );
  }

  /**
   * Writes Secret volumes and creates emptyDir folders. A missing Secret that is not optional
   * keeps the pod in ContainerCreating and is retried, as the kubelet's volume manager does.
   * Returns undefined when the pod was stopped while waiting.
   */
  private async prepareVolumes(run: PodRun, pod: Json): Promise<Map<string, string> | undefined> {
    const volumes = list((pod.spec as Json).volumes);
    for (;;) {
      try {
        const hostPaths = new Map<string, string>();
        rmSync(join(run.dir, 'volumes'), { recursive: true, force: true });
        for (const volume of volumes) {
          hostPaths.set(String(volume.name), this.prepareVolume(run, volume));
        }
        return hostPaths;
      } catch (error) {
        if (!(error instanceof MountError)) {
          throw error;
        }
        await delay(this.options.retryMilliseconds, run.abort.signal);
        if (run.abort.signal.aborted) {
          return undefined;
        }
      }
    }
  }

  private prepareVolume(run: PodRun, volume: Json): string {
    const dir = join(run.dir, 'volumes', String(volume.name));
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    const secrets = this.secretsOf(run.namespace);
    const writeSecret = (
      name: string,
      items: Json[] | undefined,
      optional: boolean,
      mode: number,
    ): void => {
      const data = secrets(name);
      if (data === undefined) {
        if (optional) {
          return;
        }
        throw new MountError(
          `MountVolume.SetUp failed for volume "${String(volume.name)}" : secret "${name}" not found`,
        );
      }
      const files: Json[] = items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of files) {
        const value = data[String(item.key)];
        if (value === undefined) {
          if (optional) {
            continue;
          }
          throw new MountError(
            `MountVolume.SetUp failed for volume "${String(volume.name)}" : references non-existent secret key: ${String(item.key)}`,
          );
        }
        const path = join(dir, String(item.path));
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, value, { mode: typeof item.mode === 'number' ? item.mode : mode });
      }
    };

    const secret = volume.secret as Json | undefined;
    if (secret !== undefined) {
      writeSecret(
        String(secret.secretName),
        secret.items as Json[] | undefined,
        secret.optional === true,
        Number(secret.defaultMode ?? 0o644),
      );
    }
    const projected = volume.projected as Json | undefined;
    if (projected !== undefined) {
      for (const source of list(projected.sources)) {
        const projectedSecret = source.secret as Json | undefined;
        if (projectedSecret !== undefined) {
          writeSecret(
            String(projectedSecret.name),
            projectedSecret.items as Json[] | undefined,
            projectedSecret.optional === true,
            Number(projected.defaultMode ?? 0o644),
          );
        }
      }
    }
    return dir;
  }

  private mountsFor(container: Json, hostPaths: Map<string, string>): ContainerMount[] {
    return list(container.volumeMounts).map((mount) => {
      let hostPath = hostPaths.get(String(mount.name)) as string;
      if (typeof mount.subPath === 'string' && mount.subPath !== '') {
        hostPath = join(hostPath, mount.subPath);
        mkdirSync(hostPath, { recursive: true });
      }
      return { hostPath, mountPath: String(mount.mountPath), readOnly: mount.readOnly === true };
    });
  }

  /** Runs one container to its end, restarting it under restartPolicy OnFailure. Returns its exit code. */
  private async runContainer(
    run: PodRun,
    container: Json,
    init: boolean,
    hostPaths: Map<string, string>,
  ): Promise<number> {
    const signal = run.abort.signal;
    const name = String(container.name);
    const image = String(container.image);
    const pod = this.store.get('pods', run.namespace, run.name);
    if (pod === undefined || signal.aborted) {
      return -1;
    }

    const pullFailure = run.scenarios.find(
      (scenario) =>
        scenario.effect === 'imagePullError' &&
        (scenario.image === undefined || scenario.image === image),
    );
    if (pullFailure !== undefined) {
      while (!signal.aborted) {
        this.setContainerState(run, name, init, {
          waiting: { reason: 'ErrImagePull', message: PULL_FAILURE(image) },
        });
        await delay(this.options.retryMilliseconds, signal);
        if (signal.aborted) {
          break;
        }
        this.setContainerState(run, name, init, {
          waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` },
        });
        await delay(this.options.retryMilliseconds * 4, signal);
      }
      return -1;
    }

    let restartCount = 0;
    for (;;) {
      let prepared: ReturnType<typeof buildContainerEnvironment> | undefined;
      while (prepared === undefined) {
        try {
          const current = this.store.get('pods', run.namespace, run.name) ?? pod;
          prepared = buildContainerEnvironment(current, container, this.secretsOf(run.namespace));
        } catch (error) {
          if (!(error instanceof ContainerConfigError)) {
            throw error;
          }
          this.setContainerState(run, name, init, {
            waiting: { reason: 'CreateContainerConfigError', message: error.message },
          });
          await delay(this.options.retryMilliseconds, signal);
          if (signal.aborted) {
            return -1;
          }
        }
      }

      const argv = buildContainerArgv(container, prepared.variables);
      const startedAt = kubeTime();
      const containerId = `containerd://${run.uid.replace(/-/g, '')}${restartCount}${name}`.slice(
        0,
        77,
      );
      const startError = this.checkStart(argv, prepared.environment, name);
      let exitCode: number;
      let reason: string;
      let message: string | undefined;
      if (startError !== undefined) {
        exitCode = 128;
        reason = 'StartError';
        message = startError;
      } else {
        ({ exitCode, reason, message } = await this.execute(
          run,
          container,
          init,
          argv,
          prepared.environment,
          hostPaths,
          restartCount,
          containerId,
          startedAt,
        ));
      }

      const terminated: Json = {
        exitCode,
        reason,
        startedAt,
        finishedAt: kubeTime(),
        containerID: containerId,
      };
      if (message !== undefined) {
        terminated.message = message;
      }
      this.setContainerState(
        run,
        name,
        init,
        { terminated },
        { ready: false, started: false, containerID: containerId },
      );
      const restartPolicy = (pod.spec as Json).restartPolicy;
      if (exitCode === 0 || restartPolicy !== 'OnFailure' || signal.aborted) {
        return exitCode;
      }

      restartCount++;
      this.setContainerState(
        run,
        name,
        init,
        {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off 10s restarting failed container=${name} pod=${run.name}_${run.namespace}(${run.uid})`,
          },
        },
        { lastState: { terminated }, restartCount },
      );
      await delay(this.options.restartBackoffMilliseconds, signal);
      if (signal.aborted) {
        return exitCode;
      }
    }
  }

  /** Returns the runtime's StartError message when a container cannot start, or undefined. */
  private checkStart(
    argv: string[],
    environment: Record<string, string>,
    name: string,
  ): string | undefined {
    if (argv.length === 0) {
      return `fake-kube runs no image entrypoint: container "${name}" must set command`;
    }
    if (!argv[0].includes('/') && !findOnPath(argv[0], environment.PATH ?? '')) {
      return `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv[0]}": executable file not found in $PATH: unknown`;
    }
    return undefined;
  }

  private async execute(
    run: PodRun,
    container: Json,
    init: boolean,
    argv: string[],
    environment: Record<string, string>,
    hostPaths: Map<string, string>,
    restartCount: number,
    containerId: string,
    startedAt: string,
  ): Promise<{ exitCode: number; reason: string; message?: string }> {
    const name = String(container.name);
    const logPath = join(run.dir, 'logs', `${name}-${restartCount}.log`);
    mkdirSync(dirname(logPath), { recursive: true });
    const logFd = openSync(logPath, 'w');
    const containerRun: ContainerRun = {
      logPath,
      previousLogPath: run.containers.get(name)?.logPath,
      terminated: false,
    };
    run.containers.set(name, containerRun);

    const workingDir =
      typeof container.workingDir === 'string' && container.workingDir !== ''
        ? container.workingDir
        : '/';
    const filesystem = buildFilesystemArguments(
      this.mountsFor(container, hostPaths),
      run.name,
      this.options.sharedHostPaths,
      this.options.sharedHostPaths.some((path) => this.options.stateDir.startsWith(`${path}/`))
        ? [this.options.stateDir]
        : [],
      workingDir,
      ((container.securityContext ?? {}) as Json).readOnlyRootFilesystem === true,
    );
    let child: ChildProcess;
    try {
      child = spawnContainer(
        this.options.bwrapPath,
        filesystem,
        workingDir,
        argv,
        environment,
        logFd,
      );
    } catch (error) {
      // Node rejects arguments or variables with NUL bytes; a runtime fails such a container too.
      containerRun.terminated = true;
      return { exitCode: 128, reason: 'StartError', message: String(error) };
    } finally {
      closeSync(logFd);
    }
    containerRun.child = child;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve) => {
        child.on('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
        child.on('error', () => resolve({ code: 128, signal: null }));
      },
    );

    this.setContainerState(
      run,
      name,
      init,
      { running: { startedAt } },
      { ready: !init, started: true, containerID: containerId },
    );

    let oomKilled = false;
    const oom = init ? undefined : run.scenarios.find((scenario) => scenario.effect === 'oomKill');
    let oomTimer: NodeJS.Timeout | undefined;
    if (oom !== undefined && oom.effect === 'oomKill') {
      oomTimer = setTimeout(() => {
        oomKilled = true;
        signalContainer(child, 'SIGKILL');
      }, oom.afterMilliseconds ?? 0);
    }

    const result = await exited;
    clearTimeout(oomTimer);
    containerRun.terminated = true;
    const exitCode = result.code ?? 128 + signalNumber(result.signal as NodeJS.Signals);
    if (oomKilled) {
      return { exitCode: 137, reason: 'OOMKilled' };
    }
    return { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' };
  }
}
