// Working calendars: which days are working days, from official holidays and make-up working days.
import { localDate } from '../util/zone.ts';
import { CN_TIME_ZONE, CN_YEARS } from './calendars/cn.ts';

/** One year of a calendar: days off (inclusive ranges) and weekend days that are worked instead. */
export interface CalendarYear {
  /** Where the dates come from (the notice that announced them). */
  source: string;
  daysOff: [string, string][];
  workdays: string[];
}

export interface WorkCalendar {
  name: string;
  timeZone: string;
  years: Record<number, CalendarYear>;
  /** Where a missing year is added, for the error that names it. */
  file: string;
}

export const CALENDARS: Record<string, WorkCalendar> = {
  cn: { name: 'cn', timeZone: CN_TIME_ZONE, years: CN_YEARS, file: 'shared/schedule/calendars/cn.ts' },
};

/** A day the calendar does not know: never guessed as Monday to Friday. */
export class MissingCalendarYear extends Error {
  override name = 'MissingCalendarYear';
  constructor(
    readonly calendar: string,
    readonly year: number,
    readonly file: string,
  ) {
    super(
      `calendar ${calendar} has no ${year}: add the year's days off and make-up working days to ${file} once they are announced`,
    );
  }
}

/** Dates a team adds on top of a calendar (its own days off, extra working days); they win. */
export interface CalendarOverrides {
  daysOff?: readonly string[];
  workdays?: readonly string[];
}

/** The local date (`YYYY-MM-DD`) and weekday (0 Sunday … 6 Saturday) of an instant in a time zone. */
export function localDay(at: Date, timeZone: string): { date: string; weekday: number } {
  const { y, m, d, weekday } = localDate(timeZone, at.getTime());
  return {
    date: `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
    weekday,
  };
}

const inRange = (date: string, [first, last]: [string, string]) => date >= first && date <= last;

/**
 * Whether a local date is a working day: the team's own dates first, then the calendar's year
 * (days off, make-up working days), then Monday to Friday. A year the calendar does not have is a
 * MissingCalendarYear, unless the team's dates decide the day.
 */
export function isWorkday(
  calendar: WorkCalendar,
  day: { date: string; weekday: number },
  overrides: CalendarOverrides = {},
): boolean {
  if (overrides.workdays?.includes(day.date)) return true;
  if (overrides.daysOff?.includes(day.date)) return false;
  const year = Number(day.date.slice(0, 4));
  const known = calendar.years[year];
  if (!known) throw new MissingCalendarYear(calendar.name, year, calendar.file);
  if (known.workdays.includes(day.date)) return true;
  if (known.daysOff.some((range) => inRange(day.date, range))) return false;
  return day.weekday >= 1 && day.weekday <= 5;
}
