import type { IncomingHttpHeaders } from 'node:http';
import { builtin } from '../util/builtin.ts';

/** Response headers, read by lower-case name as `Headers.get` reads them. */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface Exchange {
  status: number;
  statusText: string;
  headers: ResponseHeaders;
  body: Buffer;
}

/** Why an exchange did not complete: `code` is the socket's (ECONNREFUSED) or `ETIMEDOUT`. */
export class ExchangeFailed extends Error {
  override name = 'ExchangeFailed';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

// Loaded with the first exchange, not with the bundle: https alone is ~3 ms of a cold start, and
// many first events (a refused request, a job of another kind) never call out.
const http = builtin<typeof import('node:http')>('node:http');
const https = builtin<typeof import('node:https')>('node:https');

function headersOf(raw: IncomingHttpHeaders): ResponseHeaders {
  return {
    get: (name) => {
      const v = raw[name.toLowerCase()];
      if (v === undefined) return null;
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

/**
 * One HTTP request and its whole response, through Node's own http/https with the global
 * kept-alive agents. Not `fetch`: a function's first `fetch` loads and compiles undici, about 30 ms
 * of its cold start on this kind of machine (node:http is about 10 ms, https 13), and each later
 * request costs several times node:http's CPU. `timeoutMs` bounds the whole exchange, body included.
 */
export function exchange(
  url: URL,
  options: { method: string; headers: Record<string, string>; body?: Buffer; timeoutMs: number },
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? https().request : http().request;
    const headers: Record<string, string> = { ...options.headers };
    if (options.body) headers['content-length'] = String(options.body.length);
    const req = send(url, { method: options.method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete)
          fail(new ExchangeFailed('ECONNRESET', 'the connection closed before the whole answer'));
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: headersOf(res.headers),
          body: Buffer.concat(chunks),
        });
      });
    });
    let failed = false;
    function fail(error: Error) {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      req.destroy();
      reject(error);
    }
    const timer = setTimeout(
      () => fail(new ExchangeFailed('ETIMEDOUT', `no complete answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.on('error', fail);
    req.end(options.body);
  });
}
