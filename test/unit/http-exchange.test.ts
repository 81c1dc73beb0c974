import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { exchange } from '../../shared/cloud/http-exchange.ts';

let server: Server | undefined;

async function serve(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/path?q=1`);
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

describe('exchange (the cloud clients HTTP, without fetch)', () => {
  it('sends method, headers and body, and reads status, headers and the whole body', async () => {
    const seen: { method?: string; url?: string; type?: string; length?: string; body?: string } = {};
    const url = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        Object.assign(seen, {
          method: req.method,
          url: req.url,
          type: req.headers['content-type'],
          length: req.headers['content-length'],
          body: Buffer.concat(chunks).toString(),
        });
        res.setHeader('X-Fc-Request-Id', 'req-1');
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.writeHead(418, 'Teapot');
        res.write('part one, ');
        res.end('part two');
      });
    });
    const r = await exchange(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"a":1}'),
      timeoutMs: 5000,
    });
    expect(seen).toEqual({
      method: 'POST',
      url: '/path?q=1',
      type: 'application/json',
      length: '7',
      body: '{"a":1}',
    });
    expect(r.status).toBe(418);
    expect(r.statusText).toBe('Teapot');
    expect(r.body.toString()).toBe('part one, part two');
    expect(r.headers.get('X-FC-REQUEST-ID')).toBe('req-1');
    expect(r.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(r.headers.get('x-absent')).toBeNull();
  });

  it('keeps the connection for the next request', async () => {
    let connections = 0;
    const url = await serve((_req, res) => res.end('ok'));
    server!.on('connection', () => connections++);
    for (let i = 0; i < 3; i++) await exchange(url, { method: 'GET', headers: {}, timeoutMs: 5000 });
    expect(connections).toBe(1);
  });

  it('bounds the whole exchange: an answer whose body stalls fails with ETIMEDOUT', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only the start');
    });
    const started = Date.now();
    const error = await exchange(url, { method: 'GET', headers: {}, timeoutMs: 150 }).catch((e) => e);
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toBe('no complete answer within 150 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('fails when the connection closes before the whole answer', async () => {
    const url = await serve((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('half', () => req.socket.destroy());
    });
    const error = await exchange(url, { method: 'GET', headers: {}, timeoutMs: 5000 }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toMatch(/^(ECONNRESET|ERR_STREAM_PREMATURE_CLOSE)$/);
  });

  it('fails with the socket error when nothing listens', async () => {
    const url = await serve((_req, res) => res.end());
    server!.close();
    await once(server!, 'close');
    const error = await exchange(url, { method: 'GET', headers: {}, timeoutMs: 5000 }).catch((e) => e);
    expect(error.code).toBe('ECONNREFUSED');
  });
});
