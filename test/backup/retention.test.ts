import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketsOf } from '../../functions/backup-rotate/calendar.ts';
import {
  type BackupFact,
  planRetention,
  type RetentionPolicy,
} from '../../functions/backup-rotate/retention.ts';

const NOW = new Date('2026-11-27T10:00:00Z');
const HOUR = 3_600_000;

const policyArb = fc.record({
  daily: fc.integer({ min: 0, max: 10 }),
  weekly: fc.integer({ min: 0, max: 6 }),
  monthly: fc.integer({ min: 0, max: 12 }),
  yearly: fc.integer({ min: 0, max: 3 }),
  minKeep: fc.integer({ min: 1, max: 5 }),
  minAgeHours: fc.integer({ min: 0, max: 72 }),
  timeZone: fc.constantFrom('UTC', 'Asia/Shanghai', 'America/New_York', 'Pacific/Chatham'),
  deleteForeign: fc.boolean(),
  freshHours: fc.constantFrom(20, 24, 48),
}) satisfies fc.Arbitrary<RetentionPolicy>;

const historyArb = fc
  .array(
    fc.record({
      ageMinutes: fc.integer({ min: 0, max: 2 * 365 * 24 * 60 }),
      failed: fc.integer({ min: 0, max: 9 }).map((n) => n < 3),
      deletable: fc.boolean(),
      ours: fc.boolean(),
    }),
    { maxLength: 200 },
  )
  .map((items) =>
    items.map(
      (b, i): BackupFact => ({
        id: `b${i}`,
        start: new Date(NOW.getTime() - b.ageMinutes * 60_000),
        status: b.failed ? 'Failed' : 'Success',
        deletable: b.deletable,
        ours: b.ours,
      }),
    ),
  );

const kept = (plan: ReturnType<typeof planRetention>) =>
  new Set(plan.filter((d) => d.action === 'keep').map((d) => d.id));
const newestSuccess = (bs: BackupFact[]) =>
  [...bs].filter((b) => b.status === 'Success').sort((a, b) => b.start.getTime() - a.start.getTime())[0];

describe('retention planner (properties over generated histories)', () => {
  it('never deletes the newest successful backup', () => {
    fc.assert(
      fc.property(historyArb, policyArb, (history, policy) => {
        const newest = newestSuccess(history);
        if (newest) expect(kept(planRetention(history, policy, NOW)).has(newest.id)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves at least minKeep successful backups', () => {
    fc.assert(
      fc.property(historyArb, policyArb, (history, policy) => {
        const keep = kept(planRetention(history, policy, NOW));
        const successes = history.filter((b) => b.status === 'Success');
        expect(successes.filter((b) => keep.has(b.id)).length).toBeGreaterThanOrEqual(
          Math.min(policy.minKeep, successes.length),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('deletes nothing when planned again over what it kept', () => {
    fc.assert(
      fc.property(historyArb, policyArb, (history, policy) => {
        const keep = kept(planRetention(history, policy, NOW));
        const again = planRetention(
          history.filter((b) => keep.has(b.id)),
          policy,
          NOW,
        );
        expect(again.filter((d) => d.action === 'delete')).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('only ever deletes what may be deleted, and nothing younger than minAgeHours', () => {
    fc.assert(
      fc.property(historyArb, policyArb, (history, policy) => {
        const byId = new Map(history.map((b) => [b.id, b]));
        for (const d of planRetention(history, policy, NOW).filter((x) => x.action === 'delete')) {
          const b = byId.get(d.id)!;
          expect(b.deletable).toBe(true);
          expect(b.ours || policy.deleteForeign).toBe(true);
          expect(NOW.getTime() - b.start.getTime()).toBeGreaterThanOrEqual(policy.minAgeHours * HOUR);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps exactly one backup for each of the last N buckets that have one', () => {
    fc.assert(
      fc.property(historyArb, policyArb, (history, policy) => {
        const plan = planRetention(history, policy, NOW);
        const byId = new Map(history.map((b) => [b.id, b]));
        for (const [g, key] of [
          ['daily', 'day'],
          ['weekly', 'week'],
          ['monthly', 'month'],
          ['yearly', 'year'],
        ] as const) {
          const chosen = plan.flatMap((d) =>
            d.reasons
              .filter((r) => r.startsWith(`${g} `))
              .map((r) => ({ bucket: r.slice(g.length + 1), id: d.id })),
          );
          const buckets = new Set(chosen.map((c) => c.bucket));
          expect(buckets.size).toBe(chosen.length);
          const distinct = new Set(
            history
              .filter((b) => b.status === 'Success')
              .map((b) => bucketsOf(b.start, policy.timeZone)[key]),
          );
          expect(chosen.length).toBe(Math.min(policy[g], distinct.size));
          for (const c of chosen)
            expect(bucketsOf(byId.get(c.id)!.start, policy.timeZone)[key]).toBe(c.bucket);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('deletes nothing while the newest attempt failed and no fresh successful backup exists', () => {
    fc.assert(
      fc.property(historyArb, policyArb, (history, policy) => {
        const failedNow: BackupFact = {
          id: 'latest',
          start: NOW,
          status: 'Failed',
          deletable: true,
          ours: true,
        };
        const stale = history.filter((b) => NOW.getTime() - b.start.getTime() >= policy.freshHours * HOUR);
        const plan = planRetention([...stale, failedNow], policy, NOW);
        expect(plan.filter((d) => d.action === 'delete')).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('retention planner (examples)', () => {
  const policy: RetentionPolicy = {
    daily: 2,
    weekly: 0,
    monthly: 0,
    yearly: 0,
    minKeep: 1,
    minAgeHours: 0,
    timeZone: 'Asia/Shanghai',
    deleteForeign: false,
    freshHours: 24,
  };
  const backup = (id: string, iso: string, extra: Partial<BackupFact> = {}): BackupFact => ({
    id,
    start: new Date(iso),
    status: 'Success',
    deletable: true,
    ours: true,
    ...extra,
  });

  it("puts day boundaries where the policy's time zone has them", () => {
    // 17:00 UTC on the 26th is already the 27th in Shanghai: these two share one Shanghai day.
    const plan = planRetention(
      [
        backup('a', '2026-11-26T17:00:00Z'),
        backup('b', '2026-11-26T20:00:00Z'),
        backup('c', '2026-11-26T15:00:00Z'),
      ],
      policy,
      NOW,
    );
    expect(plan).toEqual([
      {
        id: 'b',
        action: 'keep',
        reasons: [
          'newest successful backup',
          'one of the 1 newest successful backups (#1)',
          'daily 2026-11-27',
        ],
      },
      { id: 'a', action: 'delete', reasons: ['outside retention'] },
      { id: 'c', action: 'keep', reasons: ['daily 2026-11-26'] },
    ]);
  });

  it('says why it keeps what it may not delete', () => {
    const plan = planRetention(
      [
        backup('new', '2026-11-27T09:00:00Z'),
        backup('locked', '2026-11-01T00:00:00Z', { deletable: false }),
        backup('theirs', '2026-11-02T00:00:00Z', { ours: false }),
      ],
      { ...policy, daily: 1 },
      NOW,
    );
    expect(plan.map((d) => [d.id, d.action, d.reasons[0]])).toEqual([
      ['new', 'keep', 'newest successful backup'],
      ['theirs', 'keep', 'not made by fc-devops (deleteForeign is off)'],
      ['locked', 'keep', 'the service does not allow deleting it'],
    ]);
  });
});
