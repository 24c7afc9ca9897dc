// Measures Kriten against baselines taken in the same run on the same machine:
//   sync `echo ok` job latency      vs  starting a bare bubblewrap sandbox directly
//   async job launches per second   vs  authenticated GET /api/v1/tasks per second
//   completed trivial jobs per second over a large batch, with none lost
//   listing a page of jobs with a small and with a large history
//   the server's peak resident memory
// and, with the kubernetes executor against the fake API server run as a process:
//   API calls per job at steady state, from the fake's record of requests
//   sync `echo ok` job latency      vs  the same Job created directly in the fake
// Usage: npm run bench [-- --jobs 10000 --latency-runs 200 --executor local|kubernetes|both]
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } = require('node:fs');
const { existsSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { createInterface } = require('node:readline');
const { TextDecoder } = require('node:util');
const { join } = require('node:path');

const args = parseArguments(process.argv.slice(2), { jobs: 10_000, 'latency-runs': 200, 'rate-seconds': 5, concurrency: 16, 'kubernetes-runs': 100, executor: 'both' });
const NAMESPACE = 'kriten-bench';
const ROOT_PASSWORD = 'bench-root-password';

main().catch((error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});

async function main() {
  if (!['local', 'kubernetes', 'both'].includes(args.executor)) throw new Error(`--executor must be local, kubernetes or both, not '${args.executor}'`);
  // Under /var/tmp rather than /tmp: the fake's containers get an empty /tmp, as pods do, and
  // their clone step reads the repository through a file:// URL.
  const work = mkdtempSync(join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), 'kriten-bench-'));
  const repository = createRepository(join(work, 'repo'));
  const results = [];
  try {
    if (args.executor !== 'kubernetes') await benchLocal(work, repository, results);
    if (args.executor !== 'local') await benchKubernetes(work, repository, results);
  } finally {
    rmSync(work, { recursive: true, force: true });
    // The figures measured before a failure are still worth reading.
    printTable(results);
  }
}

async function benchLocal(work, repository, results) {
  progress('starting the server with the local executor');
  const server = await startServer(join(work, 'data'));
  try {
    const api = new Api(server.baseUrl);
    await api.login();
    await api.send('POST', '/api/v1/runners', { name: 'bench', image: 'alpine', gitURL: `file://${repository}` });
    await api.send('POST', '/api/v1/tasks', { name: 'echo-sync', runner: 'bench', command: 'echo ok', synchronous: true });
    await api.send('POST', '/api/v1/tasks', { name: 'echo-async', runner: 'bench', command: 'echo ok' });

    progress('measuring the floor: bwrap started directly');
    const floor = measureFloor(args['latency-runs']);
    progress('measuring sync job latency');
    const latency = await measureSyncLatency(api, args['latency-runs']);
    results.push(['sync echo job p50', ms(latency.p50), `floor p50 ${ms(floor.p50)}`, ratio(latency.p50 / floor.p50), 'at most 4x the floor', latency.p50 <= 4 * floor.p50]);
    results.push(['sync echo job p99', ms(latency.p99), `floor p99 ${ms(floor.p99)}`, ratio(latency.p99 / floor.p99), '', null]);

    progress('measuring reads and async launches');
    const listSmall = await measureListing(api, 200);
    const reads = await measureRate(() => api.send('GET', '/api/v1/tasks'), args['rate-seconds'], args.concurrency);
    const accepts = await measureRate(() => api.send('POST', '/api/v1/jobs/echo-async', {}), args['rate-seconds'], args.concurrency);
    results.push(['async launches accepted', `${reads.perSecond > 0 ? accepts.perSecond.toFixed(0) : 0}/s`, `GET /tasks ${reads.perSecond.toFixed(0)}/s`, ratio(accepts.perSecond / reads.perSecond), 'at least 0.5x the read', accepts.perSecond >= 0.5 * reads.perSecond]);
    await waitForQueueToDrain(api);

    progress(`running ${args.jobs} trivial jobs`);
    const throughput = await measureThroughput(api, args.jobs, args.concurrency);
    results.push(['completed trivial jobs', `${throughput.perSecond.toFixed(0)}/s`, `${throughput.succeeded}/${args.jobs} succeeded`, '', 'at least 100/s, none lost', throughput.perSecond >= 100 && throughput.succeeded === args.jobs]);

    const listLarge = await measureListing(api, 200);
    results.push(['GET /jobs?limit=50 p50', ms(listLarge.p50), `${ms(listSmall.p50)} with a short history`, ratio(listLarge.p50 / listSmall.p50), 'about flat', null]);

    const peakRss = readPeakRss(server.pid);
    results.push(['server peak RSS', `${(peakRss / 1024).toFixed(0)} MiB`, '', '', 'under 300 MB', peakRss * 1024 < 300e6]);
  } finally {
    await server.stop();
  }
}

async function benchKubernetes(work, repository, results) {
  progress('starting the fake Kubernetes API server');
  const fake = await startFakeKube(NAMESPACE);
  let server;
  try {
    progress('starting the server with the kubernetes executor');
    server = await startServer(join(work, 'data-kubernetes'), { KRITEN_EXECUTOR: 'kubernetes', KUBECONFIG: fake.kubeconfig, KRITEN_NAMESPACE: NAMESPACE });
    const api = new Api(server.baseUrl);
    await api.login();
    await api.send('POST', '/api/v1/runners', { name: 'bench', image: 'alpine', gitURL: `file://${repository}`, secret: { BENCH_KEY: 'value' } });
    await api.send('POST', '/api/v1/tasks', { name: 'echo-sync', runner: 'bench', command: 'echo ok', synchronous: true, secret: { TASK_KEY: 'value' } });

    // The first jobs start the watches and warm the caches; steady state comes after them.
    const warmUp = await measureSyncLatency(api, 5);
    const runs = args['kubernetes-runs'];
    const firstCall = (await fake.calls(0)).length;
    progress(`measuring ${runs} sync jobs and their API calls`);
    const latency = await measureSyncLatency(api, runs);
    const perJob = summarizeCalls(await fake.calls(firstCall), runs);
    perJob.lastJobName = latency.lastJobName;
    results.push(['kubernetes: API calls per job', perJob.text, `after ${warmUp.count} warm-up jobs`, '', 'one create, no reads, no polling', perJob.creates === 1 && perJob.reads === 0 && perJob.watches === 0]);

    progress('measuring the floor: the same Job created directly in the fake');
    const floor = await measureFakeJobRun(fake, runs, perJob.lastJobName);
    results.push(['kubernetes: sync echo job p50', ms(latency.p50), `fake runs the Job in ${ms(floor.p50)}`, signedMs(latency.p50 - floor.p50), 'overhead over the fake reported', null]);
    results.push(['kubernetes: sync echo job p99', ms(latency.p99), `fake runs the Job in ${ms(floor.p99)}`, signedMs(latency.p99 - floor.p99), '', null]);
  } finally {
    await server?.stop();
    await fake.stop();
  }
}

/**
 * Starts scripts/bench-fake-kube.ts as a process and returns its address, token and kubeconfig,
 * with calls(from), which requests its record of API requests over stdin.
 */
async function startFakeKube(namespace) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'bench-fake-kube.ts'), namespace], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  const settings = {};
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the fake API server exited with ${code}`)));
    lines.on('line', (line) => {
      const match = /^(url|token|kubeconfig)=(.*)$/.exec(line);
      if (match) {
        settings[match[1]] = match[2];
        if (settings.url && settings.token && settings.kubeconfig) resolve();
        return;
      }
      const index = waiting.findIndex((entry) => entry.accepts(line));
      if (index >= 0) waiting.splice(index, 1)[0].resolve(line);
    });
  });
  const ask = (command, accepts) =>
    new Promise((resolve) => {
      waiting.push({ accepts, resolve });
      child.stdin.write(`${command}\n`);
    });
  return {
    ...settings,
    calls: async (from) => JSON.parse((await ask(`calls ${from}`, (line) => line.startsWith('calls '))).slice('calls '.length)),
    stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }),
  };
}

/** Counts the fake's recorded requests per job: creates, reads (get and list), watches and log reads. */
function summarizeCalls(calls, jobs) {
  const count = (predicate) => calls.filter(predicate).length / jobs;
  const creates = count((call) => call.verb === 'create');
  const reads = count((call) => (call.verb === 'get' || call.verb === 'list') && call.subresource !== 'log');
  const logReads = count((call) => call.subresource === 'log');
  const watches = count((call) => call.verb === 'watch');
  const others = calls.length / jobs - creates - reads - logReads - watches;
  const kinds = [...new Set(calls.map((call) => `${call.verb} ${call.resource}${call.subresource ? `/${call.subresource}` : ''}`))].sort();
  const text = `${creates} create, ${reads} get/list, ${logReads} log read, ${watches} watch, ${others} other (${kinds.join(', ')})`;
  return { creates, reads, logReads, watches, text };
}

/**
 * Creates the Job of Kriten's last bench job again under new names, directly in the fake, and
 * times each from the request until a pod watch reports its pod Succeeded. That is what the
 * fake itself spends on a Job (its pod, the clone and the command, each in bubblewrap) and
 * what any client needs to learn of the end, without Kriten's database or log copy.
 */
async function measureFakeJobRun(fake, runs, jobName) {
  const template = await fetchJson(fake, 'GET', `/apis/batch/v1/namespaces/${NAMESPACE}/jobs/${jobName}`);
  const durations = [];
  for (let i = 0; i < runs; i++) {
    const name = `floor-${i}`;
    const body = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { backoffLimit: 0, template: { spec: template.spec.template.spec } } };
    const abort = new globalThis.AbortController();
    const ended = watchPodEnd(fake, name, abort.signal);
    const start = process.hrtime.bigint();
    await fetchJson(fake, 'POST', `/apis/batch/v1/namespaces/${NAMESPACE}/jobs`, body);
    const phase = await ended;
    durations.push(Number(process.hrtime.bigint() - start) / 1e6);
    abort.abort();
    if (phase !== 'Succeeded') throw new Error(`the pod of Job ${name}, created directly in the fake, ended ${phase}`);
  }
  return percentiles(durations);
}

/** Resolves with the phase of the Job's pod once a watch reports it Succeeded or Failed. */
async function watchPodEnd(fake, jobName, signal) {
  const selector = encodeURIComponent(`batch.kubernetes.io/job-name=${jobName}`);
  const response = await fetch(`${fake.url}/api/v1/namespaces/${NAMESPACE}/pods?watch=1&labelSelector=${selector}`, { headers: { authorization: `Bearer ${fake.token}` }, signal });
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const event = JSON.parse(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      const phase = event.object?.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return phase;
    }
  }
  throw new Error(`the pod watch of Job ${jobName} ended before its pod did`);
}

async function fetchJson(fake, method, path, body) {
  const response = await fetch(fake.url + path, { method, headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} on the fake API server returned ${response.status}: ${text}`);
  return JSON.parse(text);
}

function progress(message) {
  console.error(`[bench] ${message}`);
}

function createRepository(path) {
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', path]);
  writeFileSync(join(path, 'run.sh'), '#!/bin/sh\necho ok\n');
  chmodSync(join(path, 'run.sh'), 0o755);
  execFileSync('git', ['-C', path, 'add', '.']);
  execFileSync('git', ['-C', path, '-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '--quiet', '-m', 'bench']);
  return path;
}

async function startServer(dataDir, env = {}) {
  // BENCH_SERVER_MAIN runs a copy of the build, so that a rebuild of dist/ during the run does
  // not pull the server away.
  const main = process.env.BENCH_SERVER_MAIN ?? join(__dirname, '../dist/apps/kriten/src/main.js');
  // BENCH_NODE_ARGS passes options such as --cpu-prof to the server's Node process.
  const nodeArguments = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArguments, main], {
    env: { PATH: process.env.PATH, PORT: '0', KRITEN_LISTEN_HOST: '127.0.0.1', KRITEN_DATA_DIR: dataDir, KRITEN_ROOT_PASSWORD: ROOT_PASSWORD, KRITEN_LOG_LEVEL: 'log', ...pick(process.env, 'KRITEN_MAX_CONCURRENT_JOBS'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    // Once the server listens its log is only drained: keeping and searching it would cost
    // the benchmark a CPU that the server needs.
    let listening = false;
    const onData = (chunk) => {
      if (listening) return;
      output += chunk;
      const match = /listening on \S+ port (\d+)/.exec(output);
      if (match) {
        listening = true;
        output = '';
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }),
  };
}

class Api {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
    this.token = undefined;
  }

  async login() {
    const body = await this.send('POST', '/api/v1/login', { username: 'root', password: ROOT_PASSWORD });
    this.token = body.token;
  }

  async send(method, path, body) {
    const headers = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${method} ${path} returned ${response.status}: ${text}`);
    return { ...(text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : {}), headers: response.headers };
  }
}

function measureFloor(runs) {
  const durations = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    spawnSync('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', 'sh', '-c', 'echo ok']);
    durations.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return percentiles(durations);
}

async function measureSyncLatency(api, runs) {
  const durations = [];
  let lastJobName;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const job = await api.send('POST', '/api/v1/jobs/echo-sync');
    durations.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (job.status !== 'succeeded') throw new Error(`sync job did not succeed: ${JSON.stringify(job)}`);
    lastJobName = job.id;
  }
  return { ...percentiles(durations), count: runs, lastJobName };
}

async function measureRate(request, seconds, concurrency) {
  const deadline = Date.now() + seconds * 1000;
  let count = 0;
  const start = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) {
      await request();
      count++;
    }
  }));
  return { perSecond: count / ((Date.now() - start) / 1000) };
}

async function measureThroughput(api, jobs, concurrency) {
  const countSucceeded = async () =>
    Number((await api.send('GET', '/api/v1/jobs?task=echo-async&status=succeeded&limit=1')).headers.get('x-total-count'));
  const succeededBefore = await countSucceeded();
  const start = Date.now();
  let launched = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (launched < jobs) {
      launched++;
      await api.send('POST', '/api/v1/jobs/echo-async');
    }
  }));
  await waitForQueueToDrain(api);
  const seconds = (Date.now() - start) / 1000;
  return { perSecond: jobs / seconds, succeeded: (await countSucceeded()) - succeededBefore };
}

async function waitForQueueToDrain(api) {
  for (;;) {
    const queued = Number((await api.send('GET', '/api/v1/jobs?status=queued&limit=1')).headers.get('x-total-count'));
    const running = Number((await api.send('GET', '/api/v1/jobs?status=running&limit=1')).headers.get('x-total-count'));
    if (queued + running === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function measureListing(api, runs) {
  const durations = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await api.send('GET', '/api/v1/jobs?limit=50');
    durations.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return percentiles(durations);
}

function readPeakRss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]);
}

function percentiles(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

/** Formats a difference in milliseconds with its sign, such as +12.1 ms or -3.0 ms. */
function signedMs(value) {
  return `${value >= 0 ? '+' : ''}${ms(value)}`;
}

function ms(value) {
  return `${value.toFixed(1)} ms`;
}

function ratio(value) {
  return `${value.toFixed(2)}x`;
}

function printTable(rows) {
  const header = ['measure', 'value', 'baseline', 'ratio', 'target', 'met'];
  const formatMet = (met) => {
    if (met === null) return '';
    return met ? 'yes' : 'NO';
  };
  const lines = [header, ...rows.map((row) => [...row.slice(0, 5).map(String), formatMet(row[5])])];
  const widths = header.map((_, column) => Math.max(...lines.map((line) => line[column].length)));
  for (const line of lines) {
    console.log(line.map((cell, column) => cell.padEnd(widths[column])).join('  '));
  }
}

function parseArguments(argv, defaults) {
  const parsed = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in defaults)) throw new Error(`unknown option --${name}; known: ${Object.keys(defaults).join(', ')}`);
    parsed[name] = typeof defaults[name] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  return parsed;
}

function pick(source, ...names) {
  return Object.fromEntries(names.filter((name) => source[name] !== undefined).map((name) => [name, source[name]]));
}
