import { followJobLog, type LogSource } from './job-log-follower';
import type { ContainerState, Pod } from './kubernetes-types';

function pod(clone: ContainerState, main?: ContainerState): Pod {
  return {
    metadata: { name: 'hello-abcde-pod' },
    status: {
      initContainerStatuses: [{ name: 'clone', state: clone }],
      containerStatuses: main ? [{ name: 'main', state: main }] : [],
    },
  };
}

/** A cluster view that a test moves forward step by step. */
class ScriptedSource implements LogSource {
  current: Pod | undefined;
  ended = false;
  gone = false;
  readonly streamed: string[] = [];
  private listeners: (() => void)[] = [];

  constructor(
    private readonly logs: Record<string, (onChunk: (chunk: Buffer) => void) => Promise<void>>,
  ) {}

  currentPod(): Pod | undefined {
    return this.current;
  }
  jobEnded(): boolean {
    return this.ended;
  }
  jobGone(): boolean {
    return this.gone;
  }
  waitForChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.listeners.push(resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  async streamLog(
    _pod: string,
    container: string,
    _signal: AbortSignal,
    onChunk: (chunk: Buffer) => void,
  ) {
    this.streamed.push(container);
    await this.logs[container](onChunk);
  }
  change(update: () => void): void {
    update();
    const listeners = this.listeners;
    this.listeners = [];
    listeners.forEach((listener) => listener());
  }
}

async function collect(iterable: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of iterable) {
    text += chunk;
  }
  return text;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('followJobLog', () => {
  it('follows the clone, then the main container', async () => {
    const source: ScriptedSource = new ScriptedSource({
      clone: async (onChunk) => {
        onChunk(Buffer.from('cloning\n'));
      },
      main: async (onChunk) => {
        onChunk(Buffer.from('hel'));
        await tick();
        onChunk(Buffer.from('lo\n'));
      },
    });
    const following = collect(followJobLog(source, new AbortController().signal));

    await tick();
    source.change(() => (source.current = pod({ running: {} })));
    await tick();
    source.change(() => (source.current = pod({ terminated: { exitCode: 0 } }, { running: {} })));

    expect(await following).toBe('cloning\nhello\n');
    expect(source.streamed).toEqual(['clone', 'main']);
  });

  it('skips the clone once the main container runs', async () => {
    const source = new ScriptedSource({
      clone: async () => undefined,
      main: async (onChunk) => onChunk(Buffer.from('hello\n')),
    });
    source.current = pod({ terminated: { exitCode: 0 } }, { running: {} });
    expect(await collect(followJobLog(source, new AbortController().signal))).toBe('hello\n');
    expect(source.streamed).toEqual(['main']);
  });

  it('ends after a failed clone without waiting for the main container', async () => {
    const source: ScriptedSource = new ScriptedSource({
      clone: async (onChunk) => onChunk(Buffer.from('fatal: not found\n')),
      main: async () => undefined,
    });
    source.current = pod({ running: {} });
    const following = collect(followJobLog(source, new AbortController().signal));
    await tick();
    source.change(() => {
      source.current = pod({ terminated: { exitCode: 128 } });
      source.ended = true;
    });
    expect(await following).toBe('fatal: not found\n');
    expect(source.streamed).toEqual(['clone']);
  });

  it('ends when the job goes away before its pod starts', async () => {
    const source: ScriptedSource = new ScriptedSource({
      clone: async () => undefined,
      main: async () => undefined,
    });
    const following = collect(followJobLog(source, new AbortController().signal));
    await tick();
    source.change(() => (source.gone = true));
    expect(await following).toBe('');
    expect(source.streamed).toEqual([]);
  });

  it('keeps a character split across chunks whole', async () => {
    const bytes = Buffer.from('ü😀');
    const source = new ScriptedSource({
      clone: async () => undefined,
      main: async (onChunk) => {
        onChunk(bytes.subarray(0, 1));
        onChunk(bytes.subarray(1, 3));
        onChunk(bytes.subarray(3));
      },
    });
    source.current = pod({ terminated: { exitCode: 0 } }, { running: {} });
    expect(await collect(followJobLog(source, new AbortController().signal))).toBe('ü😀');
  });
});
