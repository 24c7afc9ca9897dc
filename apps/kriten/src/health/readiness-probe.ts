/** One dependency that the server needs before it can serve API requests. */
export interface ReadinessCheck {
  /** Name shown in the report, such as `database`. */
  name: string;
  /** Resolves when the dependency works, and rejects with the cause otherwise. */
  run(): Promise<void>;
}

export type CheckStatus = 'ok' | 'failed';

/** The outcome of one check in a readiness report. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** Reason for a failure, on failed checks only. The cause itself goes to the server log. */
  message?: string;
}

/** The state of every check. The status is `ready` only when all of them pass. */
export interface ReadinessReport {
  status: 'ready' | 'not ready';
  checks: CheckResult[];
}

export interface ReadinessProbeOptions {
  checks: ReadinessCheck[];
  /** A check that has not settled after this long counts as failed. */
  timeoutMilliseconds: number;
  /** A report younger than this is returned again, so that a flood of requests runs the checks at most once per interval. */
  maxAgeMilliseconds: number;
  /** Called when a check starts failing, with the cause, and when it passes again, without one. */
  onStatusChange?: (name: string, status: CheckStatus, cause?: unknown) => void;
  /** Milliseconds clock, replaceable in tests. */
  now?: () => number;
}

/**
 * Runs readiness checks in parallel, each with a timeout. Concurrent callers share one run,
 * and a recent report is reused, because the checks are public and cost a database query
 * and an executor check each.
 */
export class ReadinessProbe {
  private latest?: { report: ReadinessReport; at: number };
  private running?: Promise<ReadinessReport>;
  private readonly lastStatus = new Map<string, CheckStatus>();
  private readonly now: () => number;

  constructor(private readonly options: ReadinessProbeOptions) {
    this.now = options.now ?? Date.now;
  }

  check(): Promise<ReadinessReport> {
    if (this.latest && this.now() - this.latest.at < this.options.maxAgeMilliseconds) {
      return Promise.resolve(this.latest.report);
    }
    this.running ??= this.runChecks().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runChecks(): Promise<ReadinessReport> {
    const checks = await Promise.all(this.options.checks.map((check) => this.runCheck(check)));
    const report: ReadinessReport = {
      status: checks.every((check) => check.status === 'ok') ? 'ready' : 'not ready',
      checks,
    };
    this.latest = { report, at: this.now() };
    return report;
  }

  private async runCheck(check: ReadinessCheck): Promise<CheckResult> {
    const timeout = this.options.timeoutMilliseconds;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed out'>((resolve) => {
      timer = setTimeout(() => resolve('timed out'), timeout);
    });

    let result: CheckResult = { name: check.name, status: 'ok' };
    let cause: unknown;
    try {
      const outcome = await Promise.race([check.run().then(() => 'ok' as const), timedOut]);
      if (outcome === 'timed out') {
        const message = `timed out after ${timeout} ms`;
        result = { name: check.name, status: 'failed', message };
        cause = new Error(message);
      }
    } catch (error) {
      result = {
        name: check.name,
        status: 'failed',
        message: 'the check failed: the cause is in the server log',
      };
      cause = error;
    } finally {
      clearTimeout(timer);
    }

    this.reportChange(result, cause);
    return result;
  }

  private reportChange(result: CheckResult, cause: unknown): void {
    // A check is assumed to pass before its first run, so a failure at the first run is reported.
    const previous = this.lastStatus.get(result.name) ?? 'ok';
    this.lastStatus.set(result.name, result.status);
    if (previous !== result.status) {
      this.options.onStatusChange?.(result.name, result.status, cause);
    }
  }
}
