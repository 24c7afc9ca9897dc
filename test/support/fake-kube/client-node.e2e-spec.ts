import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from '../temp';
import { startFakeKube, type FakeKube } from './index';

const run = promisify(execFile);

jest.setTimeout(60_000);

describe('fake kube with client-node', () => {
  let fake: FakeKube;

  beforeAll(async () => {
    fake = await startFakeKube({ bookmarkIntervalMilliseconds: 100 });
  });

  afterAll(async () => {
    await fake.stop();
  });

  it('client-node runs a job end to end', async () => {
    const repository = makeTempDir('fake-kube-client-repo-');
    writeFileSync(
      join(repository, 'run.sh'),
      'echo "vars=$EXTRA_VARS key=$api_key region=$region"\n',
    );
    const git = (...args: string[]) =>
      run('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], {
        cwd: repository,
      });
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('commit', '-q', '-m', 'add script');
    const kubeconfig = fake.writeKubeconfig(makeTempDir('fake-kube-client-config-'));

    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, 'client-node-check.ts'),
        kubeconfig,
        `file://${repository}`,
      ],
      { cwd: join(__dirname, '../../..') },
    );
    const summary = JSON.parse(stdout) as Record<string, unknown>;

    expect(summary.secretKeys).toEqual(['api_key', 'region']);
    expect(summary.log).toBe('vars={"a":"$(b)"} key=s3cr3t region=eu\n');
    expect(summary.followed).toBe(summary.log);
    expect(summary.watchEvents).toEqual(expect.arrayContaining(['ADDED', 'MODIFIED']));
    expect(summary.readAfterDelete).toBe(404);
    expect(fake.violations).toEqual([]);
    const verbs = new Set(fake.calls.map((call) => `${call.verb} ${call.resource}`));
    expect([...verbs].sort()).toEqual([
      'create jobs',
      'create secrets',
      'delete jobs',
      'get jobs',
      'get pods',
      'list pods',
      'patch secrets',
      'watch jobs',
    ]);
  });
});
