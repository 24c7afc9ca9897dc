/** CPU and memory quantities in Kubernetes notation, such as `500m` or `256Mi`. */
export interface ResourceQuantities {
  cpu?: string;
  memory?: string;
}

/** Requests and limits for a job's container; only the kubernetes executor applies them. */
export interface JobResources {
  requests?: ResourceQuantities;
  limits?: ResourceQuantities;
}

/**
 * Names of the secret keys a job receives, kept apart by owner. Executors that reference the
 * stored Kubernetes Secrets instead of receiving values need to know which keys each one has.
 */
export interface JobSecretKeys {
  runner: string[];
  task: string[];
  /** True when the runner has a git access token. */
  gitToken: boolean;
}

/** Everything an executor needs to run one job; the jobs service builds it from the database. */
export interface JobLaunch {
  /** Job id, `<task>-<5 lowercase alphanumerics>`. */
  jobId: string;
  taskName: string;
  runnerName: string;
  owner: string;
  /** Shell command, run as `sh -c <command>` in the checkout. */
  command: string;
  gitUrl: string;
  branch: string;
  /** Container image of the runner; recorded, used only by the kubernetes executor. */
  image: string;
  /** Access token for the git remote, if the runner has one. */
  gitToken?: string;
  /** Runner secrets merged with task secrets, task keys winning. */
  secrets: Record<string, string>;
  /** Key names of the runner's and the task's secrets; the kubernetes executor requires them. */
  secretKeys?: JobSecretKeys;
  /** CPU and memory for the job's container, when the runner or task sets them. */
  resources?: JobResources;
  /** Request body as JSON text, set as `EXTRA_VARS` when a body was given. */
  extraVars?: string;
  timeoutSeconds: number;
}

export type JobEndStatus = 'succeeded' | 'failed' | 'cancelled';

/** The end of a job's process, with its combined output. */
export interface JobOutcome {
  status: JobEndStatus;
  exitCode: number | null;
  /** Combined stdout and stderr, already capped and decoded. */
  output: string;
  outputTruncated: boolean;
  /** The cause of a failure or cancellation that the exit code alone does not show. */
  reason?: string;
  completedAt: Date;
}

/** Receives state changes from an executor; the jobs service persists them idempotently. */
export interface JobEventSink {
  jobStarted(jobId: string, startedAt: Date): Promise<void>;
  jobEnded(jobId: string, outcome: JobOutcome): Promise<void>;
  /**
   * Returns whether the job is still recorded as queued or running. An executor that shares
   * its jobs with other servers calls it before it records the end of a job that another
   * server launched.
   */
  isUnfinished?(jobId: string): Promise<boolean>;
}

/** A job the database still records as running when the server starts. */
export interface UnfinishedJob {
  jobId: string;
  startedAt: Date | null;
}

/** Runs jobs somewhere: sandboxed processes on this host, or Kubernetes Jobs. */
export interface JobExecutor {
  readonly kind: 'local' | 'kubernetes';

  /** Checks that the executor can run jobs, or throws an error that explains how to fix the setup. */
  checkReady(): Promise<void>;

  /** Starts a job and resolves once it has started; its end is reported through the sink. */
  launch(job: JobLaunch, events: JobEventSink): Promise<void>;

  /** Stops a job and its whole process tree; returns false when the executor is not running it. */
  cancel(jobId: string): Promise<boolean>;

  /** Returns the output a running job has printed so far, or undefined when it is not running here. */
  readLiveOutput(jobId: string): Promise<string | undefined>;

  /**
   * Streams a running job's output from its beginning, ending when the job ends or the signal
   * aborts. Returns undefined when this executor cannot follow the job, for example because it
   * is not running here.
   */
  followOutput(jobId: string, signal: AbortSignal): AsyncIterable<string> | undefined;

  /** Settles jobs left running by an earlier server process. */
  recoverUnfinished(jobs: UnfinishedJob[], events: JobEventSink): Promise<void>;

  /** Forgets any state kept for a runner, such as its repository mirror. */
  forgetRunner(runnerName: string): Promise<void>;

  /** Stops every running job and releases resources at shutdown. */
  shutdown(): Promise<void>;
}

export const JOB_EXECUTOR = Symbol('JOB_EXECUTOR');
