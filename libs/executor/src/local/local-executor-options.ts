/** The subset of a Nest `LoggerService` that the local executor writes to. */
export interface ExecutorLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

/** Settings of the local executor; the Nest module builds them from the validated configuration. */
export interface LocalExecutorOptions {
  /**
   * Absolute path of the server's data directory. The executor keeps repository mirrors under
   * `repos/` and job working folders under `work/`, and hides the whole directory from jobs.
   */
  dataDir: string;
  /** Maximum bytes of a job's combined output that are kept; longer output keeps head and tail. */
  maxOutputBytes: number;
  /** Minimum seconds between two fetches of a runner's branch; 0 fetches for every job. */
  repoRefreshSeconds: number;
  logger: ExecutorLogger;
}
