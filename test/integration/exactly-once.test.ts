import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { createJob } from '../../shared/events/job.ts';
import { until } from '../helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TEMPLATE = join(ROOT, 'test/fixtures/app/s.yaml');

describe('exactly-once side effects through the local runtime and its store', () => {
  let runtime: LocalRuntime;
  const dir = mkdtempSync(join(tmpdir(), 'once-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'once-state-'));
  const sideEffects = () => {
    try {
      return readFileSync(join(dir, 'side-effects'), 'utf8').trim().split('\n');
    } catch {
      return [];
    }
  };

  beforeAll(async () => {
    runtime = await LocalRuntime.start({
      template: TEMPLATE,
      port: 0,
      stateDir,
      retryBaseMs: 200,
      env: { FLAKY_DIR: dir },
      print: () => {},
    });
  });
  afterAll(async () => runtime?.stop(2000));

  const send = (bytes: Buffer) =>
    fetch(`${runtime.url}/2023-03-30/functions/exactly-once/invocations`, {
      method: 'POST',
      headers: { 'x-fc-invocation-type': 'Async' },
      body: bytes,
    });

  it('does the work once for a job delivered three times, and answers duplicates with the stored result', async () => {
    const { bytes } = createJob({
      kind: 'demo.work',
      idempotencyKey: 'delivery-1:pipeline-web',
      payload: { item: 'first' },
    });
    for (let i = 0; i < 3; i++) {
      expect((await send(bytes)).status).toBe(202);
      await until(() => runtime.queue.list().length === 0 || undefined);
    }
    const results = runtime.invocations
      .filter((i) => i.functionName === 'exactly-once')
      .map((i) => JSON.parse(i.response));
    expect(results.map((r) => r.status)).toEqual(['done', 'duplicate', 'duplicate']);
    expect(new Set(results.map((r) => r.result.run)).size).toBe(1);
    expect(sideEffects()).toEqual(['first']);
  });

  it('makes a concurrent duplicate wait (conflict, retried by FC) instead of running twice', async () => {
    const { bytes } = createJob({
      kind: 'demo.work',
      idempotencyKey: 'delivery-2',
      payload: { item: 'slow', slowMs: 800 },
    });
    await Promise.all([send(bytes), send(bytes)]);
    await until(() => runtime.queue.list().length === 0 || undefined, 20_000);
    expect(sideEffects().filter((s) => s === 'slow')).toEqual(['slow']);
    const slow = runtime.invocations.filter(
      (i) => i.functionName === 'exactly-once' && i.response.includes('slow'),
    );
    expect(slow.map((i) => JSON.parse(i.response).status).sort()).toEqual(['done', 'duplicate']);
    expect(
      runtime.invocations.some((i) => i.functionName === 'exactly-once' && i.errorType === 'ConflictError'),
    ).toBe(true);
  });

  it('shows the runs and their logs with fc-devops runs', async () => {
    // Asynchronously: the runtime serving the store lives in this process and must keep answering.
    const cli = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string }>((done) => {
        const child = spawn(
          process.execPath,
          [join(ROOT, 'bin/fc-devops.mjs'), 'runs', ...args, '--state', stateDir],
          { cwd: ROOT },
        );
        let stdout = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.on('exit', (status) => done({ status, stdout }));
      });
    const list = await cli(['--kind', 'demo.work']);
    expect(list.status).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/succeeded\s+demo.work\s+job:delivery-2\s+attempt \d/);
    expect(lines[1]).toMatch(/succeeded\s+demo.work\s+job:delivery-1:pipeline-web\s+attempt 1/);
    const id = lines[1]!.split(/\s+/)[0]!;
    const show = await cli(['show', id]);
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(/result: \{.*"item":"first"/);
    expect(show.stdout).toContain('working on first');
    expect((await cli(['show', 'run-nope'])).status).toBe(1);
    expect((await cli(['--status', 'weird'])).status).toBe(2);
  });
});
