import type * as z from 'zod/mini';
import { ParseError } from '../runtime/errors.ts';
import { isRecord } from '../util/records.ts';
import { EnvelopeCheck } from './envelope-check.ts';
import { parseWith } from './parse.ts';

/**
 * The event an FC3 HTTP trigger hands a built-in runtime (inside the Buffer). Example (FC docs):
 * `{ "version": "v1", "rawPath": "/example", "body": "Hello FC!", "isBase64Encoded": false,
 *    "headers": { "header2": "value1,value2" }, "queryParameters": { "parameter1": "value1" },
 *    "requestContext": { "http": { "method": "GET", "path": "/example", ... }, "requestId": "1-64f6…", ... } }`
 * Multi-value headers and query parameters arrive comma-joined.
 */
export interface HttpTriggerEvent {
  version: 'v1';
  rawPath: string;
  body: string;
  isBase64Encoded: boolean;
  headers: Record<string, string>;
  queryParameters: Record<string, string>;
  requestContext: {
    accountId?: string;
    domainName?: string;
    domainPrefix?: string;
    http: { method: string; path: string; protocol?: string; sourceIp?: string; userAgent?: string };
    requestId: string;
    time?: string;
    timeEpoch?: string;
    triggerId?: string;
  };
}

const OPTIONAL_CONTEXT = ['accountId', 'domainName', 'domainPrefix'] as const;
const OPTIONAL_CONTEXT_AFTER = ['time', 'timeEpoch', 'triggerId'] as const;
const OPTIONAL_HTTP = ['protocol', 'sourceIp', 'userAgent'] as const;

/** Check an HTTP trigger event field by field (absent body, flag, headers and query take their defaults). */
export function checkHttpEvent(value: unknown): HttpTriggerEvent {
  const check = new EnvelopeCheck();
  const event = check.object(value, []);
  if (!event) throw new ParseError('HTTP trigger event', check.issues);
  const version = check.literal(event.version, ['version'], 'v1');
  const rawPath = check.string(event.rawPath, ['rawPath']);
  const body = event.body === undefined ? '' : check.string(event.body, ['body']);
  const isBase64Encoded =
    event.isBase64Encoded === undefined ? false : check.boolean(event.isBase64Encoded, ['isBase64Encoded']);
  const headers = event.headers === undefined ? {} : check.stringRecord(event.headers, ['headers']);
  const queryParameters =
    event.queryParameters === undefined ? {} : check.stringRecord(event.queryParameters, ['queryParameters']);
  const context = check.object(event.requestContext, ['requestContext']);
  const requestContext: Partial<HttpTriggerEvent['requestContext']> = {};
  if (context) {
    for (const key of OPTIONAL_CONTEXT) {
      const v = check.optionalString(context[key], ['requestContext', key]);
      if (v !== undefined) requestContext[key] = v;
    }
    const http = check.object(context.http, ['requestContext', 'http']);
    if (http) {
      // Undefined only when an issue is recorded, and then nothing is returned.
      const out: HttpTriggerEvent['requestContext']['http'] = {
        method: check.string(http.method, ['requestContext', 'http', 'method'], { min: 1 })!,
        path: check.string(http.path, ['requestContext', 'http', 'path'])!,
      };
      for (const key of OPTIONAL_HTTP) {
        const v = check.optionalString(http[key], ['requestContext', 'http', key]);
        if (v !== undefined) out[key] = v;
      }
      requestContext.http = out;
    }
    const requestId = check.string(context.requestId, ['requestContext', 'requestId'], { min: 1 });
    if (requestId !== undefined) requestContext.requestId = requestId;
    for (const key of OPTIONAL_CONTEXT_AFTER) {
      const v = check.optionalString(context[key], ['requestContext', key]);
      if (v !== undefined) requestContext[key] = v;
    }
  }
  if (check.issues.length) throw new ParseError('HTTP trigger event', check.issues);
  return {
    version: version!,
    rawPath: rawPath!,
    body: body!,
    isBase64Encoded: isBase64Encoded!,
    headers: headers!,
    queryParameters: queryParameters!,
    requestContext: requestContext as HttpTriggerEvent['requestContext'],
  };
}

/** What a handler returns for an HTTP trigger. */
export interface HttpResponse {
  statusCode: number;
  headers?: Record<string, string>;
  isBase64Encoded?: boolean;
  body: string;
}

/** The request as application code sees it: lower-cased header names, the body as bytes. */
export interface HttpRequest {
  method: string;
  /** Decoded path below the trigger, e.g. `/promote`. */
  path: string;
  rawPath: string;
  headers: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  body: Buffer;
  sourceIp: string | undefined;
  requestId: string;
}

export function isHttpEvent(value: unknown): boolean {
  return isRecord(value) && value.version === 'v1' && isRecord(value.requestContext);
}

export function parseHttpEvent(value: unknown): HttpRequest {
  const event = checkHttpEvent(value);
  const headers = Object.fromEntries(Object.entries(event.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.requestContext.http.path,
    rawPath: event.rawPath,
    headers,
    query: event.queryParameters,
    body: Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'),
    sourceIp: event.requestContext.http.sourceIp,
    requestId: event.requestContext.requestId,
  };
}

/** Parse a JSON request body with a schema; errors point at `body.<field>`. */
export function parseJsonBody<S extends z.ZodMiniType>(request: HttpRequest, schema: S): z.infer<S> {
  let value: unknown;
  try {
    value = request.body.length === 0 ? undefined : JSON.parse(request.body.toString('utf8'));
  } catch (cause) {
    throw new ParseError('request body', [
      { path: ['body'], message: `not valid JSON (${(cause as Error).message})` },
    ]);
  }
  return parseWith(schema, value, 'request body', ['body']);
}

/** A JSON response. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    isBase64Encoded: false,
    body: JSON.stringify(body),
  };
}

/** True when a return value already has FC's HTTP response shape. */
export function isHttpResponse(value: unknown): value is HttpResponse {
  return isRecord(value) && typeof value.statusCode === 'number';
}
