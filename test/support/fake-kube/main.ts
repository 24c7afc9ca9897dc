import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeKube } from './index';

/**
 * Starts the fake Kubernetes API server as a process, for benchmarks and manual use:
 * `node --import tsx test/support/fake-kube/main.ts [namespace]`. It prints `url=…` and
 * `kubeconfig=…` lines on stdout and runs until SIGINT or SIGTERM.
 */
async function main(): Promise<void> {
  const namespace = process.argv[2] ?? 'kriten';
  const fake = await startFakeKube({ namespaces: [namespace] });
  const dir = mkdtempSync(join(tmpdir(), 'fake-kube-config-'));
  const kubeconfig = fake.writeKubeconfig(dir);
  process.stdout.write(`url=${fake.url}\nkubeconfig=${kubeconfig}\n`);

  const shutdown = (): void => {
    void fake.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`fake-kube failed to start: ${String(error)}\n`);
  process.exit(1);
});
