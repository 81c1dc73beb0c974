import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketsOf } from '../../functions/backup-rotate/calendar.ts';
import { localDate, offsetAt, offsetOf } from '../../shared/util/zone.ts';

const ZONES = [
  'UTC',
  'Asia/Shanghai',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe', // a 30-minute DST shift
  'Asia/Kathmandu', // +05:45
  'America/Santiago', // DST at local midnight
  'Pacific/Apia', // skipped a whole day in 2011
];

/** What Intl says, formatting this very instant. */
function reference(timeZone: string, t: number) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    weekday: 'short',
  }).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return {
    y: Number(get('year')),
    m: Number(get('month')),
    d: Number(get('day')),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday')),
  };
}

describe('time-zone offsets cached per day', () => {
  const instant = fc.integer({
    min: Date.parse('1995-01-01T00:00:00Z'),
    max: Date.parse('2040-01-01T00:00:00Z'),
  });

  it('agree with formatting each instant, DST changes and odd offsets included', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instant, (zone, t) => {
        expect(offsetOf(zone, t)).toBe(offsetAt(zone, t));
        expect(localDate(zone, t)).toEqual(reference(zone, t));
      }),
      { numRuns: 5000 },
    );
  });

  it('agree right around the transitions (every minute of a DST change day)', () => {
    for (const [zone, day] of [
      ['Europe/Berlin', '2026-03-29'],
      ['Europe/Berlin', '2026-10-25'],
      ['America/New_York', '2026-11-01'],
      ['Australia/Lord_Howe', '2026-04-05'],
      ['America/Santiago', '2026-04-05'],
    ] as const) {
      const start = Date.parse(`${day}T00:00:00Z`) - 86_400_000;
      for (let t = start; t < start + 3 * 86_400_000; t += 60_000)
        expect(localDate(zone, t), `${zone} ${new Date(t).toISOString()}`).toEqual(reference(zone, t));
    }
  });

  it('give the retention planner the buckets it had (day, ISO week, month, year)', () => {
    expect(bucketsOf(new Date('2026-12-31T16:30:00Z'), 'Asia/Shanghai')).toEqual({
      day: '2027-01-01',
      week: '2026-W53',
      month: '2027-01',
      year: '2027',
    });
    expect(bucketsOf(new Date('2026-03-29T00:59:59Z'), 'Europe/Berlin').day).toBe('2026-03-29');
    expect(bucketsOf(new Date('2026-03-28T22:59:59Z'), 'Europe/Berlin').day).toBe('2026-03-28');
  });
});
