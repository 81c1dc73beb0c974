import { afterAll, describe, expect, it } from 'vitest';
import type { FcContext } from '../../shared/runtime/context.ts';
import { defineHandler } from '../../shared/runtime/define-handler.ts';
import { runWhenDue } from '../../shared/schedule/due.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';

const context = (requestId: string, retryCount = 0): FcContext => ({
  requestId,
  credentials: { accessKeyId: 'id', accessKeySecret: 's' },
  function: { name: 'nightly', handler: 'index.handler', memory: 512, timeout: 60 },
  service: {},
  region: 'cn-hangzhou',
  accountId: '1',
  logger: console,
  retryCount,
});

describe('scheduled runs: keyed by their due time, done only when they succeed', () => {
  const opened = openStore({});
  afterAll(async () => (await opened).close());
  const done: string[] = [];
  let failures = 0;
  const handler = defineHandler({
    config: null,
    store: () => opened as Promise<Store>,
    timer: {
      run: (input, ctx) =>
        runWhenDue(
          ctx,
          { name: 'backup:rotate:orders', schedule: '0 0 2 * * *', kind: 'backup.schedule' },
          input.triggerTime,
          async (_run, due) => {
            if (failures > 0) {
              failures--;
              throw new Error('DescribeDBInstances: ServiceUnavailable');
            }
            done.push(due.toISOString());
            return due.toISOString();
          },
        ),
    },
  });
  const tick = (time: string, requestId: string, retryCount = 0) =>
    handler(
      Buffer.from(JSON.stringify({ triggerTime: time, triggerName: 'schedule', payload: '' })),
      context(requestId, retryCount),
    ) as Promise<{ status: string; due?: string; result?: string; next?: string }>;

  it('runs a firing whose first attempt failed again, on FC’s retry of the tick', async () => {
    failures = 1;
    await expect(tick('2026-11-27T02:00:30Z', 'r1')).rejects.toThrow('ServiceUnavailable');
    expect(done).toEqual([]);
    // FC retries the same timer event: the firing is still due and runs now.
    expect(await tick('2026-11-27T02:00:30Z', 'r1-retry', 1)).toMatchObject({
      status: 'done',
      result: '2026-11-27T02:00:00.000Z',
    });
    expect(done).toEqual(['2026-11-27T02:00:00.000Z']);
  });

  it('runs it on the next tick when every retry of the first one failed, and never twice', async () => {
    failures = 3;
    for (const [i, at] of ['2026-11-28T02:00:10Z', '2026-11-28T02:00:10Z', '2026-11-28T02:00:10Z'].entries())
      await expect(tick(at, `s${i}`, i)).rejects.toThrow();
    expect(await tick('2026-11-28T02:01:10Z', 's3')).toMatchObject({
      status: 'done',
      result: '2026-11-28T02:00:00.000Z',
    });
    expect(await tick('2026-11-28T02:02:10Z', 's4')).toMatchObject({ status: 'not-due' });
    expect(await tick('2026-11-28T02:01:10Z', 's3-again')).toMatchObject({ status: 'not-due' });
    expect(done).toEqual(['2026-11-27T02:00:00.000Z', '2026-11-28T02:00:00.000Z']);
    const runs = (await (await opened).listRuns({ kind: 'backup.schedule' })).runs;
    expect(runs.map((r) => r.status)).toEqual([
      'succeeded',
      'failed',
      'failed',
      'failed',
      'succeeded',
      'failed',
    ]);
  });

  it('collapses firings missed while nothing ticked into one run of the latest', async () => {
    expect(await tick('2026-12-02T03:00:00Z', 'late')).toMatchObject({
      status: 'done',
      result: '2026-12-02T02:00:00.000Z',
    });
    expect(done.at(-1)).toBe('2026-12-02T02:00:00.000Z');
    expect(done).toHaveLength(3);
  });
});
