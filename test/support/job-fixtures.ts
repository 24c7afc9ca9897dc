import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { ApiClient } from './http-client';

export interface RunnerInput {
  name: string;
  gitURL: string;
  branch?: string;
  token?: string;
  secret?: Record<string, string>;
}

export interface TaskInput {
  name: string;
  runner: string;
  command: string;
  synchronous?: boolean;
  schema?: Record<string, unknown>;
  secret?: Record<string, string>;
  sync_timeout_seconds?: number;
  timeout_seconds?: number;
}

/** A job as `GET /api/v1/jobs/{id}` returns it. */
export interface JobView {
  id: string;
  task: string;
  runner: string;
  owner: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  created_time: string;
  start_time: string | null;
  completion_time: string | null;
  failed: number;
  completed: number;
  exit_code: number | null;
  reason: string | null;
  stdout: string;
  stdout_truncated: boolean;
  json_error: string | null;
  json_data: unknown;
}

/** Creates a runner, or throws an error with the server's response when that fails. */
export async function createRunner(api: ApiClient, runner: RunnerInput): Promise<void> {
  const response = await api.post('/api/v1/runners', {
    image: 'alpine:3.20',
    branch: 'main',
    ...runner,
  });
  if (response.status !== 200) {
    throw new Error(
      `creating runner '${runner.name}' failed with ${response.status}: ${response.text}`,
    );
  }
}

/** Creates a task, or throws an error with the server's response when that fails. */
export async function createTask(api: ApiClient, task: TaskInput): Promise<void> {
  const response = await api.post('/api/v1/tasks', { synchronous: false, ...task });
  if (response.status !== 200) {
    throw new Error(
      `creating task '${task.name}' failed with ${response.status}: ${response.text}`,
    );
  }
}

/** Starts a job and returns its id. Throws unless the launch returned 200 with an id. */
export async function launchJob(api: ApiClient, task: string, body?: unknown): Promise<string> {
  const response = await api.post(`/api/v1/jobs/${task}`, body);
  if (response.status !== 200 || typeof response.body?.id !== 'string') {
    throw new Error(
      `launching a job of task '${task}' failed with ${response.status}: ${response.text}`,
    );
  }
  return response.body.id;
}

/** Polls check every 50 ms until it returns a value other than undefined, or throws after timeoutMs. */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    }
    await sleep(50);
  }
}

/** Polls a job until it has the given status and returns the job. */
export function waitForStatus(
  api: ApiClient,
  id: string,
  status: JobView['status'],
  timeoutMs = 15_000,
): Promise<JobView> {
  return waitFor(
    `job ${id} to be ${status}`,
    async () => {
      const response = await api.get<JobView>(`/api/v1/jobs/${id}`);
      return response.body.status === status ? response.body : undefined;
    },
    timeoutMs,
  );
}

/** Polls a job until it has ended and returns it. */
export async function waitForEnd(api: ApiClient, id: string, timeoutMs = 15_000): Promise<JobView> {
  return (await api.waitForJob(id, timeoutMs)) as JobView;
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Returns a `sleep` duration such as `300.482913` whose digits mark the processes of one test,
 * so that they can be found in /proc after their job has ended.
 */
export function markedSleepDuration(): string {
  return `300.${randomInt(100_000, 1_000_000)}`;
}

/**
 * Lists the ids of this host's processes whose command line, with spaces between the
 * arguments, contains text or, with match 'equals', is text.
 */
export function findProcesses(text: string, match: 'contains' | 'equals' = 'contains'): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .join(' ');
      if (match === 'equals' ? commandLine === text : commandLine.includes(text)) {
        found.push(Number(entry));
      }
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return found;
}

/**
 * Waits up to timeoutMs for every process whose command line contains text to end, and
 * returns the ids of those still running then.
 */
export async function waitForProcessesToEnd(text: string, timeoutMs = 3_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = findProcesses(text);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = findProcesses(text);
  }
  return left;
}
