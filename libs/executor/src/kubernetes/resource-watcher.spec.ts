import type { ObjectList, WatchEvent } from './kubernetes-types';
import { ResourceWatcher, type WatchSource } from './resource-watcher';

interface Item {
  metadata: { name: string; resourceVersion?: string };
}

function item(name: string, version: string): Item {
  return { metadata: { name, resourceVersion: version } };
}

type WatchStep = (onEvent: (event: WatchEvent<Item>) => void) => Promise<void>;

/** A source that serves lists and watches from scripted steps and records every call. */
class ScriptedSource implements WatchSource<Item> {
  readonly calls: string[] = [];
  constructor(
    private readonly lists: ObjectList<Item>[],
    private readonly watches: WatchStep[],
  ) {}

  async list(): Promise<ObjectList<Item>> {
    this.calls.push('list');
    const next = this.lists.shift();
    if (next === undefined) {
      throw new Error('no more lists scripted');
    }
    return next;
  }

  async watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent<Item>) => void,
    signal: AbortSignal,
    onOpen: () => void,
  ): Promise<void> {
    this.calls.push(`watch@${resourceVersion}`);
    onOpen();
    const step = this.watches.shift();
    if (step === undefined) {
      // Nothing more scripted: hold the stream open until the watcher stops.
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      return;
    }
    await step(onEvent);
  }
}

class Recorder {
  readonly lists: string[][] = [];
  readonly events: string[] = [];
  readonly problems: string[] = [];
  handlers = {
    onList: (items: Item[]) => this.lists.push(items.map((entry) => entry.metadata.name)),
    onEvent: (type: string, object: Item) => this.events.push(`${type} ${object.metadata.name}`),
    onProblem: (message: string) => this.problems.push(message),
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !check(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(check()).toBe(true);
}

const list = (version: string, ...names: string[]): ObjectList<Item> => ({
  metadata: { resourceVersion: version },
  items: names.map((name) => item(name, version)),
});

describe('ResourceWatcher', () => {
  it('lists, then watches from the list version', async () => {
    const source = new ScriptedSource([list('10', 'a')], []);
    const recorder = new Recorder();
    const watcher = new ResourceWatcher('test', source, recorder.handlers);
    await watcher.start();
    await until(() => source.calls.length === 2);
    await watcher.stop();
    expect(source.calls).toEqual(['list', 'watch@10']);
    expect(recorder.lists).toEqual([['a']]);
  });

  it('resumes from the last event and bookmark after a stream ends', async () => {
    const source = new ScriptedSource(
      [list('10')],
      [
        async (onEvent) => {
          onEvent({ type: 'ADDED', object: item('a', '11') });
          onEvent({ type: 'BOOKMARK', object: item('', '15') });
        },
      ],
    );
    const recorder = new Recorder();
    const watcher = new ResourceWatcher('test', source, recorder.handlers);
    await watcher.start();
    await until(() => source.calls.length === 3);
    await watcher.stop();
    expect(source.calls).toEqual(['list', 'watch@10', 'watch@15']);
    expect(recorder.events).toEqual(['ADDED a']);
  });

  it('lists again on a 410 error event and watches from the new list', async () => {
    const source = new ScriptedSource(
      [list('10', 'a'), list('30', 'a', 'b')],
      [
        async (onEvent) => {
          onEvent({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old' } });
          // Events after the error belong to a stream that is no longer trusted.
          onEvent({ type: 'ADDED', object: item('ignored', '12') });
        },
      ],
    );
    const recorder = new Recorder();
    const watcher = new ResourceWatcher('test', source, recorder.handlers);
    await watcher.start();
    await until(() => source.calls.length === 4);
    await watcher.stop();
    expect(source.calls).toEqual(['list', 'watch@10', 'list', 'watch@30']);
    expect(recorder.lists).toEqual([['a'], ['a', 'b']]);
    expect(recorder.events).toEqual([]);
    expect(recorder.problems.join('\n')).toMatch(/410/);
  });

  it('lists again when the watch request itself answers 410', async () => {
    const expired = Object.assign(new Error('Gone'), { statusCode: 410 });
    const source = new ScriptedSource(
      [list('10'), list('40')],
      [
        async () => {
          throw expired;
        },
      ],
    );
    const watcher = new ResourceWatcher('test', source, new Recorder().handlers);
    await watcher.start();
    await until(() => source.calls.length === 4);
    await watcher.stop();
    expect(source.calls).toEqual(['list', 'watch@10', 'list', 'watch@40']);
  });

  it('retries a dropped connection from the same version with backoff', async () => {
    const dropped = async () => {
      throw new Error('socket hang up');
    };
    const source = new ScriptedSource([list('10')], [dropped, dropped]);
    const recorder = new Recorder();
    const watcher = new ResourceWatcher('test', source, recorder.handlers, {
      initialBackoffMs: 5,
      maxBackoffMs: 20,
    });
    await watcher.start();
    await until(() => source.calls.length === 4);
    await watcher.stop();
    expect(source.calls).toEqual(['list', 'watch@10', 'watch@10', 'watch@10']);
    expect(recorder.problems).toHaveLength(2);
    expect(recorder.problems[0]).toMatch(/socket hang up; retrying in 5 ms/);
    expect(recorder.problems[1]).toMatch(/retrying in 10 ms/);
  });

  it('passes a failed first list to the caller', async () => {
    const source = new ScriptedSource([], []);
    const watcher = new ResourceWatcher('test', source, new Recorder().handlers);
    await expect(watcher.start()).rejects.toThrow('no more lists scripted');
  });
});

describe('ResourceWatcher.currentFailure', () => {
  it('reports failing calls until a watch works again', async () => {
    let failures = 3;
    let opened = false;
    const source: WatchSource<Item> = {
      list: async () => list('1'),
      watch: async (_version, _onEvent, signal, onOpen) => {
        if (failures > 0) {
          failures--;
          throw new Error('connection refused');
        }
        opened = true;
        onOpen();
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      },
    };
    const watcher = new ResourceWatcher('test', source, new Recorder().handlers, {
      initialBackoffMs: 20,
      maxBackoffMs: 20,
    });
    expect(watcher.currentFailure()).toBeUndefined();
    await watcher.start();
    await until(() => watcher.currentFailure() !== undefined);
    expect(watcher.currentFailure()!.message).toBe('connection refused');
    await until(() => opened);
    expect(watcher.currentFailure()).toBeUndefined();
    await watcher.stop();
  });
});
