import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TRUNCATION_MARKER_PREFIX } from '@kriten/results';
import type { JobEventSink, JobLaunch, JobOutcome } from '../job-executor';
import { LocalExecutor } from './local-executor';
import type { LocalExecutorOptions } from './local-executor-options';

jest.setTimeout(60_000);

/** Collects the executor's log lines so tests can check that no secret reaches them. */
class RecordingLogger {
  readonly lines: string[] = [];
  log(message: string): void {
    this.lines.push(message);
  }
  warn(message: string): void {
    this.lines.push(message);
  }
  error(message: string): void {
    this.lines.push(message);
  }
  debug(message: string): void {
    this.lines.push(message);
  }
}

/** Records the executor's events and lets a test wait for a job's end. */
class RecordingSink implements JobEventSink {
  readonly started = new Map<string, Date>();
  readonly endCounts = new Map<string, number>();
  private readonly outcomes = new Map<string, JobOutcome>();
  private readonly waiters = new Map<string, (outcome: JobOutcome) => void>();

  async jobStarted(jobId: string, startedAt: Date): Promise<void> {
    this.started.set(jobId, startedAt);
  }

  async jobEnded(jobId: string, outcome: JobOutcome): Promise<void> {
    this.endCounts.set(jobId, (this.endCounts.get(jobId) ?? 0) + 1);
    this.outcomes.set(jobId, outcome);
    this.waiters.get(jobId)?.(outcome);
  }

  waitForEnd(jobId: string): Promise<JobOutcome> {
    const outcome = this.outcomes.get(jobId);
    if (outcome !== undefined) {
      return Promise.resolve(outcome);
    }
    return new Promise((resolve) => this.waiters.set(jobId, resolve));
  }
}

const GIT_TEST_ENV = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

let root: string;
let realGit: string;
let gitArgvLog: string;
let originalPath: string | undefined;
let originDir: string;
let originUrl: string;
let jobCounter = 0;

function git(cwd: string, ...args: string[]): string {
  return execFileSync(realGit, args, {
    cwd,
    env: { ...GIT_TEST_ENV, HOME: root },
    encoding: 'utf8',
  });
}

/** Creates a repository with one commit on `main` and returns its folder. */
function createRepository(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '--quiet', '--initial-branch=main');
  commitFiles(dir, files, 'initial');
  return dir;
}

function commitFiles(dir: string, files: Record<string, string>, message: string): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '-m', message);
}

function jobLaunch(overrides: Partial<JobLaunch> = {}): JobLaunch {
  jobCounter++;
  return {
    jobId: `task-${jobCounter}${randomBytes(3).toString('hex')}`,
    taskName: 'task',
    runnerName: 'runner',
    owner: 'tester',
    command: 'true',
    gitUrl: originUrl,
    branch: 'main',
    image: 'unused',
    secrets: {},
    timeoutSeconds: 30,
    ...overrides,
  };
}

async function runJob(
  executor: LocalExecutor,
  overrides: Partial<JobLaunch> = {},
): Promise<{ job: JobLaunch; outcome: JobOutcome; sink: RecordingSink }> {
  const job = jobLaunch(overrides);
  const sink = new RecordingSink();
  await executor.launch(job, sink);
  const outcome = await sink.waitForEnd(job.jobId);
  return { job, outcome, sink };
}

function createExecutor(
  name: string,
  overrides: Partial<LocalExecutorOptions> = {},
): { executor: LocalExecutor; dataDir: string; logger: RecordingLogger } {
  const dataDir = join(root, name);
  const logger = new RecordingLogger();
  const executor = new LocalExecutor({
    dataDir,
    maxOutputBytes: 64 * 1024,
    repoRefreshSeconds: 1,
    logger,
    ...overrides,
  });
  return { executor, dataDir, logger };
}

/** Returns the pids of live processes whose command line contains text. */
function processesWithText(text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) {
        pids.push(Number(name));
      }
    } catch {
      continue;
    }
  }
  return pids;
}

async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return condition();
}

/** Returns a unique `sleep` argument that GNU sleep accepts, to find its process in /proc. */
function sleepMarker(): string {
  return `1000.${Date.now()}${Math.floor(Math.random() * 1e6)}`;
}

/** Returns the git command lines that the executor ran, as recorded by the git wrapper. */
function recordedGitCommands(): string[][] {
  if (!existsSync(gitArgvLog)) {
    return [];
  }
  return readFileSync(gitArgvLog, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\x1f').filter((arg) => arg.length > 0));
}

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'kriten-local-executor-')));
  realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();

  // A git wrapper first on PATH records every git command line the executor runs.
  const binDir = join(root, 'bin');
  gitArgvLog = join(root, 'git-argv.log');
  mkdirSync(binDir);
  writeFileSync(
    join(binDir, 'git'),
    `#!/bin/sh
[ -n "$KRITEN_GIT_TOKEN" ] && printf 'token-in-environment\\037' >> '${gitArgvLog}'
printf '%s\\037' "$@" >> '${gitArgvLog}'
printf '\\n' >> '${gitArgvLog}'
exec '${realGit}' "$@"
`,
  );
  chmodSync(join(binDir, 'git'), 0o755);
  originalPath = process.env.PATH;
  process.env.PATH = `${binDir}:${originalPath}`;
  process.env.NO_PROXY = '127.0.0.1';
  process.env.no_proxy = '127.0.0.1';

  originDir = createRepository('origin', {
    'data/file.txt': 'file content\n',
    'version.txt': 'v1\n',
    '.gitattributes': 'ignored.txt export-ignore\nsubst.txt export-subst\n',
    'ignored.txt': 'kept despite export-ignore\n',
    'subst.txt': '$Format:%H$\n',
  });
  symlinkSync('data/file.txt', join(originDir, 'link'));
  symlinkSync('/etc/hostname', join(originDir, 'absolute-link'));
  symlinkSync('missing/file', join(originDir, 'dangling-link'));
  git(originDir, 'add', 'link', 'absolute-link', 'dangling-link');
  git(originDir, 'commit', '--quiet', '-m', 'add link');
  originUrl = `file://${originDir}`;
});

afterAll(() => {
  process.env.PATH = originalPath;
  rmSync(root, { recursive: true, force: true });
});

describe('LocalExecutor', () => {
  let executor: LocalExecutor;
  let dataDir: string;
  let logger: RecordingLogger;

  beforeAll(() => {
    ({ executor, dataDir, logger } = createExecutor('data'));
  });

  afterAll(async () => {
    await executor.shutdown();
  });

  test('checkReady passes with bwrap, git and tar', async () => {
    await expect(executor.checkReady()).resolves.toBeUndefined();
  });

  test('checkReady names missing tools and their packages', async () => {
    // The git wrapper's folder alone has git, but neither bwrap nor tar.
    const fullPath = process.env.PATH;
    process.env.PATH = join(root, 'bin');
    try {
      const failure = executor.checkReady();

      await expect(failure).rejects.toThrow(/bubblewrap \(bwrap\) is not installed/);
      await expect(failure).rejects.toThrow('apt-get install bubblewrap');
      await expect(failure).rejects.toThrow('dnf install bubblewrap');
      await expect(failure).rejects.toThrow(/tar is not installed/);
      await expect(failure).rejects.not.toThrow(/git is not installed/);
    } finally {
      process.env.PATH = fullPath;
    }
  });

  describe('checkout', () => {
    test('runs in the checkout with the repository files', async () => {
      const { job, outcome, sink } = await runJob(executor, {
        command:
          'pwd; cat data/file.txt; readlink link; cat ignored.txt subst.txt; ' +
          'readlink absolute-link dangling-link; ls -A',
      });

      const lines = outcome.output.split('\n');
      expect(outcome.status).toBe('succeeded');
      expect(outcome.exitCode).toBe(0);
      expect(lines[0]).toBe(join(dataDir, 'work', job.jobId, 'checkout'));
      expect(lines[1]).toBe('file content');
      expect(lines[2]).toBe('data/file.txt');
      expect(lines[3]).toBe('kept despite export-ignore');
      expect(lines[4]).toBe('$Format:%H$');
      expect(lines[5]).toBe('/etc/hostname');
      expect(lines[6]).toBe('missing/file');
      expect(outcome.output).not.toMatch(/^\.git$/m);
      expect(sink.started.has(job.jobId)).toBe(true);
      expect(sink.endCounts.get(job.jobId)).toBe(1);
    });

    test('checkout is writable and removed after the job', async () => {
      const { job, outcome } = await runJob(executor, {
        command: 'echo new > new.txt && mkdir -p out && cat new.txt',
      });

      expect(outcome.status).toBe('succeeded');
      expect(outcome.output).toBe('new\n');
      expect(await waitUntil(() => !existsSync(join(dataDir, 'work', job.jobId)))).toBe(true);
    });

    test('new commit reaches a job after the refresh interval', async () => {
      const repoDir = createRepository('refresh-origin', { 'version.txt': 'v1\n' });
      const refreshing = createExecutor('data-refresh', { repoRefreshSeconds: 2 });
      const overrides = {
        gitUrl: `file://${repoDir}`,
        runnerName: 'refresh',
        command: 'cat version.txt',
      };

      const fetchedAt = performance.now();
      const first = await runJob(refreshing.executor, overrides);
      commitFiles(repoDir, { 'version.txt': 'v2\n' }, 'second');
      const beforeRefresh = await runJob(refreshing.executor, overrides);
      const elapsed = performance.now() - fetchedAt;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2100 - elapsed)));
      const afterRefresh = await runJob(refreshing.executor, overrides);

      expect(first.outcome.output).toBe('v1\n');
      expect(elapsed).toBeLessThan(2000);
      expect(beforeRefresh.outcome.output).toBe('v1\n');
      expect(afterRefresh.outcome.output).toBe('v2\n');

      const snapshotsDir = join(refreshing.dataDir, 'repos', 'refresh', 'snapshots');
      const newCommit = git(repoDir, 'rev-parse', 'HEAD').trim();
      const onlyNewest = await waitUntil(() => readdirSync(snapshotsDir).join() === newCommit);
      expect(readdirSync(snapshotsDir)).toEqual([newCommit]);
      expect(onlyNewest).toBe(true);
      await refreshing.executor.shutdown();
    });

    test('concurrent jobs share one fetch', async () => {
      const repoDir = createRepository('shared-origin', { 'version.txt': 'shared\n' });
      const overrides = {
        gitUrl: `file://${repoDir}`,
        runnerName: 'shared',
        command: 'cat version.txt',
      };

      const results = await Promise.all(
        Array.from({ length: 5 }, () => runJob(executor, overrides)),
      );

      const mirror = join(dataDir, 'repos', 'shared', 'mirror.git');
      const fetches = recordedGitCommands().filter(
        (args) => args.includes(`--git-dir=${mirror}`) && args.includes('fetch'),
      );
      expect(results.map((result) => result.outcome.output)).toEqual(Array(5).fill('shared\n'));
      expect(fetches).toHaveLength(1);
    });

    test('fetch passes the URL after --end-of-options', async () => {
      await runJob(executor, { runnerName: 'options' });

      const fetch = recordedGitCommands().find(
        (args) => args.includes('fetch') && args.some((arg) => arg.includes('/repos/options/')),
      );
      expect(fetch).toBeDefined();
      const urlIndex = fetch!.indexOf(originUrl);
      expect(fetch![urlIndex - 1]).toBe('--end-of-options');
      expect(fetch![urlIndex + 1]).toBe('+refs/heads/main:refs/heads/main');
    });

    test('URL or branch change re-creates the mirror', async () => {
      const otherDir = createRepository('other-origin', { 'version.txt': 'other\n' });
      git(otherDir, 'checkout', '--quiet', '-b', 'feature');
      commitFiles(otherDir, { 'version.txt': 'feature\n' }, 'feature');
      const overrides = { runnerName: 'switching', command: 'cat version.txt' };

      const first = await runJob(executor, { ...overrides, gitUrl: originUrl });
      const afterUrlChange = await runJob(executor, { ...overrides, gitUrl: `file://${otherDir}` });
      const afterBranchChange = await runJob(executor, {
        ...overrides,
        gitUrl: `file://${otherDir}`,
        branch: 'feature',
      });

      expect(first.outcome.output).toBe('v1\n');
      expect(afterUrlChange.outcome.output).toBe('other\n');
      expect(afterBranchChange.outcome.output).toBe('feature\n');
    });

    test('forgetRunner deletes the runner folder', async () => {
      await runJob(executor, { runnerName: 'forgotten' });
      const runnerDir = join(dataDir, 'repos', 'forgotten');
      expect(existsSync(join(runnerDir, 'mirror.git'))).toBe(true);

      await executor.forgetRunner('forgotten');

      expect(existsSync(runnerDir)).toBe(false);
      const again = await runJob(executor, { runnerName: 'forgotten', command: 'cat version.txt' });
      expect(again.outcome.output).toBe('v1\n');
    });

    test('bad git URL fails with the checkout reason', async () => {
      const missing = join(root, 'does-not-exist');
      const { outcome, sink, job } = await runJob(executor, {
        runnerName: 'broken',
        gitUrl: `file://${missing}`,
      });

      expect(outcome.status).toBe('failed');
      expect(outcome.exitCode).toBeNull();
      expect(outcome.reason).toMatch(
        new RegExp(`^checkout of file://${missing} branch 'main' failed: .+`),
      );
      expect(outcome.reason).toContain('does not appear to be a git repository');
      expect(sink.started.has(job.jobId)).toBe(false);
      expect(sink.endCounts.get(job.jobId)).toBe(1);
      expect(existsSync(join(dataDir, 'work', job.jobId))).toBe(false);
    });

    test('missing branch fails with the checkout reason', async () => {
      const { outcome } = await runJob(executor, {
        runnerName: 'nobranch',
        branch: 'no-such-branch',
      });

      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toMatch(/^checkout of file:\/\/.+ branch 'no-such-branch' failed: /);
      expect(outcome.reason).toContain("couldn't find remote ref refs/heads/no-such-branch");
    });

    test('invalid branch name fails without running git', async () => {
      const { outcome } = await runJob(executor, {
        runnerName: 'badbranch',
        branch: '--upload-pack=x',
      });

      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toContain("branch name '--upload-pack=x' is invalid");
      expect(
        recordedGitCommands().some((args) => args.some((arg) => arg.includes('badbranch'))),
      ).toBe(false);
    });
  });

  describe('sandbox', () => {
    test('secrets are read-only files and variables', async () => {
      const { outcome } = await runJob(executor, {
        secrets: { API_KEY: 's3cret value', 'db.password': 'pa ss' },
        command: [
          'cat /etc/secret/API_KEY; echo',
          'cat /etc/secret/db.password; echo',
          'printf "%s\\n" "$API_KEY"',
          'stat -c %a /etc/secret/API_KEY',
          '{ echo x > /etc/secret/API_KEY; } 2>/dev/null && echo secret-writable',
          '{ echo x > /etc/new-file; } 2>/dev/null && echo etc-writable',
          'true',
        ].join('\n'),
      });

      expect(outcome.output.split('\n')).toEqual([
        's3cret value',
        'pa ss',
        's3cret value',
        '400',
        '',
      ]);
    });

    test('host /etc stays readable, relative symlinks included', async () => {
      const hostOsRelease = readFileSync('/etc/os-release', 'utf8');
      const hostHostname = readFileSync('/etc/hostname', 'utf8');

      const { outcome } = await runJob(executor, {
        command: 'cat /etc/os-release; cat /etc/hostname',
      });

      expect(outcome.status).toBe('succeeded');
      expect(outcome.output).toBe(hostOsRelease + hostHostname);
    });

    test('server environment does not leak', async () => {
      const marker = `marker-${randomBytes(8).toString('hex')}`;
      process.env.KRITEN_TEST_LEAK = marker;
      try {
        const { job, outcome } = await runJob(executor, { command: 'env' });

        const variables = outcome.output.split('\n').filter((line) => line.length > 0);
        const names = variables.map((line) => line.slice(0, line.indexOf('='))).sort();
        expect(outcome.output).not.toContain(marker);
        expect(names).toEqual(['HOME', 'KRITEN_JOB_ID', 'LANG', 'PATH', 'PWD']);
        expect(variables).toContain(
          'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        );
        expect(variables).toContain('HOME=/tmp');
        expect(variables).toContain('LANG=C.UTF-8');
        expect(variables).toContain(`KRITEN_JOB_ID=${job.jobId}`);
      } finally {
        delete process.env.KRITEN_TEST_LEAK;
      }
    });

    test('secrets cannot override job variables', async () => {
      const { job, outcome } = await runJob(executor, {
        secrets: { KRITEN_JOB_ID: 'forged', EXTRA_VARS: 'forged' },
        extraVars: '{"real":true}',
        command: 'printf "%s\\n%s\\n" "$KRITEN_JOB_ID" "$EXTRA_VARS"',
      });

      expect(outcome.output).toBe(`${job.jobId}\n{"real":true}\n`);
    });

    test('EXTRA_VARS arrives byte for byte', async () => {
      const extraVars =
        JSON.stringify({
          quote: `it's "quoted"`,
          command: '$(touch /tmp/x) `id`',
          text: 'a\nb',
          emoji: 'żółw 🐢',
        }) + '\nsecond line with \\ backslash, \t tab and $HOME\n';

      const { outcome } = await runJob(executor, { extraVars, command: 'printf %s "$EXTRA_VARS"' });

      expect(outcome.output).toBe(extraVars);
    });

    test('EXTRA_VARS is unset without a body', async () => {
      const { outcome } = await runJob(executor, { command: 'echo "${EXTRA_VARS-unset}"' });

      expect(outcome.output).toBe('unset\n');
    });

    test('data directory is hidden', async () => {
      writeFileSync(join(dataDir, 'hidden-marker'), 'server data');

      const { outcome } = await runJob(executor, {
        command: `ls -A '${dataDir}'; cat '${dataDir}/hidden-marker'; ls '${dataDir}/repos'; echo done`,
      });

      expect(outcome.output).not.toContain('server data');
      expect(outcome.output).not.toContain('hidden-marker\n');
      expect(outcome.output).not.toContain('git-credential-helper');
      expect(outcome.output).toMatch(/^work\n/);
      expect(outcome.output).toMatch(/done\n$/);
    });

    test('stdout and stderr interleave in order', async () => {
      const { outcome } = await runJob(executor, {
        command: 'echo out1; echo err1 >&2; echo out2; echo err2 >&2',
      });

      expect(outcome.output).toBe('out1\nerr1\nout2\nerr2\n');
    });

    test('non-zero exit code fails the job', async () => {
      const { outcome } = await runJob(executor, { command: 'echo failing; exit 3' });

      expect(outcome.status).toBe('failed');
      expect(outcome.exitCode).toBe(3);
      expect(outcome.reason).toBeUndefined();
      expect(outcome.output).toBe('failing\n');
    });

    test('sandbox killed by a signal reports the signal', async () => {
      const marker = sleepMarker();
      const sink = new RecordingSink();
      const job = jobLaunch({ command: `sleep ${marker}` });
      await executor.launch(job, sink);

      // Until the command runs, bwrap may not yet have armed --die-with-parent.
      await waitUntil(() => processesWithText(`sleep\0${marker}`).length > 0);
      const outer = processesWithText(marker).find((pid) => parentOf(pid) === process.pid);
      process.kill(outer!, 'SIGTERM');
      const outcome = await sink.waitForEnd(job.jobId);

      expect(outcome.status).toBe('failed');
      expect(outcome.exitCode).toBeNull();
      expect(outcome.reason).toBe('the sandbox was killed by signal SIGTERM');
      expect(await waitUntil(() => processesWithText(marker).length === 0)).toBe(true);
    });

    test('output over the cap is truncated', async () => {
      const capped = createExecutor('data-capped', { maxOutputBytes: 1000 });

      const { outcome } = await runJob(capped.executor, {
        command: "echo head-line; head -c 5000 /dev/zero | tr '\\0' a; echo; echo tail-line",
      });

      expect(outcome.outputTruncated).toBe(true);
      expect(outcome.output).toContain(TRUNCATION_MARKER_PREFIX);
      expect(outcome.output.startsWith('head-line\n')).toBe(true);
      expect(outcome.output.endsWith('tail-line\n')).toBe(true);
      expect(Buffer.byteLength(outcome.output)).toBeLessThan(1100);
      await capped.executor.shutdown();
    });
  });

  describe('stopping jobs', () => {
    test('timeout kills the whole process tree', async () => {
      const detached = sleepMarker();
      const background = sleepMarker();
      const sink = new RecordingSink();
      const job = jobLaunch({
        timeoutSeconds: 1,
        command: `setsid sleep ${detached} & sleep ${background} & echo started; wait`,
      });

      await executor.launch(job, sink);
      const bothRunning = await waitUntil(
        () => processesWithText(detached).length > 0 && processesWithText(background).length > 0,
      );
      const outcome = await sink.waitForEnd(job.jobId);

      expect(bothRunning).toBe(true);
      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toBe('timed out after 1 s');
      expect(outcome.exitCode).toBeNull();
      expect(outcome.output).toBe('started\n');
      expect(await waitUntil(() => processesWithText(detached).length === 0)).toBe(true);
      expect(await waitUntil(() => processesWithText(background).length === 0)).toBe(true);
    });

    test('cancel kills the whole process tree', async () => {
      const detached = sleepMarker();
      const sink = new RecordingSink();
      const job = jobLaunch({ command: `setsid sleep ${detached} & echo started; wait` });

      await executor.launch(job, sink);
      const printed = await waitUntil(
        async () => (await executor.readLiveOutput(job.jobId)) === 'started\n',
      );
      const running = processesWithText(detached).length > 0;
      const cancelled = await executor.cancel(job.jobId);
      const outcome = await sink.waitForEnd(job.jobId);

      expect(printed).toBe(true);
      expect(running).toBe(true);
      expect(cancelled).toBe(true);
      expect(outcome.status).toBe('cancelled');
      expect(outcome.reason).toBe('cancelled');
      expect(outcome.output).toBe('started\n');
      expect(sink.endCounts.get(job.jobId)).toBe(1);
      expect(await waitUntil(() => processesWithText(detached).length === 0)).toBe(true);
      expect(await executor.cancel(job.jobId)).toBe(false);
    });

    test('cancel right after launch leaves no process', async () => {
      // bwrap sets up the sandbox in the first few milliseconds, so the cancel lands at
      // different steps of that setup.
      const markers: string[] = [];
      for (let attempt = 0; attempt < 60; attempt++) {
        const marker = sleepMarker();
        const sink = new RecordingSink();
        const job = jobLaunch({ command: `sleep ${marker}` });
        markers.push(marker);

        await executor.launch(job, sink);
        await new Promise((resolve) => setTimeout(resolve, attempt % 6));
        await executor.cancel(job.jobId);
        await sink.waitForEnd(job.jobId);
      }

      const leftOver = () => markers.filter((marker) => processesWithText(marker).length > 0);
      await waitUntil(() => leftOver().length === 0, 2000);
      expect(leftOver()).toEqual([]);
    });

    test('cancel during checkout ends the job unstarted', async () => {
      const sink = new RecordingSink();
      const job = jobLaunch({ runnerName: 'cancel-early', command: 'echo should-not-run' });

      const launched = executor.launch(job, sink);
      const cancelled = await executor.cancel(job.jobId);
      await launched;
      const outcome = await sink.waitForEnd(job.jobId);

      expect(cancelled).toBe(true);
      expect(outcome.status).toBe('cancelled');
      expect(outcome.output).toBe('');
      expect(sink.started.has(job.jobId)).toBe(false);
    });

    test('cancel of an unknown job returns false', async () => {
      expect(await executor.cancel('task-unknown')).toBe(false);
    });

    test('readLiveOutput is undefined for an unknown job', async () => {
      expect(await executor.readLiveOutput('task-unknown')).toBeUndefined();
    });

    test('shutdown fails running jobs and rejects new ones', async () => {
      const stopping = createExecutor('data-shutdown');
      const marker = sleepMarker();
      const sink = new RecordingSink();
      const job = jobLaunch({ command: `sleep ${marker}` });
      await stopping.executor.launch(job, sink);

      await stopping.executor.shutdown();
      const outcome = await sink.waitForEnd(job.jobId);

      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toBe('the server stopped while the job was running');
      expect(await waitUntil(() => processesWithText(marker).length === 0)).toBe(true);
      await expect(stopping.executor.launch(jobLaunch(), new RecordingSink())).rejects.toThrow(
        'shutting down',
      );
    });

    test('recoverUnfinished fails jobs of an earlier process', async () => {
      const staleDir = join(dataDir, 'work', 'task-stale1');
      mkdirSync(join(staleDir, 'checkout'), { recursive: true });
      writeFileSync(join(staleDir, 'output.log'), 'printed before the stop\n');
      mkdirSync(join(dataDir, 'work', 'task-orphan'), { recursive: true });
      const sink = new RecordingSink();

      await executor.recoverUnfinished([{ jobId: 'task-stale1', startedAt: new Date() }], sink);
      const outcome = await sink.waitForEnd('task-stale1');

      expect(outcome.status).toBe('failed');
      expect(outcome.exitCode).toBeNull();
      expect(outcome.reason).toBe('the server stopped while the job was running');
      expect(outcome.output).toBe('printed before the stop\n');
      expect(existsSync(staleDir)).toBe(false);
      expect(existsSync(join(dataDir, 'work', 'task-orphan'))).toBe(false);
    });
  });

  describe('git token', () => {
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const acceptedCredentials = [`kriten:${token}`, `alice:${token}`, 'alice:pw-in-url'];
    const authorizedUsers: string[] = [];
    let server: Server;
    let baseUrl: string;

    beforeAll(async () => {
      // A dumb-HTTP git server with basic authentication, listening on 127.0.0.1 only.
      const servedDir = join(root, 'served.git');
      execFileSync(realGit, ['clone', '--quiet', '--bare', originDir, servedDir]);
      execFileSync(realGit, ['--git-dir', servedDir, 'update-server-info']);

      server = createServer((request, response) => {
        const header = request.headers.authorization ?? '';
        const credentials = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
        if (!acceptedCredentials.includes(credentials)) {
          response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="kriten-test"' });
          response.end();
          return;
        }
        authorizedUsers.push(credentials.slice(0, credentials.indexOf(':')));

        const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
        const file = resolve(servedDir, path.replace(/^\/repo\.git\//, ''));
        if (!path.startsWith('/repo.git/') || !file.startsWith(servedDir) || !existsSync(file)) {
          response.writeHead(404);
          response.end();
          return;
        }
        response.writeHead(200);
        response.end(readFileSync(file));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    test('token reaches git only through the credential helper', async () => {
      const { outcome } = await runJob(executor, {
        runnerName: 'private',
        gitUrl: `${baseUrl}/repo.git`,
        gitToken: token,
        command: 'cat data/file.txt; env; cat /etc/secret/* 2>/dev/null; true',
      });

      const fetch = recordedGitCommands().find(
        (args) => args.includes('fetch') && args.some((arg) => arg.includes('/repos/private/')),
      );
      const helper = readFileSync(join(dataDir, 'git-credential-helper.sh'), 'utf8');
      expect(outcome.status).toBe('succeeded');
      expect(outcome.output).toContain('file content');
      expect(outcome.output).not.toContain(token);
      expect(authorizedUsers).toContain('kriten');
      expect(fetch).toContain('token-in-environment');
      expect(readFileSync(gitArgvLog, 'utf8')).not.toContain(token);
      expect(helper).not.toContain(token);
      expect(logger.lines.join('\n')).not.toContain(token);
    });

    test('credential helper script has mode 0700', () => {
      const mode = execFileSync('stat', ['-c', '%a', join(dataDir, 'git-credential-helper.sh')], {
        encoding: 'utf8',
      });
      expect(mode.trim()).toBe('700');
    });

    test('username comes from the URL', async () => {
      authorizedUsers.length = 0;
      const { outcome } = await runJob(executor, {
        runnerName: 'private-alice',
        gitUrl: `http://alice@${baseUrl.slice('http://'.length)}/repo.git`,
        gitToken: token,
        command: 'cat data/file.txt',
      });

      expect(outcome.status).toBe('succeeded');
      expect(authorizedUsers).toEqual(expect.arrayContaining(['alice']));
      expect(authorizedUsers).not.toContain('kriten');
    });

    test('password in the URL stays out of command lines', async () => {
      const { outcome } = await runJob(executor, {
        runnerName: 'private-url-password',
        gitUrl: `http://alice:pw-in-url@${baseUrl.slice('http://'.length)}/repo.git`,
        command: 'cat data/file.txt',
      });

      expect(outcome.status).toBe('succeeded');
      expect(readFileSync(gitArgvLog, 'utf8')).not.toContain('pw-in-url');
      expect(logger.lines.join('\n')).not.toContain('pw-in-url');
    });

    test('rejected token fails the job without showing it', async () => {
      const wrongToken = `wrong-${randomBytes(8).toString('hex')}`;
      const { outcome } = await runJob(executor, {
        runnerName: 'private-wrong',
        gitUrl: `http://bob:${wrongToken}@${baseUrl.slice('http://'.length)}/repo.git`,
        gitToken: wrongToken,
      });

      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toMatch(
        /^checkout of http:\/\/\*\*\*@127\.0\.0\.1:\d+\/repo\.git branch 'main' failed: /,
      );
      expect(outcome.reason).not.toContain(wrongToken);
      expect(readFileSync(gitArgvLog, 'utf8')).not.toContain(wrongToken);
      expect(logger.lines.join('\n')).not.toContain(wrongToken);
    });
  });

  test('echo job overhead against bare bwrap', async () => {
    const timed = createExecutor('data-timing', { repoRefreshSeconds: 3600 });
    const runs = 20;

    const bareTimes: number[] = [];
    for (let run = 0; run < runs + 2; run++) {
      const startedAt = performance.now();
      await runBareSandbox();
      bareTimes.push(performance.now() - startedAt);
    }
    const jobTimes: number[] = [];
    for (let run = 0; run < runs + 2; run++) {
      const startedAt = performance.now();
      const { outcome } = await runJob(timed.executor, {
        runnerName: 'timing',
        command: 'echo ok',
      });
      jobTimes.push(performance.now() - startedAt);
      expect(outcome.output).toBe('ok\n');
    }

    // The first two runs of each warm caches and, for the job, make the mirror and snapshot.
    const bare = median(bareTimes.slice(2));
    const job = median(jobTimes.slice(2));
    console.log(
      `echo job: median ${job.toFixed(1)} ms end to end; bare bwrap: median ${bare.toFixed(1)} ms; ` +
        `ratio ${(job / bare).toFixed(2)} (${runs} runs each)`,
    );
    await timed.executor.shutdown();
  });
});

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function runBareSandbox(): Promise<void> {
  const child = spawn(
    'bwrap',
    [
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--unshare-pid',
      'sh',
      '-c',
      'echo ok',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  child.stdout.resume();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => resolve());
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0 ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle];
}
