import type { ExecutorLogger } from '../local/local-executor-options';
import type { KubernetesApi } from './kubernetes-api';
import type { JobSpecSettings } from './job-spec';

/** Settings of the kubernetes executor; the Nest module builds them from the configuration. */
export interface KubernetesExecutorOptions extends Omit<JobSpecSettings, 'namespace'> {
  api: KubernetesApi;
  /** Source of the API configuration, for the start log. */
  connectionSource: string;
  /** Seconds an image pull may keep failing before the job fails. */
  imagePullGraceSeconds: number;
  /** Maximum bytes of a job's combined output that are kept; longer output keeps head and tail. */
  maxOutputBytes: number;
  logger: ExecutorLogger;
  /** Milliseconds to wait before a vanished pod or Job makes its job fail as lost. */
  lostGraceMs?: number;
  /** Milliseconds that another server has to record the end of a job it launched. */
  orphanGraceMs?: number;
}
