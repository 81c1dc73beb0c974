import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { until } from '../helpers.ts';

const TEMPLATE = resolve(import.meta.dirname, '../fixtures/app/s.yaml');

describe('local FC runtime end to end', () => {
  let runtime: LocalRuntime;
  const output: string[] = [];
  const flakyDir = mkdtempSync(join(tmpdir(), 'flaky-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'fc-state-'));

  beforeAll(async () => {
    runtime = await LocalRuntime.start({
      template: TEMPLATE,
      port: 0,
      stateDir,
      retryBaseMs: 50,
      env: { FLAKY_DIR: flakyDir },
      print: (line) => output.push(line),
    });
  });
  afterAll(async () => runtime?.stop(2000));

  const invocationsOf = (fn: string) => runtime.invocations.filter((i) => i.functionName === fn);

  it('round-trips an HTTP request through the trigger, with query, headers and a JSON body', async () => {
    const response = await fetch(`${runtime.url}/echo/orders/42?x=1&x=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test': 'yes' },
      body: JSON.stringify({ name: 'widget', count: 3 }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      method: 'POST',
      path: '/orders/42',
      query: { x: '1,2' },
      header: 'yes',
      greeting: 'hello',
      body: { name: 'widget', count: 3 },
      function: 'echo',
    });
    const record = invocationsOf('echo').at(-1)!;
    expect(record.logs.some((l) => JSON.parse(l).message === 'echo')).toBe(true);
  });

  it('answers 400 naming the field when the body is invalid for the function', async () => {
    const response = await fetch(`${runtime.url}/echo/`, { method: 'POST', body: '{"count":"x"}' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { path: string }[] };
    expect(body.issues.map((i) => i.path)).toEqual(['body.name', 'body.count']);
  });

  it('refuses methods the trigger does not allow, unknown functions and functions without HTTP triggers', async () => {
    const put = await fetch(`${runtime.url}/echo/x`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect(((await put.json()) as { Message: string }).Message).toMatch(/PUT is not allowed/);
    const missing = await fetch(`${runtime.url}/nope/x`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { Code: string }).Code).toBe('FunctionNotFound');
    expect((await fetch(`${runtime.url}/tick/`)).status).toBe(404);
  });

  it('fires an enabled timer with its payload and never a disabled one', async () => {
    const fired = await until(() => invocationsOf('tick').find((i) => i.ok));
    const result = JSON.parse(fired.response) as { triggerName: string; n: number; at: string };
    expect(result).toMatchObject({ triggerName: 'every-second', n: 1 });
    expect(result.at).toMatch(/\.000Z$/);
    expect(invocationsOf('tick').every((i) => JSON.parse(i.response).triggerName === 'every-second')).toBe(
      true,
    );
  });

  it('fires the OSS trigger for a matching object and not for one outside its filter', async () => {
    const put = (key: string) =>
      fetch(`${runtime.url}/_local/oss/uploads/${key}`, { method: 'PUT', body: 'zip-bytes' });
    expect((await put('other/b.zip')).status).toBe(200);
    expect((await put('incoming/readme.txt')).status).toBe(200);
    expect((await put('incoming/build.zip')).status).toBe(200);
    const fired = await until(() => invocationsOf('on-upload').find((i) => i.ok));
    const md5 = createHash('md5').update('zip-bytes').digest('hex').toUpperCase();
    expect(JSON.parse(fired.response)).toEqual({ keys: ['incoming/build.zip'], eTag: md5 });
    // Every trigger the three objects fired has run by the time the async queue is empty.
    await until(() => runtime.queue.list().length === 0 || undefined);
    expect(invocationsOf('on-upload')).toHaveLength(1);
  });

  it('retries an async invocation that fails twice, then succeeds and reaches the success destination', async () => {
    const response = await fetch(`${runtime.url}/2023-03-30/functions/flaky/invocations`, {
      method: 'POST',
      headers: { 'x-fc-invocation-type': 'Async' },
      body: JSON.stringify({ id: 'twice', failTimes: 2 }),
    });
    expect(response.status).toBe(202);
    const requestId = response.headers.get('x-fc-request-id')!;
    const delivered = await until(() => runtime.destinations.find((d) => d.requestId === requestId));
    const attempts = runtime.invocations.filter((i) => i.requestId === requestId);
    expect(attempts.map((a) => [a.attempt, a.ok])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(delivered).toMatchObject({
      condition: 'Success',
      payload: { requestContext: { approximateInvokeCount: 3 } },
    });
    const line = readFileSync(join(stateDir, 'destinations', 'mns.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .at(-1)!;
    expect(JSON.parse(line)).toMatchObject({
      destination: expect.stringContaining('flaky-ok'),
      requestContext: { requestId },
    });
  });

  it('sends an invocation that exhausts its retries to the failure destination function', async () => {
    const response = await fetch(`${runtime.url}/2023-03-30/functions/always-fails/invocations`, {
      method: 'POST',
      headers: { 'x-fc-invocation-type': 'Async' },
      body: '{"order":7}',
    });
    const requestId = response.headers.get('x-fc-request-id')!;
    const dead = await until(() =>
      invocationsOf('dead-letter').find(
        (i) => i.ok && JSON.parse(i.response).received.requestId === requestId,
      ),
    );
    expect(JSON.parse(dead.response)).toEqual({
      received: {
        requestId,
        functionArn: 'acs:fc:cn-hangzhou:1234567890123456:functions/always-fails',
        condition: 'UnhandledInvocationError',
        approximateInvokeCount: 3,
      },
      requestPayload: '{"order":7}',
    });
    expect(runtime.invocations.filter((i) => i.requestId === requestId)).toHaveLength(3);
    expect(runtime.queue.get(requestId)?.status).toBe('failed');
  });

  it('enforces the function timeout, logs it with the request id and keeps serving', async () => {
    const response = await fetch(`${runtime.url}/2023-03-30/functions/slow/invocations`, {
      method: 'POST',
      body: '{"ms":5000}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-fc-error-type')).toBe('FunctionTimeoutError');
    const requestId = response.headers.get('x-fc-request-id')!;
    expect(output.some((l) => l.includes(requestId) && l.includes('timed out after 1 seconds'))).toBe(true);
    const fast = await fetch(`${runtime.url}/2023-03-30/functions/slow/invocations`, {
      method: 'POST',
      body: '{"ms":1}',
    });
    expect(await fast.json()).toEqual({ slept: 1 });
  });

  it('answers a synchronous function error as FC does: 200 with X-Fc-Error-Type and the error body', async () => {
    const response = await fetch(`${runtime.url}/2023-03-30/functions/always-fails/invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-fc-error-type')).toBe('UnhandledInvocationError');
    expect(await response.json()).toMatchObject({
      errorMessage: 'this function always fails',
      errorType: 'TypeError',
    });
  });

  it('rejects async payloads over 128 KB as FC does, and queues nothing', async () => {
    const before = runtime.queue.list().length;
    const response = await fetch(`${runtime.url}/2023-03-30/functions/dead-letter/invocations`, {
      method: 'POST',
      headers: { 'x-fc-invocation-type': 'Async' },
      body: 'x'.repeat(128 * 1024 + 1),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ Code: 'EntityTooLarge' });
    expect(runtime.queue.list().length).toBe(before);
  });

  it('deduplicates async tasks by x-fc-async-task-id with 409', async () => {
    const send = () =>
      fetch(`${runtime.url}/2023-03-30/functions/dead-letter/invocations`, {
        method: 'POST',
        headers: { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': 'task-1' },
        body: JSON.stringify({ requestContext: {}, requestPayload: '' }),
      });
    expect((await send()).status).toBe(202);
    const second = await send();
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ Code: 'AsyncTaskAlreadyExist' });
  });

  it('serves the FC 2.0 invoke path too, with the function context and environment', async () => {
    const response = await fetch(`${runtime.url}/2016-08-15/services/any/functions/echo/invocations`, {
      method: 'POST',
      body: JSON.stringify({
        version: 'v1',
        rawPath: '/ctx',
        body: '',
        isBase64Encoded: false,
        headers: {},
        queryParameters: {},
        requestContext: { http: { method: 'GET', path: '/ctx' }, requestId: 'r' },
      }),
    });
    expect(response.status).toBe(200);
    const result = JSON.parse(await response.text()) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ path: '/ctx', function: 'echo', greeting: 'hello' });
  });
});

describe('async queue durability', () => {
  it('runs what was queued before a restart (at least once)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'fc-state-'));
    const flakyDir = mkdtempSync(join(tmpdir(), 'flaky-'));
    const options = {
      template: TEMPLATE,
      port: 0,
      stateDir,
      retryBaseMs: 50,
      env: { FLAKY_DIR: flakyDir },
      print: () => {},
    };
    const first = await LocalRuntime.start(options);
    await first.queue.stop(); // stop dispatching, as if the process died right after the 202
    const message = await first.invokeAsync('flaky', Buffer.from('{"id":"restart","failTimes":0}'), {
      source: 'test',
    });
    await first.stop(500);

    const second = await LocalRuntime.start(options);
    try {
      const done = await until(() =>
        second.invocations.find((i) => i.requestId === message.requestId && i.ok),
      );
      expect(JSON.parse(done.response)).toMatchObject({ id: 'restart', attempts: 1 });
    } finally {
      await second.stop(500);
    }
  });
});
