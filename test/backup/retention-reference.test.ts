import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BackupFact,
  type Decision,
  planRetention,
  type RetentionPolicy,
} from '../../functions/backup-rotate/retention.ts';

// An independent reference for the planner: the rules written out the slow, obvious way, with the
// calendar from Intl for every instant and a comparator sort. The planner caches offsets per day,
// reuses buckets across a local day and radix-sorts; it must agree with this exactly, in zones with
// DST changes (Lord Howe's is 30 minutes, Chatham's offset has minutes), on histories crowded
// around the changes.

const NOW = new Date('2026-11-27T10:00:00Z');
const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Asia/Kolkata',
];
// DST changes of those zones in the two years before NOW, as instants to crowd backups around.
const CHANGES = [
  '2025-03-30T01:00:00Z',
  '2025-10-26T01:00:00Z',
  '2026-03-29T01:00:00Z',
  '2026-10-25T01:00:00Z',
  '2025-03-09T07:00:00Z',
  '2025-11-02T06:00:00Z',
  '2026-03-08T07:00:00Z',
  '2026-11-01T06:00:00Z',
  '2025-04-05T15:00:00Z',
  '2025-10-04T15:30:00Z',
  '2026-04-04T15:00:00Z',
  '2026-10-03T15:30:00Z',
  '2025-04-05T14:00:00Z',
  '2025-09-27T14:00:00Z',
  '2026-04-04T14:00:00Z',
  '2026-09-26T14:00:00Z',
  '2025-12-31T23:30:00Z',
  '2026-01-04T00:00:00Z',
].map(Date.parse);

const dayFormats = new Map<string, Intl.DateTimeFormat>();
function referenceDay(t: number, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  let f = dayFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, f);
  }
  return f.format(t);
}

/** ISO 8601 week by ordinal day: week = floor((ordinal - weekday + 10) / 7), spilling into the next or last year. */
function referenceWeek(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const utc = Date.UTC(y, m - 1, d);
  const ordinal = (utc - Date.UTC(y, 0, 1)) / 86_400_000 + 1;
  const weekday = new Date(utc).getUTCDay() || 7;
  const weeksIn = (year: number) => {
    const jan1 = new Date(Date.UTC(year, 0, 1)).getUTCDay();
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return jan1 === 4 || (leap && jan1 === 3) ? 53 : 52;
  };
  let week = Math.floor((ordinal - weekday + 10) / 7);
  let year = y;
  if (week < 1) {
    year = y - 1;
    week = weeksIn(year);
  } else if (week > weeksIn(y)) {
    year = y + 1;
    week = 1;
  }
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function referencePlan(backups: BackupFact[], policy: RetentionPolicy, now: Date): Decision[] {
  const sorted = [...backups].sort(
    (a, b) => b.start.getTime() - a.start.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  const reasons = new Map<BackupFact, string[]>();
  const keep = (b: BackupFact, why: string) => reasons.set(b, [...(reasons.get(b) ?? []), why]);
  const successes = sorted.filter((b) => b.status === 'Success');
  if (successes[0]) keep(successes[0], 'newest successful backup');
  for (const [i, b] of successes.slice(0, policy.minKeep).entries())
    keep(b, `one of the ${policy.minKeep} newest successful backups (#${i + 1})`);
  for (const b of backups)
    if (now.getTime() - b.start.getTime() < policy.minAgeHours * 3_600_000)
      keep(b, `younger than ${policy.minAgeHours} h`);
  const bucketOf = {
    daily: (b: BackupFact) => referenceDay(b.start.getTime(), policy.timeZone),
    weekly: (b: BackupFact) => referenceWeek(referenceDay(b.start.getTime(), policy.timeZone)),
    monthly: (b: BackupFact) => referenceDay(b.start.getTime(), policy.timeZone).slice(0, 7),
    yearly: (b: BackupFact) => referenceDay(b.start.getTime(), policy.timeZone).slice(0, 4),
  };
  for (const g of ['daily', 'weekly', 'monthly', 'yearly'] as const) {
    const newestOf = new Map<string, BackupFact>();
    for (const b of successes) if (!newestOf.has(bucketOf[g](b))) newestOf.set(bucketOf[g](b), b);
    for (const [bucket, b] of [...newestOf].slice(0, policy[g])) keep(b, `${g} ${bucket}`);
  }
  const fresh = successes.some((b) => now.getTime() - b.start.getTime() < policy.freshHours * 3_600_000);
  const hold = sorted[0]?.status === 'Failed' && !fresh;
  return sorted.map((b): Decision => {
    const why = reasons.get(b);
    if (why) return { id: b.id, action: 'keep', reasons: why };
    if (!b.deletable)
      return { id: b.id, action: 'keep', reasons: ['the service does not allow deleting it'] };
    if (!b.ours && !policy.deleteForeign)
      return { id: b.id, action: 'keep', reasons: ['not made by fc-devops (deleteForeign is off)'] };
    if (hold)
      return {
        id: b.id,
        action: 'keep',
        reasons: [
          'the newest backup attempt failed and no fresh successful backup exists: nothing is deleted',
        ],
      };
    return {
      id: b.id,
      action: 'delete',
      reasons: [b.status === 'Failed' ? 'failed backup outside retention' : 'outside retention'],
    };
  });
}

const policyArb = fc.record({
  daily: fc.integer({ min: 0, max: 20 }),
  weekly: fc.integer({ min: 0, max: 10 }),
  monthly: fc.integer({ min: 0, max: 14 }),
  yearly: fc.integer({ min: 0, max: 4 }),
  minKeep: fc.integer({ min: 1, max: 5 }),
  minAgeHours: fc.integer({ min: 0, max: 48 }),
  timeZone: fc.constantFrom(...ZONES),
  deleteForeign: fc.boolean(),
  freshHours: fc.constantFrom(1, 24, 48),
}) satisfies fc.Arbitrary<RetentionPolicy>;

// Times near a DST change (within a day, to the minute), anywhere in two years, or the same instant
// as another backup (equal times are ordered by id).
const instantArb = fc.oneof(
  fc
    .tuple(fc.constantFrom(...CHANGES), fc.integer({ min: -26 * 60, max: 26 * 60 }))
    .map(([c, m]) => c + m * 60_000),
  fc.integer({ min: 0, max: 2 * 365 * 24 * 60 }).map((m) => NOW.getTime() - m * 60_000),
  fc.constant(Date.parse('2026-03-29T00:59:59.999Z')),
);

const historyArb = fc
  .array(
    fc.record({
      at: instantArb,
      failed: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
      deletable: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
      ours: fc.boolean(),
    }),
    { maxLength: 400 },
  )
  .map((items) =>
    items.map(
      (b, i): BackupFact => ({
        // Ids that do not sort as their index does, so ties are broken by id, not by position.
        id: `b${(i * 7919) % 10007}`,
        start: new Date(b.at),
        status: b.failed ? 'Failed' : 'Success',
        deletable: b.deletable,
        ours: b.ours,
      }),
    ),
  );

describe('retention planner against an independent reference', () => {
  it('decides exactly as the reference on random histories crowded around DST changes', () => {
    fc.assert(
      fc.property(historyArb, policyArb, (history, policy) => {
        expect(planRetention(history, policy, NOW)).toEqual(referencePlan(history, policy, NOW));
      }),
      { numRuns: 400, seed: 15 },
    );
  });

  it('decides exactly as the reference when the days it keeps hold a DST change', () => {
    // "Now" a few days after a change: the daily buckets reach back over it.
    const nowArb = fc
      .tuple(fc.constantFrom(...CHANGES), fc.integer({ min: 0, max: 6 * 24 * 60 }))
      .map(([c, m]) => new Date(c + m * 60_000));
    fc.assert(
      fc.property(nowArb, historyArb, policyArb, (now, history, policy) => {
        // The same shape of history, moved to end at this "now".
        const shifted = history.map((b) => ({
          ...b,
          start: new Date(b.start.getTime() - NOW.getTime() + now.getTime()),
        }));
        expect(planRetention(shifted, policy, now)).toEqual(referencePlan(shifted, policy, now));
      }),
      { numRuns: 400, seed: 16 },
    );
  });

  it('decides exactly as the reference for backups every 7 minutes across each DST change', () => {
    for (const timeZone of ZONES) {
      for (const change of CHANGES) {
        const now = new Date(change + 2 * 86_400_000);
        const history = Array.from(
          { length: (4 * 24 * 60) / 7 },
          (_, i): BackupFact => ({
            id: `b${i}`,
            start: new Date(change - 2 * 86_400_000 + i * 7 * 60_000),
            status: i % 11 === 0 ? 'Failed' : 'Success',
            deletable: true,
            ours: true,
          }),
        );
        const policy = {
          daily: 5,
          weekly: 2,
          monthly: 2,
          yearly: 2,
          minKeep: 1,
          minAgeHours: 0,
          timeZone,
          deleteForeign: false,
          freshHours: 48,
        };
        expect(
          planRetention(history, policy, now),
          `${timeZone} around ${new Date(change).toISOString()}`,
        ).toEqual(referencePlan(history, policy, now));
      }
    }
  });

  it('decides exactly as the reference over 20,000 backups in Berlin (the radix-sorted path)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const history = Array.from(
      { length: 20_000 },
      (_, i): BackupFact => ({
        id: `b${i}`,
        // Whole minutes, so many backups share an instant.
        start: new Date(NOW.getTime() - Math.floor(random() * 3 * 365 * 24 * 60) * 60_000),
        status: i % 13 === 0 ? 'Failed' : 'Success',
        deletable: true,
        ours: i % 5 !== 0,
      }),
    );
    const policy = {
      daily: 30,
      weekly: 12,
      monthly: 24,
      yearly: 5,
      minKeep: 3,
      minAgeHours: 24,
      timeZone: 'Europe/Berlin',
      deleteForeign: false,
      freshHours: 24,
    };
    const plan = planRetention(history, policy, NOW);
    expect(plan).toEqual(referencePlan(history, policy, NOW));
    expect(plan.filter((d) => d.action === 'keep').length).toBeGreaterThan(60);
  });
});
