import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AsyncMessage,
  AsyncQueue,
  type AttemptOutcome,
  DuplicateTaskError,
} from '../../local/runtime/async-queue.ts';
import { until } from '../helpers.ts';

function queue(options: { maxAge?: number; retries?: number; outcomes?: boolean[] } = {}) {
  // Real time plus whatever the test jumps ahead: retries become due as time passes.
  let offset = 0;
  const dir = mkdtempSync(join(tmpdir(), 'queue-'));
  const finished: { message: AsyncMessage; condition: string }[] = [];
  const outcomes = [...(options.outcomes ?? [])];
  const attempts: number[] = [];
  const q = new AsyncQueue(
    dir,
    {
      run: async (m): Promise<AttemptOutcome> => {
        attempts.push(m.attempts);
        const ok = outcomes.shift() ?? true;
        return ok
          ? { ok, response: 'done' }
          : { ok, response: 'err', error: { errorMessage: 'boom', errorType: 'Error' } };
      },
      policy: () => ({
        maxAsyncRetryAttempts: options.retries ?? 3,
        maxAsyncEventAgeInSeconds: options.maxAge ?? 86_400,
      }),
      finished: async (message, condition) => {
        finished.push({ message: { ...message }, condition });
      },
    },
    1,
    () => Date.now() + offset,
  );
  return { q, dir, finished, attempts, advance: (ms: number) => (offset += ms) };
}

describe('async queue', () => {
  it('drops an event older than maxAsyncEventAgeInSeconds to the failure path without running it', async () => {
    const { q, finished, attempts, advance } = queue({ maxAge: 60 });
    q.enqueue({ functionName: 'f', payload: Buffer.from('{}'), source: 'test' });
    advance(61_000);
    q.start();
    await until(() => finished[0]);
    expect(finished[0]).toMatchObject({
      condition: 'MaxEventAgeExceeded',
      message: { status: 'failed', attempts: 0 },
    });
    expect(attempts).toEqual([]);
    await q.stop();
  });

  it('retries maxAsyncRetryAttempts times, then fails with the function error', async () => {
    const { q, finished, attempts } = queue({ retries: 2, outcomes: [false, false, false, true] });
    q.start();
    q.enqueue({ functionName: 'f', payload: Buffer.from('{}'), source: 'test' });
    await until(() => finished[0]);
    expect(attempts).toEqual([1, 2, 3]);
    expect(finished[0]).toMatchObject({
      condition: 'UnhandledInvocationError',
      message: { attempts: 3, lastError: { errorMessage: 'boom' } },
    });
    await q.stop();
  });

  it('moves finished messages out of pending, keeping task ids for dedupe across restarts', async () => {
    const { q, dir, finished } = queue();
    q.start();
    q.enqueue({ functionName: 'f', payload: Buffer.from('{}'), source: 'test', taskId: 'deploy-42' });
    await until(() => finished[0]);
    await q.stop();
    expect(readdirSync(join(dir, 'pending'))).toEqual([]);
    expect(readdirSync(join(dir, 'done'))).toEqual(['task-deploy-42.json']);
    const again = new AsyncQueue(dir, {
      run: async () => ({ ok: true, response: '' }),
      policy: () => undefined,
      finished: async () => {},
    });
    again.start();
    expect(() =>
      again.enqueue({ functionName: 'f', payload: Buffer.alloc(0), source: 't', taskId: 'deploy-42' }),
    ).toThrow(DuplicateTaskError);
    await again.stop();
  });
});

describe('async queue shutdown', () => {
  it('stops within its grace while a long job runs, and leaves that job queued for the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'queue-'));
    let release: (outcome: AttemptOutcome) => void = () => {};
    const started: number[] = [];
    const q = new AsyncQueue(
      dir,
      {
        // A job that runs until the test lets it end (as a backup waits for its task).
        run: () =>
          new Promise<AttemptOutcome>((done) => {
            started.push(Date.now());
            release = done;
          }),
        policy: () => ({ maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 86_400 }),
        finished: async () => {},
      },
      1,
    );
    const { requestId } = q.enqueue({ functionName: 'f', payload: Buffer.from('{}'), source: 'test' });
    q.start();
    await until(() => started[0]);
    const before = Date.now();
    await q.stop(200);
    expect(Date.now() - before).toBeLessThan(10_000);
    // The instance is gone (the runtime terminates it): the attempt ends failed, the message waits.
    release({ ok: false, response: 'terminated', error: { errorMessage: 'terminated', errorType: 'Error' } });
    await until(() => (q.get(requestId)?.status === 'queued' ? true : undefined));
    expect(q.get(requestId)).toMatchObject({ status: 'queued', attempts: 0 });
  });
});
