import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
    await q.enqueue({ functionName: 'f', payload: Buffer.from('{}'), source: 'test' });
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
    await q.enqueue({ functionName: 'f', payload: Buffer.from('{}'), source: 'test' });
    await until(() => finished[0]);
    expect(attempts).toEqual([1, 2, 3]);
    expect(finished[0]).toMatchObject({
      condition: 'UnhandledInvocationError',
      message: { attempts: 3, lastError: { errorMessage: 'boom' } },
    });
    await q.stop();
  });

  it('forgets finished messages on disk but keeps their task ids for dedupe across restarts', async () => {
    const { q, dir, finished } = queue();
    q.start();
    await q.enqueue({ functionName: 'f', payload: Buffer.from('{}'), source: 'test', taskId: 'deploy-42' });
    await until(() => finished[0]);
    await q.stop();
    const again = new AsyncQueue(dir, {
      run: async () => ({ ok: true, response: '' }),
      policy: () => undefined,
      finished: async () => {},
    });
    again.start();
    expect(again.list()).toEqual([]);
    await expect(
      again.enqueue({ functionName: 'f', payload: Buffer.alloc(0), source: 't', taskId: 'deploy-42' }),
    ).rejects.toThrow(DuplicateTaskError);
    // The journal was rewritten at start: the finished message is gone from it, its task id is not.
    expect(readFileSync(join(dir, 'queue.jsonl'), 'utf8')).toBe('{"task":"deploy-42"}\n');
    await again.stop();
  });

  it('refuses a second enqueue of a task id in the same burst, before either is on disk', async () => {
    const { q } = queue();
    const first = q.enqueue({ functionName: 'f', payload: Buffer.from('{}'), source: 'test', taskId: 't-1' });
    await expect(
      q.enqueue({ functionName: 'f', payload: Buffer.from('{}'), source: 'test', taskId: 't-1' }),
    ).rejects.toThrow(DuplicateTaskError);
    expect((await first).taskId).toBe('t-1');
    await q.stop();
  });

  it('reads a state directory from before the journal (a file per message, one per finished task)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'queue-'));
    mkdirSync(join(dir, 'pending'));
    mkdirSync(join(dir, 'done'));
    const old: AsyncMessage = {
      requestId: 'r-old',
      taskId: undefined,
      functionName: 'f',
      qualifier: 'LATEST',
      source: 'test',
      payload: Buffer.from('{}').toString('base64'),
      enqueuedAt: Date.now(),
      attempts: 1,
      nextAttemptAt: Date.now(),
      status: 'running',
    };
    writeFileSync(join(dir, 'pending', 'r-old.json'), JSON.stringify(old));
    writeFileSync(join(dir, 'done', 'task-build%2F7.json'), '{}');
    const q = new AsyncQueue(dir, {
      run: async () => ({ ok: true, response: '' }),
      policy: () => undefined,
      finished: async () => {},
    });
    q.start({ dispatch: false });
    expect(q.list()).toMatchObject([{ requestId: 'r-old', status: 'queued', attempts: 1 }]);
    await expect(
      q.enqueue({ functionName: 'f', payload: Buffer.alloc(0), source: 't', taskId: 'build/7' }),
    ).rejects.toThrow(DuplicateTaskError);
    expect(existsSync(join(dir, 'pending'))).toBe(false);
    await q.stop();
  });

  it('keeps every acknowledged message through a SIGKILL in the middle of a burst', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'queue-'));
    // A process that enqueues as fast as it can, 64 at a time, prints each id once its enqueue
    // resolved (what FC would answer 202 for), and kills itself mid-burst.
    const script = `
      import { AsyncQueue } from ${JSON.stringify(new URL('../../local/runtime/async-queue.ts', import.meta.url).href)};
      const q = new AsyncQueue(process.argv[1], { run: async () => ({ ok: true, response: '' }), policy: () => undefined, finished: async () => {} });
      q.start({ dispatch: false });
      let acked = 0;
      for (;;) {
        await Promise.all(Array.from({ length: 64 }, () =>
          q.enqueue({ functionName: 'f', payload: Buffer.from('{"n":1}'), source: 'crash' }).then((m) => {
            process.stdout.write(m.requestId + '\\n');
            if (++acked === 300) process.kill(process.pid, 'SIGKILL');
          })));
      }`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.signal).toBe('SIGKILL');
    const acknowledged = child.stdout.split('\n').filter(Boolean);
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);
    const q = new AsyncQueue(dir, {
      run: async () => ({ ok: true, response: '' }),
      policy: () => undefined,
      finished: async () => {},
    });
    q.start({ dispatch: false });
    const kept = new Set(q.list().map((m) => m.requestId));
    expect(acknowledged.filter((id) => !kept.has(id))).toEqual([]);
    await q.stop();
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
    const { requestId } = await q.enqueue({ functionName: 'f', payload: Buffer.from('{}'), source: 'test' });
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
