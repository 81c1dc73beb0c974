import type { ClientConfig } from './rpc.ts';
import { signRoa } from './rpc-sign.ts';
import { signedFetch } from './signed-http.ts';

/** A ROA-style (RESTful) API, here ACK/Container Service, signed as the official SDKs sign it (`rpc-sign.ts`). */
export class RoaClient {
  constructor(private readonly config: ClientConfig) {}

  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    options: { query?: Record<string, string>; body?: unknown; action?: string } = {},
  ): Promise<T> {
    const action = options.action ?? `${method} ${path}`;
    const query = options.query ?? {};
    const body = Buffer.from(options.body === undefined ? '' : JSON.stringify(options.body), 'utf8');
    const host = new URL(this.config.endpoint).host;
    const response = await signedFetch(
      {
        service: this.config.service,
        endpoint: this.config.endpoint,
        credentials: this.config.credentials,
        timeoutMs: this.config.timeoutMs ?? 15_000,
        ...(this.config.retry ? { retry: this.config.retry } : {}),
      },
      action,
      {
        method,
        path,
        query,
        body,
        ...(options.body === undefined ? {} : { headers: { 'content-type': 'application/json' } }),
      },
      // The path is signed as the API defines it, without the endpoint's own path (the sandbox's /cs).
      (req, credentials) =>
        signRoa({ method, path, query, headers: req.headers, body }, credentials, {
          version: this.config.apiVersion,
          host,
        }),
    );
    const text = response.body.toString('utf8');
    if (!text || response.status === 204) return text as T;
    return (response.headers.get('content-type') ?? '').startsWith('application/json')
      ? (JSON.parse(text) as T)
      : (text as T);
  }
}
