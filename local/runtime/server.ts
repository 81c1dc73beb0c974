import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_JOB_BYTES } from '../../shared/events/job.ts';
import { DuplicateTaskError } from './async-queue.ts';
import { readBody, send, sendApiError, toHttpEvent, writeHttpOutcome } from './http-bridge.ts';
import type { LocalRuntime } from './runtime.ts';

const SYNC_LIMIT = 32 * 1024 * 1024;
const INVOKE_FC3 = /^\/2023-03-30\/functions\/([^/]+)\/invocations$/;
const INVOKE_FC2 = /^\/2016-08-15\/services\/([^/]+)\/functions\/([^/]+)\/invocations$/;
const LOCAL_OSS = /^\/_local\/oss\/([^/]+)\/(.+)$/;

/**
 * Routes of the local runtime:
 * - `POST /2023-03-30/functions/<fn>/invocations` (and FC 2.0's `/2016-08-15/services/<s>/functions/<fn>/invocations`):
 *   the invoke API, `x-fc-invocation-type: Sync|Async`, `x-fc-async-task-id`, `?qualifier=`;
 * - `/<functionName>/<path>`: the function's HTTP trigger;
 * - `/_local/...`: inspection and local buckets for the CLI and tests.
 */
export async function handleRequest(
  runtime: LocalRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const path = url.pathname;

  const fc3 = INVOKE_FC3.exec(path);
  const fc2 = INVOKE_FC2.exec(path);
  if (fc3 || fc2) {
    if (req.method !== 'POST') return sendApiError(res, 405, 'MethodNotAllowed', 'InvokeFunction takes POST');
    const name = decodeURIComponent((fc3 ? fc3[1] : fc2![2])!);
    const qualifier = url.searchParams.get('qualifier') ?? (fc2 ? fc2[1]!.split('.')[1] : undefined);
    return invokeApi(runtime, req, res, name, qualifier ?? undefined);
  }
  if (path.startsWith('/_local/')) return localApi(runtime, req, res, url);

  const [, first = '', ...rest] = path.split('/');
  const fn = runtime.functions.get(decodeURIComponent(first));
  if (!fn) return sendApiError(res, 404, 'FunctionNotFound', `no function named "${first}" (path ${path})`);
  if (!fn.http) return sendApiError(res, 404, 'TriggerNotFound', `function ${fn.name} has no HTTP trigger`);
  const method = req.method ?? 'GET';
  if (!fn.http.triggerConfig.methods.includes(method as never)) {
    res.setHeader('allow', fn.http.triggerConfig.methods.join(', '));
    return sendApiError(
      res,
      405,
      'MethodNotAllowed',
      `${method} is not allowed by the HTTP trigger of ${fn.name}; allowed: ${fn.http.triggerConfig.methods.join(', ')}`,
    );
  }
  const async = (req.headers['x-fc-invocation-type'] ?? '').toString().toLowerCase() === 'async';
  const body = await readBody(req, async ? MAX_JOB_BYTES : SYNC_LIMIT);
  if (body === 'too-large')
    return sendApiError(res, 413, 'EntityTooLarge', 'payload size exceeds maximum allowed size');
  const rawPath = `/${rest.join('/')}`;
  const event = toHttpEvent(req, body, rawPath, runtime.accountId, fn.http.triggerName);
  const payload = Buffer.from(JSON.stringify(event));
  if (async) {
    const message = await runtime.invokeAsync(fn.name, payload, { source: `http:${fn.http.triggerName}` });
    return send(res, 202, { 'x-fc-request-id': message.requestId }, '');
  }
  const requestId = event.requestContext.requestId;
  const outcome = await runtime.invoke(fn.name, payload, {
    requestId,
    source: `http:${fn.http.triggerName}`,
  });
  writeHttpOutcome(res, outcome, requestId);
}

async function invokeApi(
  runtime: LocalRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  qualifier: string | undefined,
): Promise<void> {
  if (!runtime.functions.has(name))
    return sendApiError(res, 404, 'FunctionNotFound', `function not found: ${name}`);
  const type = (req.headers['x-fc-invocation-type'] ?? 'Sync').toString();
  if (!/^(sync|async)$/i.test(type)) {
    return sendApiError(
      res,
      400,
      'InvalidArgument',
      `x-fc-invocation-type must be Sync or Async, got "${type}"`,
    );
  }
  const async = type.toLowerCase() === 'async';
  const body = await readBody(req, async ? MAX_JOB_BYTES : SYNC_LIMIT);
  if (body === 'too-large')
    return sendApiError(res, 413, 'EntityTooLarge', 'payload size exceeds maximum allowed size');
  if (async) {
    const taskId = req.headers['x-fc-async-task-id']?.toString();
    try {
      const message = await runtime.invokeAsync(name, body, {
        source: 'invoke-api',
        ...(taskId ? { taskId } : {}),
        ...(qualifier ? { qualifier } : {}),
      });
      const headers: Record<string, string> = { 'x-fc-request-id': message.requestId };
      if (taskId) headers['x-fc-async-task-id'] = taskId;
      return send(res, 202, headers, '');
    } catch (error) {
      if (error instanceof DuplicateTaskError)
        return sendApiError(res, 409, 'AsyncTaskAlreadyExist', error.message);
      throw error;
    }
  }
  const requestId = req.headers['x-fc-request-id']?.toString() ?? randomUUID();
  const outcome = await runtime.invoke(name, body, {
    requestId,
    source: 'invoke-api',
    ...(qualifier ? { qualifier } : {}),
  });
  res.setHeader('x-fc-request-id', requestId);
  if (!outcome.ok) {
    // FC answers a function error with 200 and says so in X-Fc-Error-Type.
    res.setHeader(
      'x-fc-error-type',
      outcome.errorKind === 'timeout' ? 'FunctionTimeoutError' : 'UnhandledInvocationError',
    );
    return send(res, 200, { 'content-type': 'application/json' }, JSON.stringify(outcome.error));
  }
  send(res, 200, { 'content-type': 'application/octet-stream' }, outcome.body);
}

async function localApi(
  runtime: LocalRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const json = (status: number, value: unknown) =>
    send(res, status, { 'content-type': 'application/json' }, JSON.stringify(value, null, 2));
  const path = url.pathname;
  if (path === '/_local/health') return json(200, { ok: true, functions: [...runtime.functions.keys()] });
  if (path === '/_local/invocations') {
    const fn = url.searchParams.get('function');
    return json(
      200,
      runtime.invocations.filter((i) => !fn || i.functionName === fn),
    );
  }
  if (path === '/_local/queue') return json(200, runtime.queue.list());
  if (path === '/_local/destinations') return json(200, runtime.destinations);
  const oss = LOCAL_OSS.exec(path);
  if (oss) {
    const bucket = decodeURIComponent(oss[1]!);
    const key = decodeURIComponent(oss[2]!);
    try {
      if (req.method === 'PUT') {
        const body = await readBody(req, 5 * 1024 * 1024 * 1024);
        if (body === 'too-large') return json(413, { error: 'object too large' });
        return json(200, runtime.buckets.put(bucket, key, body));
      }
      if (req.method === 'GET') {
        const body = runtime.buckets.get(bucket, key);
        return body
          ? send(res, 200, { 'content-type': 'application/octet-stream' }, body)
          : json(404, { error: 'NoSuchKey' });
      }
      if (req.method === 'DELETE') return json(runtime.buckets.delete(bucket, key) ? 204 : 404, {});
    } catch (error) {
      return json(400, { error: (error as Error).message });
    }
    return json(405, { error: 'use PUT, GET or DELETE' });
  }
  json(404, { error: `unknown local endpoint ${path}` });
}
