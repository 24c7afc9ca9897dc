import { DatabaseTarget, databaseTargets } from './databases';
import { FakeKube, RecordedCall, RecordedViolation, startFakeKube } from './fake-kube';
import { makeTempDir } from './temp';

/** What an e2e suite runs its server with for one executor, started before the server. */
export interface ExecutorRuntime {
  /** Variables that select and configure the executor, for KritenServer.start. */
  env: Record<string, string>;
  /** The fake API server; only the kubernetes executor has one. */
  fake?: FakeKube;
  /** Objects sent so far that broke the Kubernetes OpenAPI schema; always empty for local. */
  violations(): RecordedViolation[];
  /** Every request the fake API server received so far; empty for local. */
  calls(): RecordedCall[];
  stop(): Promise<void>;
}

/** An executor that an e2e suite runs against. */
export interface ExecutorTarget {
  name: 'local' | 'kubernetes';
  start(): Promise<ExecutorRuntime>;
}

/** The namespace Kriten works in against the fake API server. */
export const TEST_NAMESPACE = 'kriten-e2e';

export const localExecutor: ExecutorTarget = {
  name: 'local',
  start: async () => ({
    env: { KRITEN_EXECUTOR: 'local' },
    violations: () => [],
    calls: () => [],
    stop: async () => undefined,
  }),
};

export const kubernetesExecutor: ExecutorTarget = {
  name: 'kubernetes',
  async start() {
    const fake = await startFakeKube({ namespaces: [TEST_NAMESPACE] });
    const kubeconfig = fake.writeKubeconfig(makeTempDir('kriten-kubeconfig-'));
    return {
      env: {
        KRITEN_EXECUTOR: 'kubernetes',
        KUBECONFIG: kubeconfig,
        KRITEN_NAMESPACE: TEST_NAMESPACE,
      },
      fake,
      violations: () => [...fake.violations],
      calls: () => [...fake.calls],
      stop: () => fake.stop(),
    };
  },
};

/**
 * Returns the executors that e2e suites run against: local and kubernetes, or those named in
 * KRITEN_TEST_EXECUTORS (comma-separated, such as `local`).
 */
export function executorTargets(): ExecutorTarget[] {
  const all = [localExecutor, kubernetesExecutor];
  const selected = process.env.KRITEN_TEST_EXECUTORS;
  if (selected === undefined || selected === '') {
    return all;
  }
  const names = selected.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !all.some((target) => target.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `KRITEN_TEST_EXECUTORS names unknown executors ${unknown.join(', ')}: use local and kubernetes`,
    );
  }
  return all.filter((target) => names.includes(target.name));
}

/** One database with one executor; `name` reads like `sqlite with the local executor`. */
export interface TestTarget {
  name: string;
  database: DatabaseTarget;
  executor: ExecutorTarget;
}

/** Returns every database target paired with every executor target. */
export function testTargets(): TestTarget[] {
  return databaseTargets().flatMap((database) =>
    executorTargets().map((executor) => ({
      name: `${database.name} with the ${executor.name} executor`,
      database,
      executor,
    })),
  );
}

/**
 * Returns the database targets for suites that only make sense with one executor, such as
 * checks of this host's processes. The list is empty when KRITEN_TEST_EXECUTORS leaves that
 * executor out.
 */
export function databaseTargetsFor(executor: ExecutorTarget['name']): DatabaseTarget[] {
  return executorTargets().some((target) => target.name === executor) ? databaseTargets() : [];
}

/**
 * Declares a describe block per target, like describe.each, and nothing when there is no
 * target: describe.each rejects an empty table.
 */
export function describeEachTarget<T extends object>(
  targets: T[],
  name: string,
  body: (target: T) => void,
): void {
  if (targets.length > 0) {
    describe.each(targets)(name, body);
  }
}
