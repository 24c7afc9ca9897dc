import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeHttp, KubernetesApiError, KubernetesUnreachableError } from './kube-http';
import type { WatchEvent } from './kubernetes-types';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

/** A local HTTP server whose response each test sets. */
class TestServer {
  handler: Handler = (_request, _body, response) => response.end('{}');
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => this.handler(request, body, response));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

function client(server: string, idleTimeoutMs?: number): KubeHttp {
  return new KubeHttp(
    {
      server,
      applyToHTTPSOptions: async (options) => {
        options.headers = { ...options.headers, Authorization: 'Bearer test-token' };
      },
    },
    idleTimeoutMs,
  );
}

describe('KubeHttp', () => {
  const testServer = new TestServer();
  let url: string;
  beforeAll(async () => {
    url = await testServer.start();
  });
  afterAll(() => testServer.stop());

  it('sends JSON with the credentials and parses the response', async () => {
    let seen: { method?: string; url?: string; auth?: string; type?: string; body?: string } = {};
    testServer.handler = (request, body, response) => {
      seen = {
        method: request.method,
        url: request.url,
        auth: request.headers.authorization,
        type: request.headers['content-type'],
        body,
      };
      response.setHeader('content-type', 'application/json');
      response.end('{"kind":"Job","metadata":{"name":"a"}}');
    };

    const result = await client(url).requestJson(
      'POST',
      '/apis/batch/v1/jobs',
      { a: 1 },
      { x: 'y z' },
    );
    expect(result).toEqual({ kind: 'Job', metadata: { name: 'a' } });
    expect(seen).toEqual({
      method: 'POST',
      url: '/apis/batch/v1/jobs?x=y+z',
      auth: 'Bearer test-token',
      type: 'application/json',
      body: '{"a":1}',
    });
  });

  it('turns an error Status into KubernetesApiError', async () => {
    testServer.handler = (_request, _body, response) => {
      response.statusCode = 403;
      response.end(
        '{"kind":"Status","status":"Failure","message":"jobs.batch is forbidden","reason":"Forbidden","code":403}',
      );
    };
    const failure = client(url).requestJson('GET', '/apis/batch/v1/jobs');
    await expect(failure).rejects.toBeInstanceOf(KubernetesApiError);
    await expect(failure).rejects.toMatchObject({
      statusCode: 403,
      message: 'GET /apis/batch/v1/jobs failed with 403: jobs.batch is forbidden',
    });
  });

  it('splits watch events across chunk boundaries', async () => {
    testServer.handler = (request, _body, response) => {
      expect(request.url).toContain('watch=true');
      response.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MOD');
      setTimeout(() => {
        response.write('IFIED","object":{"metadata":{"name":"ü"}}}\n');
        response.end();
      }, 20);
    };
    const events: WatchEvent<{ metadata: { name: string } }>[] = [];
    await client(url).watch('/api/v1/pods', {}, new AbortController().signal, (event) =>
      events.push(event as WatchEvent<{ metadata: { name: string } }>),
    );
    expect(events.map((event) => event.type)).toEqual(['ADDED', 'MODIFIED']);
    expect(events[1].object).toEqual({ metadata: { name: 'ü' } });
  });

  it('stops a stream when the signal aborts', async () => {
    testServer.handler = (_request, _body, response) => {
      response.write('first');
    };
    const abort = new AbortController();
    const chunks: string[] = [];
    const streaming = client(url).stream('/log', {}, abort.signal, (chunk) => {
      chunks.push(chunk.toString());
      abort.abort();
    });
    await expect(streaming).resolves.toBeUndefined();
    expect(chunks).toEqual(['first']);
  });

  it('fails a request that gets no response in time', async () => {
    testServer.handler = () => undefined;
    await expect(client(url, 100).requestJson('GET', '/slow')).rejects.toThrow(
      /GET \/slow timed out after 100 ms without a response/,
    );
  });

  it('reports a server that cannot be reached', async () => {
    const unreachable = client('http://127.0.0.1:1').requestJson('GET', '/version');
    await expect(unreachable).rejects.toBeInstanceOf(KubernetesUnreachableError);
    await expect(unreachable).rejects.toThrow(
      /^the Kubernetes API at http:\/\/127.0.0.1:1 cannot be reached: /,
    );
  });
});
