import { describe, expect, it } from 'vitest';
import { CALENDARS, isWorkday, localDay, MissingCalendarYear } from '../../shared/schedule/calendar.ts';

const cn = CALENDARS.cn!;
const day = (date: string) => localDay(new Date(`${date}T12:00:00+08:00`), 'Asia/Shanghai');
const work = (date: string) => isWorkday(cn, day(date));

describe('the cn working calendar', () => {
  it('reads the local day in the calendar’s time zone', () => {
    // 23:30 UTC on Friday 13 Feb is already Saturday 14 Feb in Beijing.
    expect(localDay(new Date('2026-02-13T23:30:00Z'), 'Asia/Shanghai')).toEqual({
      date: '2026-02-14',
      weekday: 6,
    });
    expect(localDay(new Date('2026-02-13T23:30:00Z'), 'UTC')).toEqual({ date: '2026-02-13', weekday: 5 });
  });

  it('knows public holidays, make-up working days and ordinary weeks', () => {
    // Spring Festival 2026: 15–23 Feb off; Saturdays 14 and 28 Feb worked.
    expect(work('2026-02-13')).toBe(true);
    expect(work('2026-02-14')).toBe(true);
    expect(['2026-02-15', '2026-02-16', '2026-02-20', '2026-02-23'].map(work)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(work('2026-02-24')).toBe(true);
    expect(work('2026-02-28')).toBe(true);
    expect(work('2026-03-07')).toBe(false); // an ordinary Saturday
    expect(work('2026-10-08')).toBe(true); // National Day 2026 ends on the 7th
    expect(work('2025-10-08')).toBe(false); // … and in 2025 on the 8th
    expect(work('2024-02-18')).toBe(true); // a Sunday worked in 2024
    expect(work('2025-01-01')).toBe(false);
  });

  it('holds only weekend days as make-up working days, and only weekdays or weekends as days off in their year', () => {
    for (const [year, data] of Object.entries(cn.years)) {
      for (const date of data.workdays) {
        expect(date.startsWith(year)).toBe(true);
        expect([0, 6], date).toContain(day(date).weekday);
      }
      for (const [first, last] of data.daysOff) {
        expect(first <= last, `${first}..${last}`).toBe(true);
        expect(first.startsWith(year) && last.startsWith(year)).toBe(true);
      }
      expect(data.source).toContain(`${year}年部分节假日安排`);
    }
  });

  it('fails on a year it does not have, naming the year and the file, and never falls back to Monday–Friday', () => {
    let error: unknown;
    try {
      work('2027-01-04');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingCalendarYear);
    expect((error as Error).message).toBe(
      "calendar cn has no 2027: add the year's days off and make-up working days to shared/schedule/calendars/cn.ts once they are announced",
    );
    // The team's own dates decide a day without the year.
    expect(isWorkday(cn, day('2027-01-04'), { workdays: ['2027-01-04'] })).toBe(true);
    expect(isWorkday(cn, day('2026-03-09'), { daysOff: ['2026-03-09'] })).toBe(false);
  });
});
