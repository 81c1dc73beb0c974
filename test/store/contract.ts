import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConflictError, ParseError } from '../../shared/runtime/errors.ts';
import type { Store } from '../../shared/store/port.ts';

export interface Harness {
  store: Store;
  advance(ms: number): void;
}

/** One contract, every engine: the same behaviour on PGlite and on PostgreSQL. */
export function storeContract(engine: string, open: () => Promise<Harness>) {
  const withStore = (fn: (h: Harness) => Promise<void>) => async () => {
    const h = await open();
    try {
      await fn(h);
    } finally {
      await h.store.close();
    }
  };

  describe(`store contract: ${engine}`, () => {
    describe('idempotency', () => {
      it(
        'gives a duplicate the first result',
        withStore(async ({ store }) => {
          expect(await store.claim('k1', { owner: 'a', leaseMs: 60_000 })).toMatchObject({
            status: 'claimed',
            takenOver: false,
          });
          expect(await store.complete('k1', 'a', { images: ['m-1'] })).toBe(true);
          expect(await store.claim('k1', { owner: 'b', leaseMs: 60_000 })).toEqual({
            status: 'completed',
            key: 'k1',
            result: { images: ['m-1'] },
          });
        }),
      );

      it(
        'records the run with a claim that wins, and none with one that loses, in one statement',
        withStore(async ({ store, advance }) => {
          const input = {
            kind: 'git.push',
            subject: 'shop/api@refs/heads/main',
            correlationId: 'c-1',
            attempt: 2,
          };
          const won = await store.claim('with-run', { owner: 'a', leaseMs: 60_000, run: input });
          expect(won).toMatchObject({
            status: 'claimed',
            run: {
              kind: 'git.push',
              subject: 'shop/api@refs/heads/main',
              correlationId: 'c-1',
              attempt: 2,
              status: 'running',
            },
          });
          const run = won.status === 'claimed' ? won.run! : undefined;
          expect(await store.getRun(run!.id)).toEqual(run);
          // Busy, then (after completion) a duplicate: no second run either time.
          expect(await store.claim('with-run', { owner: 'b', leaseMs: 60_000, run: input })).toMatchObject({
            status: 'in_progress',
          });
          advance(1000);
          const finished = await store.finishRun(
            run!.id,
            { status: 'succeeded', result: { jobs: 1 } },
            { key: 'with-run', owner: 'a' },
          );
          expect(finished).toMatchObject({
            completed: true,
            run: { status: 'succeeded', result: { jobs: 1 } },
          });
          expect(finished.run.finishedAt?.getTime()).toBe(run!.createdAt.getTime() + 1000);
          expect(await store.claim('with-run', { owner: 'c', leaseMs: 60_000, run: input })).toEqual({
            status: 'completed',
            key: 'with-run',
            result: { jobs: 1 },
          });
          expect((await store.listRuns({ kind: 'git.push' })).runs.map((r) => r.id)).toEqual([run!.id]);
          // A bad run input refuses the claim as a whole: no key is left claimed.
          await expect(
            store.claim('bad-run', { owner: 'a', leaseMs: 60_000, run: { kind: '', subject: 'x' } }),
          ).rejects.toThrow(ParseError);
          expect(await store.claim('bad-run', { owner: 'a', leaseMs: 60_000 })).toMatchObject({
            status: 'claimed',
          });
        }),
      );

      it(
        'finishes the run but not the key when the claim was taken over meanwhile',
        withStore(async ({ store, advance }) => {
          const won = await store.claim('lost', {
            owner: 'slow',
            leaseMs: 1000,
            run: { kind: 'k', subject: 's' },
          });
          const run = won.status === 'claimed' ? won.run! : undefined;
          advance(2000);
          expect(await store.claim('lost', { owner: 'next', leaseMs: 60_000 })).toMatchObject({
            status: 'claimed',
            takenOver: true,
          });
          const late = await store.finishRun(
            run!.id,
            { status: 'succeeded', result: 1 },
            { key: 'lost', owner: 'slow' },
          );
          expect(late).toMatchObject({ completed: false, run: { status: 'succeeded', result: 1 } });
          expect(await store.complete('lost', 'next', 2)).toBe(true);
          await expect(
            store.finishRun('run-none', { status: 'failed' }, { key: 'x', owner: 'y' }),
          ).rejects.toThrow(/no run run-none/);
        }),
      );

      it(
        'lets exactly one of 50 concurrent claims win',
        withStore(async ({ store }) => {
          const claims = await Promise.all(
            Array.from({ length: 50 }, (_, i) => store.claim('race', { owner: `o${i}`, leaseMs: 60_000 })),
          );
          const winners = claims.filter((c) => c.status === 'claimed');
          expect(winners).toHaveLength(1);
          const owner = winners[0]!.status === 'claimed' ? winners[0]!.owner : '';
          for (const c of claims.filter((x) => x.status !== 'claimed'))
            expect(c).toMatchObject({ status: 'in_progress', owner });
        }),
      );

      it(
        "hands a crashed claimant's key over after its lease, and refuses the late completion",
        withStore(async ({ store, advance }) => {
          await store.claim('crash', { owner: 'dead', leaseMs: 30_000 });
          expect(await store.claim('crash', { owner: 'next', leaseMs: 30_000 })).toMatchObject({
            status: 'in_progress',
            owner: 'dead',
          });
          advance(30_001);
          expect(await store.claim('crash', { owner: 'next', leaseMs: 30_000 })).toMatchObject({
            status: 'claimed',
            takenOver: true,
          });
          expect(await store.complete('crash', 'dead', 'late')).toBe(false);
          expect(await store.complete('crash', 'next', 'ok')).toBe(true);
        }),
      );

      it(
        'gives a failed key back for a retry',
        withStore(async ({ store }) => {
          await store.claim('f', { owner: 'a', leaseMs: 60_000 });
          expect(await store.fail('f', 'a', { message: 'boom' })).toBe(true);
          expect(await store.claim('f', { owner: 'b', leaseMs: 60_000 })).toMatchObject({
            status: 'claimed',
            owner: 'b',
          });
        }),
      );

      it(
        'forgets completed keys after their time to live',
        withStore(async ({ store, advance }) => {
          await store.claim('ttl', { owner: 'a', leaseMs: 1000, ttlMs: 60_000 });
          await store.complete('ttl', 'a', 1);
          advance(59_000);
          expect((await store.claim('ttl', { owner: 'b', leaseMs: 1000 })).status).toBe('completed');
          advance(2000);
          expect(await store.purgeExpired()).toBe(1);
          expect((await store.claim('ttl', { owner: 'b', leaseMs: 1000 })).status).toBe('claimed');
        }),
      );

      it(
        'refuses a key reused with another payload, and lets the same payload through',
        withStore(async ({ store }) => {
          const p1 = { owner: 'a', leaseMs: 60_000, payloadSha256: 'a'.repeat(64) };
          const p2 = { owner: 'b', leaseMs: 60_000, payloadSha256: 'b'.repeat(64) };
          expect((await store.claim('pay', p1)).status).toBe('claimed');
          expect(await store.claim('pay', p2)).toEqual({ status: 'mismatch', key: 'pay' });
          await store.complete('pay', 'a', { done: 1 });
          expect(await store.claim('pay', p2)).toEqual({ status: 'mismatch', key: 'pay' });
          expect(await store.claim('pay', { ...p1, owner: 'c' })).toEqual({
            status: 'completed',
            key: 'pay',
            result: { done: 1 },
          });
          // A key that failed is free again, for any payload.
          await store.claim('pay-f', p1);
          await store.fail('pay-f', 'a', { message: 'boom' });
          expect((await store.claim('pay-f', p2)).status).toBe('claimed');
          expect(await store.claim('pay-f', { ...p1, owner: 'd' })).toEqual({
            status: 'mismatch',
            key: 'pay-f',
          });
        }),
      );

      it(
        'rejects keys over the limit, saying the limit',
        withStore(async ({ store }) => {
          await expect(store.claim('k'.repeat(513), { owner: 'a', leaseMs: 1 })).rejects.toThrow(
            /513 characters; the limit is 512/,
          );
          await expect(store.claim('k'.repeat(513), { owner: 'a', leaseMs: 1 })).rejects.toBeInstanceOf(
            ParseError,
          );
        }),
      );
    });

    describe('leased locks', () => {
      it(
        "serializes holders and lets a crashed holder's lock expire with a newer token",
        withStore(async ({ store, advance }) => {
          const first = await store.acquireLock('ws/loadtest', { owner: 'a', ttlMs: 10_000 });
          expect(first.acquired).toBe(true);
          expect(await store.acquireLock('ws/loadtest', { owner: 'b', ttlMs: 10_000 })).toMatchObject({
            acquired: false,
            holder: 'a',
          });
          advance(10_001);
          const second = await store.acquireLock('ws/loadtest', { owner: 'b', ttlMs: 10_000 });
          expect(second.acquired).toBe(true);
          if (!first.acquired || !second.acquired) throw new Error('unreachable');
          expect(second.token).toBeGreaterThan(first.token);
          expect(await store.renewLock({ lock: 'ws/loadtest', owner: 'a', token: first.token }, 10_000)).toBe(
            false,
          );
          expect(
            await store.renewLock({ lock: 'ws/loadtest', owner: 'b', token: second.token }, 10_000),
          ).toBe(true);
          expect(await store.releaseLock({ lock: 'ws/loadtest', owner: 'a', token: first.token })).toBe(
            false,
          );
          expect(await store.releaseLock({ lock: 'ws/loadtest', owner: 'b', token: second.token })).toBe(
            true,
          );
          expect((await store.acquireLock('ws/loadtest', { owner: 'c', ttlMs: 1000 })).acquired).toBe(true);
        }),
      );

      it(
        'gives every later holder a larger token and draws none for failed attempts',
        withStore(async ({ store, advance }) => {
          const tokens: number[] = [];
          for (let i = 0; i < 4; i++) {
            const held = await store.acquireLock('release:web', { owner: `o${i}`, ttlMs: 10_000 });
            if (!held.acquired) throw new Error('lock not acquired');
            tokens.push(held.token);
            for (let poll = 0; poll < 3; poll++)
              expect((await store.acquireLock('release:web', { owner: 'poller', ttlMs: 1 })).acquired).toBe(
                false,
              );
            if (i % 2 === 0)
              await store.releaseLock({ lock: 'release:web', owner: `o${i}`, token: held.token });
            else advance(10_001);
          }
          expect(tokens.slice(1).map((t, i) => t - tokens[i]!)).toEqual([1, 1, 1]);
          expect(await store.acquireLock('other', { owner: 'x', ttlMs: 10 })).toMatchObject({
            acquired: true,
          });
        }),
      );

      it(
        'tells who holds a lock, and breaks it so the holder can no longer write',
        withStore(async ({ store }) => {
          expect(await store.lockHolder('terraform:ws')).toBeUndefined();
          expect(await store.breakLock('terraform:ws')).toBeUndefined();
          const held = await store.acquireLock('terraform:ws', { owner: 'run-1', ttlMs: 60_000 });
          if (!held.acquired) throw new Error('not acquired');
          expect(await store.lockHolder('terraform:ws')).toMatchObject({
            holder: 'run-1',
            token: held.token,
          });
          expect(await store.breakLock('terraform:ws')).toMatchObject({ holder: 'run-1', token: held.token });
          expect(await store.lockHolder('terraform:ws')).toBeUndefined();
          const fence = { lock: 'terraform:ws', owner: 'run-1', token: held.token };
          await expect(store.appendHistory('h/broken', { value: 1 }, { fence })).rejects.toBeInstanceOf(
            ConflictError,
          );
          const next = await store.acquireLock('terraform:ws', { owner: 'run-2', ttlMs: 60_000 });
          expect(next.acquired && next.token).toBe(held.token + 1);
        }),
      );

      it(
        'gives exactly one of 20 concurrent acquirers the lock',
        withStore(async ({ store }) => {
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) => store.acquireLock('hot', { owner: `w${i}`, ttlMs: 60_000 })),
          );
          const won = results.filter((r) => r.acquired);
          expect(won).toHaveLength(1);
          for (const r of results.filter((x) => !x.acquired))
            expect(r).toMatchObject({ holder: won[0]!.owner });
        }),
      );

      it(
        "refuses a stale holder's writes by the fencing token",
        withStore(async ({ store, advance }) => {
          const stale = await store.acquireLock('channel/prod', { owner: 'a', ttlMs: 5000 });
          if (!stale.acquired) throw new Error('lock not acquired');
          const staleFence = { lock: 'channel/prod', owner: 'a', token: stale.token };
          await store.appendHistory('channel/prod', { value: 'm-1' }, { fence: staleFence });
          advance(5001);
          const fresh = await store.acquireLock('channel/prod', { owner: 'b', ttlMs: 5000 });
          if (!fresh.acquired) throw new Error('lock not acquired');
          await expect(
            store.appendHistory('channel/prod', { value: 'm-stale' }, { fence: staleFence }),
          ).rejects.toBeInstanceOf(ConflictError);
          await expect(
            store.appendHistory('channel/prod', { value: 'm-stale' }, { fence: staleFence }),
          ).rejects.toThrow(
            new RegExp(
              `fencing token ${stale.token} of a on lock channel/prod is stale \\(current token ${fresh.token}, held by b\\)`,
            ),
          );
          const run = await store.createRun({ kind: 'release.promote', subject: 'prod' });
          await expect(
            store.updateRun(run.id, { status: 'succeeded' }, { fence: staleFence }),
          ).rejects.toBeInstanceOf(ConflictError);
          expect((await store.getRun(run.id))?.status).toBe('running');
          await store.appendHistory(
            'channel/prod',
            { value: 'm-2' },
            { fence: { lock: 'channel/prod', owner: 'b', token: fresh.token } },
          );
          expect((await store.readHistory('channel/prod')).map((e) => e.value)).toEqual(['m-2', 'm-1']);
        }),
      );
    });

    describe('runs', () => {
      it(
        'records named stages in order, with progress in the current one, closed when the run ends',
        withStore(async ({ store, advance }) => {
          const run = await store.createRun({ kind: 'backup.rotate', subject: 'orders-db/rm-1' });
          expect(run.stages).toEqual([]);
          const t0 = new Date(run.createdAt.getTime()).toISOString();
          await store.recordStage(run.id, { name: 'created', progress: 0, detail: 'task 1001' });
          advance(2000);
          // The same stage again moves its progress; it does not start a new one.
          const moved = await store.recordStage(run.id, { name: 'created', progress: 57.4 });
          expect(moved.stages).toEqual([
            { name: 'created', startedAt: t0, progress: 57, detail: 'task 1001' },
          ]);
          advance(1000);
          const listed = await store.recordStage(run.id, { name: 'listed', progress: 140 });
          const t3 = new Date(run.createdAt.getTime() + 3000).toISOString();
          expect(listed.stages).toEqual([
            { name: 'created', startedAt: t0, endedAt: t3, progress: 57, detail: 'task 1001' },
            { name: 'listed', startedAt: t3, progress: 100 },
          ]);
          advance(500);
          const done = await store.updateRun(run.id, { status: 'succeeded' });
          expect(done.stages[1]).toEqual({
            name: 'listed',
            startedAt: t3,
            progress: 100,
            endedAt: new Date(run.createdAt.getTime() + 3500).toISOString(),
          });
          // A finished run's stages stay as they ended.
          expect((await store.recordStage(run.id, { name: 'late' })).stages).toHaveLength(2);
          await expect(store.recordStage('run-none', { name: 'x' })).rejects.toThrow(/no run run-none/);
          await expect(store.recordStage(run.id, { name: '' })).rejects.toThrow(ParseError);
        }),
      );

      it(
        'takes a cancel request for a running run, cancels a queued one at once, and leaves finished ones be',
        withStore(async ({ store }) => {
          const running = await store.createRun({ kind: 'image.build', subject: 'web@1' });
          const asked = await store.requestCancel(running.id, 'ops-alice');
          expect(asked).toMatchObject({ status: 'running', cancelRequestedBy: 'ops-alice' });
          expect(asked!.cancelRequestedAt).toBeInstanceOf(Date);
          // The first request stands: a second one does not rename who asked.
          expect(await store.requestCancel(running.id, 'ops-bob')).toMatchObject({
            cancelRequestedBy: 'ops-alice',
          });
          const queued = await store.createRun({ kind: 'image.build', subject: 'web@2', status: 'queued' });
          const gone = await store.requestCancel(queued.id, 'ops-alice');
          expect(gone).toMatchObject({ status: 'cancelled', cancelRequestedBy: 'ops-alice' });
          expect(gone!.finishedAt).toBeInstanceOf(Date);
          const done = await store.createRun({ kind: 'image.build', subject: 'web@3' });
          await store.updateRun(done.id, { status: 'succeeded' });
          expect(await store.requestCancel(done.id, 'ops-alice')).toMatchObject({
            status: 'succeeded',
            cancelRequestedBy: null,
          });
          expect(await store.requestCancel('run-none', 'ops-alice')).toBeUndefined();
        }),
      );

      it(
        'reads a log from a byte offset, never splitting a character',
        withStore(async ({ store }) => {
          const run = await store.createRun({ kind: 'k', subject: 's' });
          await store.appendRunLog(run.id, 'one\n');
          const first = await store.readRunLogFrom(run.id, 0);
          expect(first).toEqual({ text: 'one\n', next: 4 });
          await store.appendRunLog(run.id, 'zwei ü\n');
          const second = await store.readRunLogFrom(run.id, first.next);
          expect(second).toEqual({ text: 'zwei ü\n', next: 4 + Buffer.byteLength('zwei ü\n') });
          expect(await store.readRunLogFrom(run.id, second.next)).toEqual({ text: '', next: second.next });
          // An offset inside ü (2 bytes) steps back to its first byte.
          expect((await store.readRunLogFrom(run.id, 10)).text).toBe('ü\n');
          expect((await store.readRunLogFrom(run.id, 10_000)).text).toBe('');
        }),
      );

      it(
        'records a run through its life',
        withStore(async ({ store, advance }) => {
          const run = await store.createRun({
            kind: 'image.build',
            subject: 'web@9c1e0b5',
            correlationId: 'c-1',
          });
          expect(run).toMatchObject({
            status: 'running',
            attempt: 1,
            correlationId: 'c-1',
            finishedAt: null,
            logBytes: 0,
          });
          expect(run.startedAt).toEqual(run.createdAt);
          advance(1000);
          const done = await store.updateRun(run.id, {
            status: 'succeeded',
            result: { images: { 'cn-hangzhou': 'm-1' } },
          });
          expect(done.status).toBe('succeeded');
          expect(done.result).toEqual({ images: { 'cn-hangzhou': 'm-1' } });
          expect(done.finishedAt!.getTime() - done.createdAt.getTime()).toBe(1000);
          await expect(store.updateRun('run-none', { status: 'failed' })).rejects.toThrow(/no run run-none/);
        }),
      );

      it(
        'keeps text with NUL characters and lone surrogates instead of failing the write',
        withStore(async ({ store }) => {
          const nasty = 'tail\u0000of a log \ud800 end';
          const kept = 'tail\uFFFDof a log \uFFFD end';
          const entry = await store.appendHistory('h/nul', {
            value: { summary: nasty, 'k\u0000': 1, list: [nasty] },
            actor: 'a\u0000b',
            note: nasty,
          });
          expect(entry).toMatchObject({
            value: { summary: kept, 'k\uFFFD': 1, list: [kept] },
            actor: 'a\uFFFDb',
          });
          const run = await store.createRun({ kind: 'image.build', subject: `web ${nasty}` });
          await store.appendRunLog(run.id, `${nasty}\n`);
          expect(await store.readRunLog(run.id)).toBe(`${kept}\n`);
          const done = await store.updateRun(run.id, { status: 'failed', error: { message: nasty } });
          expect(done.error).toEqual({ message: kept });
          const record = await store.audit({
            actor: 'x',
            action: 'rollback',
            target: 't',
            decision: 'refused',
            reason: nasty,
          });
          expect(record.reason).toBe(kept);
          await store.claim('nul-key', { owner: 'o', leaseMs: 1000 });
          expect(await store.complete('nul-key', 'o', { text: nasty })).toBe(true);
          expect(await store.claim('nul-key', { owner: 'p', leaseMs: 1000 })).toMatchObject({
            result: { text: kept },
          });
          await store.bufferAdd('buf/nul', { text: nasty }, new Date(0));
          expect((await store.takeDueBuffers({ prefix: 'buf/' }))[0]?.items).toEqual([{ text: kept }]);
        }),
      );

      it(
        'queries by kind, subject, status and time, newest first, in pages',
        withStore(async ({ store, advance }) => {
          const ids: string[] = [];
          for (let i = 0; i < 7; i++) {
            const run = await store.createRun({
              kind: i % 2 ? 'backup.rotate' : 'image.build',
              subject: `s${i % 3}`,
            });
            ids.push(run.id);
            if (i === 3) await store.updateRun(run.id, { status: 'failed', error: { message: 'x' } });
            advance(1000);
          }
          const page1 = await store.listRuns({ limit: 3 });
          expect(page1.runs.map((r) => r.id)).toEqual([ids[6], ids[5], ids[4]]);
          const page2 = await store.listRuns({ limit: 3, cursor: page1.next! });
          expect(page2.runs.map((r) => r.id)).toEqual([ids[3], ids[2], ids[1]]);
          const page3 = await store.listRuns({ limit: 3, cursor: page2.next! });
          expect(page3.runs.map((r) => r.id)).toEqual([ids[0]]);
          expect(page3.next).toBeUndefined();
          expect((await store.listRuns({ kind: 'backup.rotate' })).runs.map((r) => r.id)).toEqual([
            ids[5],
            ids[3],
            ids[1],
          ]);
          expect((await store.listRuns({ subject: 's0' })).runs.map((r) => r.id)).toEqual([
            ids[6],
            ids[3],
            ids[0],
          ]);
          expect((await store.listRuns({ status: 'failed' })).runs.map((r) => r.id)).toEqual([ids[3]]);
          const since = (await store.getRun(ids[4]!))!.createdAt;
          expect((await store.listRuns({ since })).runs).toHaveLength(3);
          await expect(store.listRuns({ cursor: 'garbage' })).rejects.toThrow(/not a cursor/);
        }),
      );

      it(
        'appends 10 MB of log and reads it back intact',
        withStore(async ({ store }) => {
          const run = await store.createRun({ kind: 'image.build', subject: 'big' });
          const parts: string[] = [];
          let size = 0;
          for (let i = 0; size < 10 * 1024 * 1024; i++) {
            const part = `${i} ui,amazon-ebs,say ${'é'.repeat(i % 7)} ${'x'.repeat(50_000 + (i % 13) * 997)}\n`;
            parts.push(part);
            size += Buffer.byteLength(part);
            await store.appendRunLog(run.id, part);
          }
          const log = await store.readRunLog(run.id);
          const expected = parts.join('');
          expect(log.length).toBe(expected.length);
          expect(createHash('sha256').update(log).digest('hex')).toBe(
            createHash('sha256').update(expected).digest('hex'),
          );
          expect((await store.getRun(run.id))?.logBytes).toBe(Buffer.byteLength(expected));
          expect(await store.readRunLog(run.id, { tailBytes: 20 })).toBe(expected.slice(-20));
        }),
      );

      it(
        'keeps concurrent log appends whole and in a total order',
        withStore(async ({ store }) => {
          const run = await store.createRun({ kind: 'k', subject: 's' });
          await Promise.all(Array.from({ length: 20 }, (_, i) => store.appendRunLog(run.id, `line ${i}\n`)));
          const lines = (await store.readRunLog(run.id)).trim().split('\n');
          expect(lines.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i}`).sort());
        }),
      );
    });

    describe('histories', () => {
      it(
        'reads the current and previous values newest first',
        withStore(async ({ store }) => {
          for (const image of ['m-1', 'm-2', 'm-3'])
            await store.appendHistory('images/prod', { value: { image }, actor: 'ci' });
          const [current, previous] = await store.readHistory<{ image: string }>('images/prod', { limit: 2 });
          expect(current).toMatchObject({ seq: 3, value: { image: 'm-3' }, actor: 'ci' });
          expect(previous).toMatchObject({ seq: 2, value: { image: 'm-2' } });
          expect(await store.readHistory('images/none')).toEqual([]);
        }),
      );

      it(
        'gives racing appends distinct sequence numbers',
        withStore(async ({ store }) => {
          await Promise.all(Array.from({ length: 10 }, (_, i) => store.appendHistory('race', { value: i })));
          const entries = await store.readHistory<number>('race', { limit: 20 });
          expect(entries.map((e) => e.seq)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
          expect(entries.map((e) => e.value).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        }),
      );
    });

    describe('approvals', () => {
      it(
        'is decided once, by someone else, with the right token, before it expires',
        withStore(async ({ store, advance }) => {
          const { approval, token } = await store.createApproval({
            subject: 'release/api-prod',
            action: 'promote',
            payload: { version: '7' },
            requestedBy: 'ops-alice',
            ttlMs: 3_600_000,
          });
          expect(approval).toMatchObject({
            status: 'pending',
            requestedBy: 'ops-alice',
            payload: { version: '7' },
          });
          expect(JSON.stringify(approval)).not.toContain(token);
          const decide = (decidedBy: string, t = token) =>
            store.decideApproval({ id: approval.id, token: t, decision: 'approved', decidedBy });
          expect(await decide('ops-bob', `${token}x`)).toEqual({ ok: false, reason: 'bad-token' });
          expect(await decide('ops-alice')).toMatchObject({ ok: false, reason: 'self-approval' });
          expect(await decide('ops-bob')).toMatchObject({
            ok: true,
            approval: { status: 'approved', decidedBy: 'ops-bob' },
          });
          expect(await decide('ops-carol')).toMatchObject({
            ok: false,
            reason: 'already-decided',
            approval: { decidedBy: 'ops-bob' },
          });
          const rejectRace = await Promise.all(
            ['x', 'y'].map((who) =>
              store.decideApproval({ id: approval.id, token, decision: 'rejected', decidedBy: who }),
            ),
          );
          expect(rejectRace.every((d) => !d.ok)).toBe(true);

          const late = await store.createApproval({
            subject: 's',
            action: 'promote',
            requestedBy: 'a',
            ttlMs: 1000,
          });
          advance(1001);
          expect(
            await store.decideApproval({
              id: late.approval.id,
              token: late.token,
              decision: 'approved',
              decidedBy: 'b',
            }),
          ).toMatchObject({
            ok: false,
            reason: 'expired',
          });
          expect(
            await store.decideApproval({ id: 'apr-none', token: 't', decision: 'approved', decidedBy: 'b' }),
          ).toEqual({ ok: false, reason: 'not-found' });
        }),
      );

      it(
        'lets only one of two racing approvers win',
        withStore(async ({ store }) => {
          const { approval, token } = await store.createApproval({
            subject: 's',
            action: 'promote',
            requestedBy: 'a',
            ttlMs: 60_000,
          });
          const results = await Promise.all(
            ['b', 'c', 'd'].map((who) =>
              store.decideApproval({ id: approval.id, token, decision: 'approved', decidedBy: who }),
            ),
          );
          expect(results.filter((r) => r.ok)).toHaveLength(1);
        }),
      );
    });

    describe('buffers and rate windows', () => {
      it(
        'collects items until due, then hands each buffer to one taker, in order',
        withStore(async ({ store, advance }) => {
          const due = (ms: number) => new Date(Date.parse('2026-11-27T10:00:00Z') + ms);
          expect(await store.bufferAdd('group:a', { n: 1 }, due(60_000))).toEqual({ opened: true, size: 1 });
          expect(await store.bufferAdd('group:a', { n: 2 }, due(999_999))).toEqual({
            opened: false,
            size: 2,
          });
          await store.bufferAdd('other:b', { n: 3 }, due(60_000));
          expect(await store.takeDueBuffers()).toEqual([]);
          advance(60_000);
          const takers = await Promise.all([
            store.takeDueBuffers({ prefix: 'group:' }),
            store.takeDueBuffers({ prefix: 'group:' }),
          ]);
          const taken = takers.flat();
          expect(taken).toEqual([
            { key: 'group:a', items: [{ n: 1 }, { n: 2 }], createdAt: expect.any(Date) },
          ]);
          expect((await store.bufferAdd('group:a', { n: 4 }, due(120_000))).opened).toBe(true);
          expect((await store.takeDueBuffers()).map((b) => b.key)).toEqual(['other:b']);
        }),
      );

      it(
        'hands due buffers over in the order they fell due, whatever order they were made in',
        withStore(async ({ store, advance }) => {
          const due = (ms: number) => new Date(Date.parse('2026-11-27T10:00:00Z') + ms);
          // Made in an order that is neither due order nor key order.
          for (const [key, ms] of [
            ['g:m', 30_000],
            ['g:z', 10_000],
            ['g:a', 50_000],
            ['g:k', 20_000],
            ['g:b', 40_000],
          ] as const)
            await store.bufferAdd(key, { key }, due(ms));
          advance(60_000);
          expect((await store.takeDueBuffers({ prefix: 'g:' })).map((b) => b.key)).toEqual([
            'g:z',
            'g:k',
            'g:m',
            'g:b',
            'g:a',
          ]);
        }),
      );

      it(
        'admits at most the limit per window and says when the next one fits',
        withStore(async ({ store, advance }) => {
          const results = [];
          for (let i = 0; i < 5; i++) {
            results.push(await store.rateTake('channel:ding', 3, 60_000));
            advance(1000);
          }
          expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
          expect(results[3]).toEqual({
            allowed: false,
            retryAt: new Date(Date.parse('2026-11-27T10:00:00Z') + 60_000),
          });
          advance(55_001);
          expect((await store.rateTake('channel:ding', 3, 60_000)).allowed).toBe(true);
          const burst = await Promise.all(
            Array.from({ length: 10 }, () => store.rateTake('channel:lark', 5, 1000)),
          );
          expect(burst.filter((r) => r.allowed)).toHaveLength(5);
        }),
      );
    });

    describe('rate slots counted until the use ends', () => {
      it(
        'counts a slot from when its use ended, and gives an unused one back',
        withStore(async ({ store, advance }) => {
          const start = Date.parse('2026-11-27T10:00:00Z');
          const first = await store.rateTake('bot', 2, 60_000, { inFlightMs: 30_000 });
          const second = await store.rateTake('bot', 2, 60_000, { inFlightMs: 30_000 });
          if (!first.allowed || !second.allowed) throw new Error('not admitted');
          // In flight: both count until they are dated, here 30 s on for the first.
          advance(30_000);
          await store.rateSettle(first.slot);
          await store.rateSettle(second.slot, { used: false });
          advance(1000);
          expect((await store.rateTake('bot', 2, 60_000)).allowed).toBe(true);
          expect(await store.rateTake('bot', 2, 60_000)).toEqual({
            allowed: false,
            retryAt: new Date(start + 30_000 + 60_000),
          });
          advance(59_000);
          expect((await store.rateTake('bot', 2, 60_000)).allowed).toBe(true);
        }),
      );
    });

    describe('terraform plans and states', () => {
      it(
        'saves a plan with its file, lists plans newest first, and moves a plan only from the statuses given',
        withStore(async ({ store, advance }) => {
          const file = Buffer.from([0, 1, 2, 250, 255, 0]);
          const expiresAt = new Date(Date.parse('2026-11-27T12:00:00Z'));
          const first = await store.savePlan({
            workspace: 'loadtest',
            status: 'awaiting-approval',
            expiresAt,
            meta: { source: { kind: 'commit', commit: 'a'.repeat(40) }, summary: { add: 2 } },
            file,
          });
          advance(1000);
          const second = await store.savePlan({
            workspace: 'loadtest',
            status: 'empty',
            expiresAt,
            meta: {},
          });
          expect(first).toMatchObject({ workspace: 'loadtest', status: 'awaiting-approval', expiresAt });
          expect(first.id).toMatch(/^plan-/);
          expect(await store.readPlanFile(first.id)).toEqual(file);
          expect(await store.readPlanFile(second.id)).toBeUndefined();
          expect((await store.listPlans('loadtest')).map((p) => p.id)).toEqual([second.id, first.id]);
          expect(await store.listPlans('other')).toEqual([]);
          const racing = await Promise.all(
            ['x', 'y', 'z'].map((who) =>
              store.updatePlan(first.id, {
                from: ['awaiting-approval'],
                to: 'approved',
                meta: { approvedBy: who },
              }),
            ),
          );
          const won = racing.filter((r) => r !== undefined);
          expect(won).toHaveLength(1);
          expect(won[0]!.meta).toMatchObject({ summary: { add: 2 }, approvedBy: expect.any(String) });
          expect(
            await store.updatePlan(first.id, { from: ['awaiting-approval'], to: 'approved' }),
          ).toBeUndefined();
          expect((await store.getPlan(first.id))?.status).toBe('approved');
          expect(await store.getPlan('plan-none')).toBeUndefined();
        }),
      );

      it(
        'keeps every state version, newest first, and refuses a stale holder’s write',
        withStore(async ({ store, advance }) => {
          expect(await store.getState('loadtest')).toBeUndefined();
          const v1 = await store.putState('loadtest', {
            data: '{"serial":1}',
            lineage: 'L',
            serial: 1,
            runId: 'run-1',
          });
          advance(1000);
          const v2 = await store.putState('loadtest', { data: '{"serial":2}', lineage: 'L', serial: 2 });
          expect([v1.version, v2.version]).toEqual([1, 2]);
          expect(v1.md5).toBe('gx6MBZ08q5IljbRUUECeSw==');
          expect(await store.getState('loadtest')).toMatchObject({
            version: 2,
            serial: 2,
            data: '{"serial":2}',
          });
          expect(await store.getState('loadtest', { version: 1 })).toMatchObject({
            runId: 'run-1',
            data: '{"serial":1}',
          });
          expect((await store.listStates('loadtest')).map((v) => v.version)).toEqual([2, 1]);
          const racing = await Promise.all(
            [3, 4, 5].map((serial) =>
              store.putState('race', { data: `{"serial":${serial}}`, lineage: 'L', serial }),
            ),
          );
          expect(racing.map((v) => v.version).sort()).toEqual([1, 2, 3]);
          const lock = await store.acquireLock('tfstate:loadtest', { owner: 'a', ttlMs: 1000 });
          if (!lock.acquired) throw new Error('not acquired');
          advance(1001);
          await store.acquireLock('tfstate:loadtest', { owner: 'b', ttlMs: 1000 });
          await expect(
            store.putState(
              'loadtest',
              { data: '{}', lineage: 'L', serial: 3 },
              { fence: { lock: lock.name, owner: 'a', token: lock.token } },
            ),
          ).rejects.toBeInstanceOf(ConflictError);
          expect((await store.getState('loadtest'))?.version).toBe(2);
          // A destroyed environment's state goes; only its holder may take it, and others' stay.
          await expect(
            store.deleteStates('loadtest', { fence: { lock: lock.name, owner: 'a', token: lock.token } }),
          ).rejects.toBeInstanceOf(ConflictError);
          expect(await store.deleteStates('loadtest')).toBe(2);
          expect(await store.getState('loadtest')).toBeUndefined();
          expect(await store.listStates('race')).toHaveLength(3);
          expect(await store.deleteStates('loadtest')).toBe(0);
        }),
      );

      it(
        'keeps environments, lists them newest first by template and status, and moves one only from the statuses given',
        withStore(async ({ store, advance }) => {
          const expiresAt = new Date(Date.parse('2026-11-30T20:00:00Z'));
          const first = await store.createEnvironment({
            id: 'loadtest-aaaaaa',
            template: 'loadtest',
            owner: 'ops-alice',
            status: 'creating',
            expiresAt,
            meta: { variables: { size: 's' } },
          });
          advance(1000);
          await store.createEnvironment({
            id: 'other-bbbbbb',
            template: 'other',
            owner: 'ops-bob',
            status: 'active',
            expiresAt,
            meta: {},
          });
          expect(first).toMatchObject({
            id: 'loadtest-aaaaaa',
            owner: 'ops-alice',
            status: 'creating',
            expiresAt,
          });
          await expect(store.createEnvironment({ ...first, status: 'creating', meta: {} })).rejects.toThrow();
          expect((await store.listEnvironments()).map((e) => e.id)).toEqual([
            'other-bbbbbb',
            'loadtest-aaaaaa',
          ]);
          expect((await store.listEnvironments({ template: 'loadtest' })).map((e) => e.id)).toEqual([
            'loadtest-aaaaaa',
          ]);
          expect((await store.listEnvironments({ statuses: ['active'] })).map((e) => e.id)).toEqual([
            'other-bbbbbb',
          ]);
          const later = new Date(expiresAt.getTime() + 3_600_000);
          const racing = await Promise.all(
            ['x', 'y', 'z'].map((who) =>
              store.updateEnvironment('loadtest-aaaaaa', {
                from: ['creating'],
                to: 'active',
                meta: { by: who },
                expiresAt: later,
              }),
            ),
          );
          const won = racing.filter((r) => r !== undefined);
          expect(won).toHaveLength(1);
          expect(won[0]).toMatchObject({
            status: 'active',
            expiresAt: later,
            meta: { variables: { size: 's' } },
          });
          expect(
            await store.updateEnvironment('loadtest-aaaaaa', { from: ['creating'], to: 'active' }),
          ).toBeUndefined();
          // Without expiresAt the end stays.
          const moved = await store.updateEnvironment('loadtest-aaaaaa', {
            from: ['active'],
            to: 'destroying',
          });
          expect(moved?.expiresAt).toEqual(later);
          expect(await store.getEnvironment('none')).toBeUndefined();
        }),
      );
    });

    describe('monitoring samples and states', () => {
      it(
        'keeps each probe once, reads newest first, and gives nearest-rank percentiles of the probes that were up',
        withStore(async ({ store }) => {
          const t0 = Date.parse('2026-11-30T00:00:00Z');
          const latencies = [120, 80, 300, 95, 101, 99, 2000, 87, 110, 93];
          const samples = latencies.map((ms, i) => ({
            check: 'api',
            region: 'cn-hangzhou',
            at: new Date(t0 + i * 60_000),
            up: i !== 6,
            latencyMs: ms,
            status: i === 6 ? 503 : 200,
            error: i === 6 ? 'status' : null,
            detail: null,
          }));
          expect(await store.recordSamples(samples)).toBe(10);
          // A redelivered round writes nothing twice.
          expect(await store.recordSamples(samples.slice(0, 3))).toBe(0);
          const newest = await store.readSamples('api', { limit: 2 });
          expect(newest.map((s) => s.at.getTime())).toEqual([t0 + 9 * 60_000, t0 + 8 * 60_000]);
          const stats = await store.sampleStats('api', new Date(t0 - 1));
          // Up latencies sorted: 80 87 93 95 99 101 110 120 300 (9 of them); nearest rank ceil(p*n).
          expect(stats).toEqual({ probes: 10, up: 9, availability: 90, p50: 99, p95: 300, p99: 300 });
          expect(await store.sampleStats('api', new Date(t0 + 5 * 60_000))).toMatchObject({
            probes: 4,
            up: 3,
            p50: 93,
          });
          expect(await store.sampleStats('none', new Date(0))).toEqual({
            probes: 0,
            up: 0,
            availability: null,
            p50: null,
            p95: null,
            p99: null,
          });
          expect(await store.purgeSamples(new Date(t0 + 5 * 60_000))).toBe(5);
          expect((await store.readSamples('api')).length).toBe(5);
        }),
      );
      it(
        "saves each check's state per region, replacing the one before",
        withStore(async ({ store }) => {
          await store.saveMonitorStates([
            { check: 'api', region: 'cn-hangzhou', state: { failures: 1 } },
            { check: 'db', region: 'cn-hangzhou', state: { failures: 0 } },
          ]);
          await store.saveMonitorStates([{ check: 'api', region: 'cn-hangzhou', state: { failures: 2 } }]);
          const states = await store.monitorStates<{ failures: number }>();
          expect(states.map((s) => [s.check, s.region, s.state.failures])).toEqual([
            ['api', 'cn-hangzhou', 2],
            ['db', 'cn-hangzhou', 0],
          ]);
        }),
      );
    });

    describe('console sessions', () => {
      it(
        'finds a session by its token hash until it expires or is deleted',
        withStore(async ({ store, advance }) => {
          const hash = createHash('sha256').update('token-1').digest('hex');
          const made = await store.createSession({ tokenSha256: hash, keyId: 'ops-alice', ttlMs: 60_000 });
          expect(made.expiresAt.getTime() - made.createdAt.getTime()).toBe(60_000);
          expect(await store.getSession(hash)).toMatchObject({ keyId: 'ops-alice' });
          expect(
            await store.getSession(createHash('sha256').update('token-2').digest('hex')),
          ).toBeUndefined();
          advance(60_001);
          expect(await store.getSession(hash)).toBeUndefined();
          const other = createHash('sha256').update('token-3').digest('hex');
          await store.createSession({ tokenSha256: other, keyId: 'ops-bob', ttlMs: 60_000 });
          expect(await store.getSession(other)).toMatchObject({ keyId: 'ops-bob' });
          await store.deleteSession(other);
          expect(await store.getSession(other)).toBeUndefined();
        }),
      );
    });

    describe('audit', () => {
      it(
        'appends records and lists them newest first by target',
        withStore(async ({ store }) => {
          await store.audit({
            actor: 'ops-alice',
            action: 'promote',
            target: 'api-prod',
            decision: 'allowed',
            source: '10.0.0.1',
          });
          await store.audit({
            actor: 'anonymous',
            action: 'promote',
            target: 'api-prod',
            decision: 'refused',
            reason: 'bad signature',
          });
          await store.audit({ actor: 'ops-bob', action: 'scale', target: 'web-asg', decision: 'allowed' });
          const records = await store.listAudit({ target: 'api-prod' });
          expect(records.map((r) => [r.actor, r.decision, r.reason])).toEqual([
            ['anonymous', 'refused', 'bad signature'],
            ['ops-alice', 'allowed', null],
          ]);
          expect(records[1]?.source).toBe('10.0.0.1');
        }),
      );
    });
  });
}
