import { afterAll, describe, expect, it } from 'vitest';
import { json } from '../../shared/events/http.ts';
import type { FcContext } from '../../shared/runtime/context.ts';
import { defineHandler } from '../../shared/runtime/define-handler.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { fixture, until } from '../helpers.ts';

const context = (requestId: string): FcContext => ({
  requestId,
  credentials: { accessKeyId: 'id', accessKeySecret: 's' },
  function: { name: 'ops-api', handler: 'index.handler', memory: 512, timeout: 3 },
  service: {},
  region: 'cn-hangzhou',
  accountId: '1',
  logger: console,
});

describe('ctx.once', () => {
  const opened = openStore({});
  afterAll(async () => (await opened).close());
  let calls = 0;
  let failNext = false;
  const handler = defineHandler({
    // A function without an fc-devops.yaml.
    config: null,
    store: () => opened as Promise<Store>,
    http: async (_request, ctx) => {
      const outcome = await ctx.once(async (run) => {
        calls++;
        await run.append('did it\n');
        if (failNext) {
          failNext = false;
          throw new Error('upstream hiccup');
        }
        return { calls };
      });
      return json(200, outcome);
    },
    timer: {
      run: async (_input, ctx) => ctx.once(async () => ++calls),
    },
  });
  const post = (key: string | undefined, requestId: string, body?: string) => {
    const event = fixture<Record<string, any>>('http/get.json');
    event.headers = key ? { 'Idempotency-Key': key } : {};
    if (body !== undefined) event.body = body;
    return handler(Buffer.from(JSON.stringify(event)), context(requestId)) as Promise<{
      statusCode: number;
      body: string;
    }>;
  };

  it('refuses a changing HTTP call without an Idempotency-Key, naming the header', async () => {
    const response = await post(undefined, 'r0');
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).issues).toEqual([
      { path: 'headers.idempotency-key', message: expect.stringContaining('required') },
    ]);
  });

  it('runs once per Idempotency-Key and returns the stored result to repeats', async () => {
    const first = JSON.parse((await post('abc', 'r1')).body);
    const again = JSON.parse((await post('abc', 'r2')).body);
    expect(first).toMatchObject({ status: 'done', result: { calls: 1 } });
    expect(again).toEqual({ status: 'duplicate', result: { calls: 1 } });
    const store = await opened;
    const run = await store.getRun(first.runId);
    expect(run).toMatchObject({
      kind: 'ops-api',
      subject: 'http:abc',
      status: 'succeeded',
      result: { calls: 1 },
    });
    // Every line of a run's log starts with when it was written.
    expect(await store.readRunLog(first.runId)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z did it\n$/);
  });

  it('refuses a reused Idempotency-Key with another request (422 naming the key), nothing run', async () => {
    const first = JSON.parse((await post('reuse-me', 'q1', '{"version":"2"}')).body);
    expect(first.status).toBe('done');
    const callsBefore = calls;
    const other = await post('reuse-me', 'q2', '{"version":"3"}');
    expect(other.statusCode).toBe(422);
    expect(JSON.parse(other.body)).toEqual({
      error: 'IdempotencyKeyReused',
      message: expect.stringContaining(
        'idempotency key http:reuse-me was first used for a different request',
      ),
      key: 'http:reuse-me',
    });
    expect(calls).toBe(callsBefore);
    // The same request again is a plain repeat.
    expect(JSON.parse((await post('reuse-me', 'q3', '{"version":"2"}')).body)).toEqual({
      status: 'duplicate',
      result: first.result,
    });
  });

  it('gives the key back when the work fails, so the retry runs it', async () => {
    failNext = true;
    expect((await post('retry-me', 'r3')).statusCode).toBe(500);
    const retried = JSON.parse((await post('retry-me', 'r4')).body);
    expect(retried.status).toBe('done');
    const runs = (await (await opened).listRuns({ subject: 'http:retry-me' })).runs;
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'failed']);
  });

  it('keys a timer firing by trigger name and time', async () => {
    const tick = (time: string) =>
      handler(
        Buffer.from(JSON.stringify({ triggerTime: time, triggerName: 'nightly', payload: '' })),
        context(`t-${time}`),
      );
    const a = await tick('2026-11-27T02:00:00Z');
    const b = await tick('2026-11-27T02:00:00Z');
    const c = await tick('2026-11-28T02:00:00Z');
    expect((a as { status: string }).status).toBe('done');
    expect(b).toEqual({ status: 'duplicate', result: (a as { result: number }).result });
    expect((c as { status: string }).status).toBe('done');
  });
});

describe('ctx.once: stages and cancellation', () => {
  const opened = openStore({});
  afterAll(async () => (await opened).close());
  const handler = defineHandler({
    config: null,
    store: () => opened as Promise<Store>,
    http: async (_request, ctx) => {
      const outcome = await ctx.once(
        async (run) => {
          await run.stage('build', { progress: 10, detail: 'step 1' });
          await run.append('waiting for someone to cancel\n');
          // Work that only ends when it is cancelled (bounded, so a broken cancel fails the test).
          await new Promise((resolve, reject) => {
            const guard = setTimeout(() => resolve('not cancelled'), 20_000);
            run.signal.addEventListener('abort', () => {
              clearTimeout(guard);
              reject(run.signal.reason);
            });
          });
          return { finished: true };
        },
        { kind: 'cancel-test', subject: 'web@1' },
      );
      return json(200, outcome);
    },
  });
  const post = (key: string, requestId: string) => {
    const event = fixture<Record<string, any>>('http/get.json');
    event.headers = { 'Idempotency-Key': key };
    return handler(Buffer.from(JSON.stringify(event)), context(requestId)) as Promise<{
      statusCode: number;
      body: string;
    }>;
  };

  it('stops the work when someone cancels the run, records it cancelled, and never runs it again', async () => {
    const store = await opened;
    const answer = post('cancel-me', 'c1');
    const run = await until(async () => (await store.listRuns({ kind: 'cancel-test' })).runs[0], 10_000);
    expect(run.stages).toEqual([
      { name: 'build', startedAt: expect.any(String), progress: 10, detail: 'step 1' },
    ]);
    await store.requestCancel(run.id, 'ops-alice');
    const response = await answer;
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(response.body).message).toBe(`run ${run.id} was cancelled by ops-alice`);
    const ended = await store.getRun(run.id);
    expect(ended).toMatchObject({ status: 'cancelled', cancelRequestedBy: 'ops-alice' });
    expect(ended!.stages[0]!.endedAt).toEqual(expect.any(String));
    // The key is kept: a redelivery gets the cancellation, not a second run.
    const again = await post('cancel-me', 'c2');
    expect(JSON.parse(again.body)).toEqual({
      status: 'duplicate',
      result: { cancelled: true, by: 'ops-alice' },
    });
    expect((await store.listRuns({ kind: 'cancel-test' })).runs).toHaveLength(1);
  });
});
