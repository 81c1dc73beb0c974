import { localDate, offsetOf } from '../../shared/util/zone.ts';

/** Calendar buckets of an instant in a time zone: day, ISO week, month, year. */
export interface Buckets {
  day: string;
  week: string;
  month: string;
  year: string;
}

const DAY_MS = 86_400_000;
const byDay = new Map<string, Map<number, Buckets>>();

/**
 * The buckets of an instant's local day. The zone's offset is cached per day (formatting every
 * instant was most of a plan's time), and so are the buckets of each local day: hourly backups
 * share them 24 at a time.
 */
export function bucketsOf(instant: Date, timeZone: string): Buckets {
  const t = instant.getTime();
  const localDay = Math.floor((t + offsetOf(timeZone, t)) / DAY_MS);
  let days = byDay.get(timeZone);
  if (!days) {
    days = new Map();
    byDay.set(timeZone, days);
  }
  let known = days.get(localDay);
  if (!known) {
    known = bucketsOfDay(localDate(timeZone, t));
    if (days.size > 100_000) days.clear();
    days.set(localDay, known);
  }
  return known;
}

function bucketsOfDay({ y, m, d }: { y: number; m: number; d: number }): Buckets {
  const day = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  // ISO week of the local calendar date: the week belongs to the year of its Thursday.
  const date = new Date(Date.UTC(y, m - 1, d));
  const weekday = (date.getUTCDay() + 6) % 7;
  date.setUTCDate(date.getUTCDate() - weekday + 3);
  const isoYear = date.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(isoYear, 0, 4));
  const week =
    1 +
    Math.round(
      ((date.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getUTCDay() + 6) % 7)) /
        7,
    );
  return {
    day,
    week: `${isoYear}-W${String(week).padStart(2, '0')}`,
    month: day.slice(0, 7),
    year: day.slice(0, 4),
  };
}
