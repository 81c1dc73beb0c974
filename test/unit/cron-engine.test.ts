import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../shared/schedule/cron.ts';
import { offsetOf } from '../../shared/util/zone.ts';

const ZONES = [
  'UTC',
  'Asia/Shanghai',
  'America/New_York',
  'Europe/Berlin',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
];
const HOUR = 3_600_000;

/** Whether the zone changes its offset within `margin` of `t`: the one place the two may differ by design. */
function nearTransition(zone: string, t: number, margin = 26 * HOUR): boolean {
  const o = offsetOf(zone, t - margin);
  for (let x = t - margin; x <= t + margin; x += HOUR) if (offsetOf(zone, x) !== o) return true;
  return false;
}

const field = (min: number, max: number) =>
  fc.oneof(
    fc.constant('*'),
    fc.integer({ min, max }).map(String),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min, max }))
      .map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc.integer({ min: 1, max: Math.max(1, max - min) }).map((n) => `*/${n}`),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min: 1, max: 9 })).map(([a, n]) => `${a}/${n}`),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 4 }).map((xs) => xs.join(',')),
  );

const expression = fc
  .tuple(field(0, 59), field(0, 59), field(0, 23), field(1, 28), field(1, 12), field(0, 6))
  .map((f) => f.join(' '));

describe('the cron engine, against cron-parser as an independent reference', () => {
  it('agrees on next, latest and between for random expressions, zones and instants', () => {
    let compared = 0;
    fc.assert(
      fc.property(
        expression,
        fc.constantFrom(...ZONES),
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 11, 31) }),
        (expr, zone, at) => {
          const ours = parseSchedule(`CRON_TZ=${zone} ${expr}`);
          const after = new Date(at);
          let theirs: Date;
          try {
            theirs = CronExpressionParser.parse(expr, { tz: zone, currentDate: after }).next().toDate();
          } catch {
            // The reference gives up on some dates next to a DST change ("loop limit exceeded").
            return;
          }
          if (nearTransition(zone, at) || nearTransition(zone, theirs.getTime())) return;
          compared++;
          expect(ours.next(after).toISOString()).toBe(theirs.toISOString());
          const prev = CronExpressionParser.parse(expr, { tz: zone, currentDate: new Date(at + 1) })
            .prev()
            .toDate();
          if (!nearTransition(zone, prev.getTime()))
            expect(ours.latest(new Date(0), after)?.toISOString()).toBe(prev.toISOString());
          const to = new Date(at + HOUR / 3);
          const walk = CronExpressionParser.parse(expr, { tz: zone, currentDate: after, endDate: to });
          const expected: string[] = [];
          while (walk.hasNext() && expected.length < 5000) expected.push(walk.next().toDate().toISOString());
          if (expected.length < 5000)
            expect(ours.between(after, to).map((d) => d.toISOString())).toEqual(expected);
        },
      ),
      { numRuns: 300, seed: 20261130 },
    );
    expect(compared).toBeGreaterThan(200);
  });

  it('skips a wall time a spring-forward removes, and fires twice in a repeated hour', () => {
    // New York: 2026-03-08 02:00 EST jumps to 03:00 EDT; 2026-11-01 02:00 EDT falls back to 01:00 EST.
    const daily = parseSchedule('CRON_TZ=America/New_York 0 30 2 * * *');
    expect(
      daily
        .between(new Date('2026-03-07T00:00:00Z'), new Date('2026-03-10T00:00:00Z'))
        .map((d) => d.toISOString()),
    ).toEqual(['2026-03-07T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
    const early = parseSchedule('CRON_TZ=America/New_York 0 30 1 * * *');
    expect(
      early
        .between(new Date('2026-11-01T00:00:00Z'), new Date('2026-11-02T00:00:00Z'))
        .map((d) => d.toISOString()),
    ).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z']);
    expect(early.next(new Date('2026-11-01T05:30:00Z')).toISOString()).toBe('2026-11-01T06:30:00.000Z');
    expect(
      early.latest(new Date('2026-10-31T12:00:00Z'), new Date('2026-11-01T06:00:00Z'))?.toISOString(),
    ).toBe('2026-11-01T05:30:00.000Z');
  });

  it('reads months and weekdays by name, 7 as Sunday, and either day field when both are set', () => {
    const next = (e: string, after: string) => parseSchedule(e).next(new Date(after)).toISOString();
    expect(next('0 0 9 * * 7', '2026-11-27T00:00:00Z')).toBe('2026-11-29T09:00:00.000Z');
    expect(next('0 0 9 ? DEC MON-WED', '2026-11-27T00:00:00Z')).toBe('2026-12-01T09:00:00.000Z');
    // 13th of the month or a Friday, whichever comes first (cron's rule when both are restricted).
    expect(next('0 0 0 13 * FRI', '2026-11-28T00:00:00Z')).toBe('2026-12-04T00:00:00.000Z');
    expect(next('5/20 0 0 1 1 *', '2026-11-28T00:00:00Z')).toBe('2027-01-01T00:00:05.000Z');
  });

  it('refuses what FC does not take, naming the field', () => {
    const problem = (e: string) => {
      try {
        parseSchedule(e);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(problem('0 0 0 L * *')).toBe(
      'invalid cron expression "0 0 0 L * *": day-of-month: "L" is not a number',
    );
    expect(problem('0 0 0 ? * MON#2')).toMatch(/day-of-week: "MON#2" is not a number or a name/);
    expect(problem('0 0 ? * * *')).toMatch(/hours: "\?" is allowed only in day-of-month and day-of-week/);
    expect(problem('0 0 0 30 2 *')).toMatch(/no such day \(it would never fire\)/);
    expect(problem('0 5-1 * * * *')).toMatch(/minutes: range "5-1" runs backwards/);
    expect(problem('0 */0 * * * *')).toMatch(
      /minutes: step "0" in "\*\/0" must be a whole number of 1 or more/,
    );
    expect(problem('0 0 24 * * *')).toMatch(/hours: 24 is outside 0-23/);
  });
});
