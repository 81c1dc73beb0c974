import * as z from 'zod/mini';
import { ParseError } from '../runtime/errors.ts';
import { isRecord } from '../util/records.ts';
import { lazySchema, parseWith } from './parse.ts';

/**
 * The event an FC3 HTTP trigger hands a built-in runtime (inside the Buffer). Example (FC docs):
 * `{ "version": "v1", "rawPath": "/example", "body": "Hello FC!", "isBase64Encoded": false,
 *    "headers": { "header2": "value1,value2" }, "queryParameters": { "parameter1": "value1" },
 *    "requestContext": { "http": { "method": "GET", "path": "/example", ... }, "requestId": "1-64f6…", ... } }`
 * Multi-value headers and query parameters arrive comma-joined.
 */
export const HttpTriggerEventSchema = lazySchema(() =>
  z.object({
    version: z.literal('v1'),
    rawPath: z.string(),
    body: z._default(z.string(), ''),
    isBase64Encoded: z._default(z.boolean(), false),
    headers: z._default(z.record(z.string(), z.string()), {}),
    queryParameters: z._default(z.record(z.string(), z.string()), {}),
    requestContext: z.object({
      accountId: z.optional(z.string()),
      domainName: z.optional(z.string()),
      domainPrefix: z.optional(z.string()),
      http: z.object({
        method: z.string().check(z.minLength(1)),
        path: z.string(),
        protocol: z.optional(z.string()),
        sourceIp: z.optional(z.string()),
        userAgent: z.optional(z.string()),
      }),
      requestId: z.string().check(z.minLength(1)),
      time: z.optional(z.string()),
      timeEpoch: z.optional(z.string()),
      triggerId: z.optional(z.string()),
    }),
  }),
);
export type HttpTriggerEvent = z.infer<typeof HttpTriggerEventSchema>;

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
  const event = parseWith(HttpTriggerEventSchema, value, 'HTTP trigger event');
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
