import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JOB_EXECUTOR, JobExecutor } from '@kriten/executor';
import { findReadinessProblems } from '@kriten/executor/local/readiness';
import { ReadinessProbe, ReadinessReport } from './readiness-probe';

/** A check taking longer than this fails, well within the probe timeouts in k8s/. */
const CHECK_TIMEOUT_MILLISECONDS = 3_000;

/** Probes arrive every few seconds from each kubelet or load balancer, so one run a second serves them all. */
const REPORT_MAX_AGE_MILLISECONDS = 1_000;

/** Checks that the database and the executor can serve requests. */
@Injectable()
export class HealthService {
  private readonly logger = new Logger(HealthService.name);
  private readonly probe: ReadinessProbe;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(JOB_EXECUTOR) private readonly executor: JobExecutor,
  ) {
    this.probe = new ReadinessProbe({
      checks: [
        { name: 'database', run: () => this.queryDatabase() },
        { name: 'executor', run: () => this.checkExecutor() },
      ],
      timeoutMilliseconds: CHECK_TIMEOUT_MILLISECONDS,
      maxAgeMilliseconds: REPORT_MAX_AGE_MILLISECONDS,
      onStatusChange: (name, status, cause) => {
        if (status === 'failed') {
          this.logger.warn(`readiness check '${name}' failed: ${describe(cause)}`);
        } else {
          this.logger.log(`readiness check '${name}' passes again`);
        }
      },
    });
  }

  checkReadiness(): Promise<ReadinessReport> {
    return this.probe.check();
  }

  /** Reads the migrations table, so that a database that lost Kriten's schema fails too. */
  private async queryDatabase(): Promise<void> {
    const table = this.dataSource.driver.escape(
      this.dataSource.options.migrationsTableName ?? 'migrations',
    );
    await this.dataSource.query(`SELECT 1 FROM ${table} LIMIT 1`);
  }

  /**
   * Checks the executor without side effects. JobExecutor.checkReady() cannot serve here,
   * because it also prepares the executor at start (the local executor empties its trash, and
   * the kubernetes executor starts its watches).
   */
  private async checkExecutor(): Promise<void> {
    if (hasHealthCheck(this.executor)) {
      await this.executor.checkHealth();
      return;
    }
    if (this.executor.kind === 'local') {
      const problems = await findReadinessProblems();
      if (problems.length > 0) {
        throw new Error(`the local executor cannot run jobs: ${problems.join('; ')}`);
      }
    }
    // NOTE: an executor without checkHealth() other than the local one counts as ready here.
  }
}

/** An executor with a cheap check, free of side effects, that may run every second. */
interface HealthCheckedExecutor extends JobExecutor {
  checkHealth(): Promise<void>;
}

function hasHealthCheck(executor: JobExecutor): executor is HealthCheckedExecutor {
  return typeof (executor as Partial<HealthCheckedExecutor>).checkHealth === 'function';
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
