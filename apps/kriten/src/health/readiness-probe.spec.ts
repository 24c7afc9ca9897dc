import {
  CheckStatus,
  ReadinessCheck,
  ReadinessProbe,
  ReadinessProbeOptions,
} from './readiness-probe';

const passing = (name: string): ReadinessCheck => ({ name, run: async () => undefined });

const failing = (name: string, message: string): ReadinessCheck => ({
  name,
  run: async () => {
    throw new Error(message);
  },
});

const hanging = (name: string): ReadinessCheck => ({
  name,
  run: () => new Promise<void>(() => undefined),
});

function probe(checks: ReadinessCheck[], options: Partial<ReadinessProbeOptions> = {}) {
  return new ReadinessProbe({ checks, timeoutMilliseconds: 50, maxAgeMilliseconds: 0, ...options });
}

describe('ReadinessProbe', () => {
  it('reports ready when every check passes', async () => {
    const report = await probe([passing('database'), passing('executor')]).check();

    expect(report).toEqual({
      status: 'ready',
      checks: [
        { name: 'database', status: 'ok' },
        { name: 'executor', status: 'ok' },
      ],
    });
  });

  it('names the failed check', async () => {
    const report = await probe([failing('database', 'no such table'), passing('executor')]).check();

    expect(report.status).toBe('not ready');
    expect(report.checks[0]).toEqual({
      name: 'database',
      status: 'failed',
      message: 'the check failed: the cause is in the server log',
    });
    expect(report.checks[1]).toEqual({ name: 'executor', status: 'ok' });
  });

  it('keeps the cause out of the report', async () => {
    const report = await probe([failing('database', 'password=hunter2 rejected')]).check();

    expect(JSON.stringify(report)).not.toContain('hunter2');
  });

  it('fails a check that does not settle in time', async () => {
    const report = await probe([hanging('executor')], { timeoutMilliseconds: 20 }).check();

    expect(report.status).toBe('not ready');
    expect(report.checks[0]).toEqual({
      name: 'executor',
      status: 'failed',
      message: 'timed out after 20 ms',
    });
  });

  it('shares one run between concurrent callers', async () => {
    let runs = 0;
    const counted: ReadinessCheck = {
      name: 'database',
      run: async () => {
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
      },
    };
    const readiness = probe([counted]);

    const reports = await Promise.all([readiness.check(), readiness.check(), readiness.check()]);

    expect(runs).toBe(1);
    expect(reports[1]).toBe(reports[0]);
    expect(reports[2]).toBe(reports[0]);
  });

  it('reuses a report younger than the maximum age', async () => {
    let clock = 1_000;
    let runs = 0;
    const counted: ReadinessCheck = {
      name: 'database',
      run: async () => {
        runs += 1;
      },
    };
    const readiness = probe([counted], { maxAgeMilliseconds: 500, now: () => clock });

    await readiness.check();
    clock += 499;
    await readiness.check();
    expect(runs).toBe(1);

    clock += 1;
    await readiness.check();
    expect(runs).toBe(2);
  });

  it('reports status changes once each', async () => {
    let healthy = false;
    const toggling: ReadinessCheck = {
      name: 'database',
      run: async () => {
        if (!healthy) {
          throw new Error('connection refused');
        }
      },
    };
    const changes: Array<{ name: string; status: CheckStatus; cause?: string }> = [];
    const readiness = probe([toggling], {
      onStatusChange: (name, status, cause) =>
        changes.push({ name, status, cause: (cause as Error | undefined)?.message }),
    });

    await readiness.check();
    await readiness.check();
    healthy = true;
    await readiness.check();
    await readiness.check();

    expect(changes).toEqual([
      { name: 'database', status: 'failed', cause: 'connection refused' },
      { name: 'database', status: 'ok', cause: undefined },
    ]);
  });

  it('stays silent while every check passes', async () => {
    const changes: string[] = [];
    const readiness = probe([passing('database')], {
      onStatusChange: (name) => changes.push(name),
    });

    await readiness.check();
    await readiness.check();

    expect(changes).toEqual([]);
  });
});
