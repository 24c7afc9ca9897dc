export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, the text otherwise. */
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is, instead of JSON-encoding `body`. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** Overrides the client's token; null sends no credentials. */
  token?: string | null;
}

/** A small HTTP client for the Kriten API over a real socket. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    public token: string | null = null,
  ) {}

  async request<T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? this.token : options.token;
    if (token) {
      headers.authorization ??= `Bearer ${token}`;
    }
    let body: string | Buffer | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }

    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    const isJson = (response.headers.get('content-type') ?? '').includes('application/json');
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: isJson && text ? JSON.parse(text) : text,
    };
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }

  post<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, { ...options, body });
  }

  patch<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PATCH', path, { ...options, body });
  }

  put<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PUT', path, { ...options, body });
  }

  delete<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }

  /** Logs in and keeps the token for later requests. */
  async login(username: string, password: string): Promise<string> {
    const response = await this.post('/api/v1/login', { username, password });
    if (response.status !== 200) {
      throw new Error(`login as ${username} failed with ${response.status}: ${response.text}`);
    }
    this.token = response.body.token;
    return this.token!;
  }

  /** Polls a job until it has ended. */
  async waitForJob(id: string, timeoutMs = 30_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.get(`/api/v1/jobs/${id}`);
      if (['succeeded', 'failed', 'cancelled'].includes(response.body.status)) {
        return response.body;
      }
      if (Date.now() > deadline) {
        throw new Error(`job ${id} did not end within ${timeoutMs} ms: ${response.text}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
