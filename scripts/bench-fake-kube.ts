// Runs the fake Kubernetes API server for `npm run bench` as a process of its own, so that it
// does not share the benchmark's event loop, and answers the benchmark's questions about what
// it saw. Start: `node --import tsx scripts/bench-fake-kube.ts <namespace>`. It prints
// `url=`, `token=` and `kubeconfig=` lines, then reads one command a line on stdin:
//   calls <from>   prints `calls <JSON>`: the recorded requests from index <from> on
// and stops on SIGTERM or when stdin closes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startFakeKube } from '../test/support/fake-kube';

async function main(): Promise<void> {
  const namespace = process.argv[2] ?? 'kriten-bench';
  const fake = await startFakeKube({ namespaces: [namespace] });
  const kubeconfig = fake.writeKubeconfig(mkdtempSync(join(tmpdir(), 'bench-kubeconfig-')));
  process.stdout.write(`url=${fake.url}\ntoken=${fake.token}\nkubeconfig=${kubeconfig}\n`);

  const stop = (): void => {
    void fake.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  const lines = createInterface({ input: process.stdin });
  lines.on('close', stop);
  lines.on('line', (line) => {
    const [command, argument] = line.trim().split(' ');
    if (command === 'calls') {
      const calls = fake.calls.slice(Number(argument ?? 0)).map((call) => ({
        verb: call.verb,
        resource: call.resource,
        subresource: call.subresource,
        code: call.code,
      }));
      process.stdout.write(`calls ${JSON.stringify(calls)}\n`);
    } else {
      process.stdout.write(`error unknown command '${command}': use calls\n`);
    }
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench fake API server failed to start: ${String(error)}\n`);
  process.exit(1);
});
