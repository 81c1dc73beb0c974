import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpTriggerEvent } from '../../shared/events/http.ts';
import type { InvokeOutcome } from './instance-pool.ts';

const TEXT_TYPES =
  /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|[\w.+-]+\+(json|xml))\b)/i;

/** FC's gateway is written in Go and hands functions canonical header names (`X-Github-Event`). */
export function canonicalHeader(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/** Turn a request to `/<function>/<path>` into the FC3 HTTP trigger event. */
export function toHttpEvent(
  req: IncomingMessage,
  body: Buffer,
  rawPath: string,
  accountId: string,
  triggerName: string,
): HttpTriggerEvent {
  // Maps, not objects: a header or parameter named __proto__ or constructor is just a name.
  const headerMap = new Map<string, string>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const key = canonicalHeader(req.rawHeaders[i]!);
    const value = req.rawHeaders[i + 1]!;
    const seen = headerMap.get(key);
    headerMap.set(key, seen === undefined ? value : `${seen},${value}`);
  }
  const headers = Object.fromEntries(headerMap);
  const url = new URL(req.url ?? '/', 'http://local');
  const queryMap = new Map<string, string>();
  for (const [k, v] of url.searchParams) {
    const seen = queryMap.get(k);
    queryMap.set(k, seen === undefined ? v : `${seen},${v}`);
  }
  const queryParameters = Object.fromEntries(queryMap);

  const contentType = req.headers['content-type'] ?? '';
  const text = body.length === 0 || (TEXT_TYPES.test(contentType) && isUtf8(body));
  const now = Date.now();
  let path = rawPath;
  try {
    path = decodeURIComponent(rawPath);
  } catch {}
  return {
    version: 'v1',
    rawPath,
    body: text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !text,
    headers,
    queryParameters,
    requestContext: {
      accountId,
      domainName: `${req.headers.host ?? '127.0.0.1'}`,
      domainPrefix: triggerName,
      http: {
        method: req.method ?? 'GET',
        path,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? '',
      },
      requestId: `1-${now.toString(16)}-${randomUUID().slice(0, 8)}`,
      time: new Date(now).toISOString().replace(/\.\d+Z$/, 'Z'),
      timeEpoch: String(now),
      triggerId: triggerName,
    },
  };
}

/** Write what the function returned as the HTTP response, the way FC converts it. */
export function writeHttpOutcome(res: ServerResponse, outcome: InvokeOutcome, requestId: string): void {
  res.setHeader('x-fc-request-id', requestId);
  if (!outcome.ok) {
    res.setHeader(
      'x-fc-error-type',
      outcome.errorKind === 'timeout' ? 'FunctionTimeoutError' : 'UnhandledInvocationError',
    );
    send(res, 502, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(outcome.error)));
    return;
  }
  const value = outcome.value as
    | { statusCode?: unknown; headers?: unknown; body?: unknown; isBase64Encoded?: unknown }
    | undefined;
  if (outcome.contentKind === 'json' && value && typeof value.statusCode === 'number') {
    const headers = (value.headers && typeof value.headers === 'object' ? value.headers : {}) as Record<
      string,
      string
    >;
    const raw = value.body === undefined || value.body === null ? '' : String(value.body);
    const body = Buffer.from(raw, value.isBase64Encoded === true ? 'base64' : 'utf8');
    send(res, value.statusCode, headers, body);
    return;
  }
  const type =
    outcome.contentKind === 'json'
      ? 'application/json'
      : outcome.contentKind === 'text'
        ? 'text/plain; charset=utf-8'
        : 'application/octet-stream';
  send(res, 200, { 'content-type': type }, outcome.body);
}

export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer | string,
): void {
  if (res.headersSent) return;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.statusCode = status;
  res.end(body);
}

/** Alibaba Cloud API error body: `{ Code, Message, RequestId }`. */
export function sendApiError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId = randomUUID(),
): void {
  send(
    res,
    status,
    { 'content-type': 'application/json', 'x-fc-request-id': requestId },
    JSON.stringify({ Code: code, Message: message, RequestId: requestId }),
  );
}

/** Read a request body, refusing more than `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isUtf8(buf: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}
