import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firings, type ScheduleRule, simulate } from '../../functions/scale/timeline.ts';
import { CALENDARS, MissingCalendarYear } from '../../shared/schedule/calendar.ts';
import { parseSchedule } from '../../shared/schedule/cron.ts';

const cn = CALENDARS.cn!;
const RULES: ScheduleRule[] = [
  {
    name: 'workday-morning',
    schedule: 'CRON_TZ=Asia/Shanghai 0 0 8 * * *',
    desired: 10,
    days: 'workdays',
    calendar: cn,
  },
  {
    name: 'workday-evening',
    schedule: 'CRON_TZ=Asia/Shanghai 0 0 20 * * *',
    desired: 3,
    days: 'workdays',
    calendar: cn,
  },
  {
    name: 'day-off',
    schedule: 'CRON_TZ=Asia/Shanghai 0 0 9 * * *',
    desired: 2,
    days: 'non-workdays',
    calendar: cn,
  },
];
const local = (d: Date) =>
  new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Asia/Shanghai',
    dateStyle: 'short',
    timeStyle: 'short',
  }).format(d);

describe('schedules on a working calendar', () => {
  it('follows public holidays and make-up working Saturdays, not Monday to Friday', () => {
    const plan = firings(RULES, new Date('2026-02-12T16:00:00Z'), new Date('2026-03-01T15:59:59Z'));
    const byDay = new Map<string, string[]>();
    for (const f of plan) {
      const [date, time] = local(f.at).split(' ');
      byDay.set(date!, [...(byDay.get(date!) ?? []), `${time} ${f.rule.name}`]);
    }
    const workday = ['08:00 workday-morning', '20:00 workday-evening'];
    const dayOff = ['09:00 day-off'];
    expect(Object.fromEntries(byDay)).toEqual({
      '2026-02-13': workday, // Friday
      '2026-02-14': workday, // Saturday, worked for the Spring Festival
      '2026-02-15': dayOff, // Sunday, the holiday begins
      '2026-02-16': dayOff, // Monday, holiday
      '2026-02-17': dayOff,
      '2026-02-18': dayOff,
      '2026-02-19': dayOff,
      '2026-02-20': dayOff,
      '2026-02-21': dayOff,
      '2026-02-22': dayOff,
      '2026-02-23': dayOff, // Monday, the last day off
      '2026-02-24': workday,
      '2026-02-25': workday,
      '2026-02-26': workday,
      '2026-02-27': workday,
      '2026-02-28': workday, // Saturday, worked
      '2026-03-01': dayOff, // an ordinary Sunday
    });
  });

  it('fails on a day of a year the calendar does not have, naming it', () => {
    expect(() => firings(RULES, new Date('2026-12-30T00:00:00Z'), new Date('2027-01-02T00:00:00Z'))).toThrow(
      MissingCalendarYear,
    );
    expect(() => firings(RULES, new Date('2026-12-30T00:00:00Z'), new Date('2027-01-02T00:00:00Z'))).toThrow(
      'calendar cn has no 2027',
    );
    // Every-day rules need no calendar.
    const daily: ScheduleRule = { name: 'daily', schedule: '0 0 0 * * *', desired: 4, days: 'every-day' };
    expect(firings([daily], new Date('2026-12-30T00:00:00Z'), new Date('2027-01-02T00:00:00Z'))).toHaveLength(
      3,
    );
  });

  it('passes each firing through the planner: the step limit and cooldowns show in the preview', () => {
    const plan = firings(RULES, new Date('2026-02-12T16:00:00Z'), new Date('2026-02-14T15:59:59Z'));
    const steps = simulate(
      { min: 2, max: 20, maxStep: 4, cooldownOutSeconds: 0, cooldownInSeconds: 0 },
      { desired: 2, load: { count: 0, why: 'none' } },
      plan,
    );
    expect(
      steps.map((s) => [local(s.at), s.rule, s.decision.change ? s.decision.to : s.decision.from]),
    ).toEqual([
      ['2026-02-13 08:00', 'workday-morning', 6],
      ['2026-02-13 20:00', 'workday-evening', 3],
      ['2026-02-14 08:00', 'workday-morning', 7],
      ['2026-02-14 20:00', 'workday-evening', 3],
    ]);
    expect(steps[0]!.decision.notes).toEqual([
      { rule: 'step', from: 10, to: 6, why: 'at most 4 per change' },
    ]);
  });
});

describe('walking a schedule over a period', () => {
  it('gives the same firings as stepping cron-parser one by one, in every zone, with or without DST', () => {
    const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
    const expression = fc
      .tuple(
        pick(['0', '*/15', '30']),
        pick(['0', '*/10', '5,35']),
        pick(['*', '8', '9-17', '*/6', '2']),
        pick(['*', '1', '1,15', '?', '31']),
        pick(['*', '1-6', '3', '10,11']),
        pick(['*', 'MON-FRI', '0', 'SAT,SUN', '?']),
        pick(['UTC', 'Asia/Shanghai', 'America/New_York', 'Asia/Kolkata', 'Europe/Berlin']),
      )
      .filter(([, , , dom, , dow]) => !(dom === '?' && dow === '?'))
      .map(([s, m, h, dom, mon, dow, tz]) => `CRON_TZ=${tz} ${s} ${m} ${h} ${dom} ${mon} ${dow}`);
    fc.assert(
      fc.property(
        expression,
        fc.date({
          min: new Date('2026-01-01T00:00:00Z'),
          max: new Date('2026-12-20T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 1, max: 72 }),
        (text, from, hours) => {
          const schedule = parseSchedule(text);
          const to = new Date(from.getTime() + hours * 3_600_000);
          const stepped: number[] = [];
          for (let at = schedule.next(from); at <= to; at = schedule.next(at)) stepped.push(at.getTime());
          expect(schedule.between(from, to).map((d) => d.getTime())).toEqual(stepped);
        },
      ),
      { numRuns: 300 },
    );
  });
});
