import { dayOffset, offsetAt } from '../../shared/util/zone.ts';

/** Calendar buckets of an instant in a time zone: day, ISO week, month, year. */
export interface Buckets {
  day: string;
  week: string;
  month: string;
  year: string;
}

const DAY_MS = 86_400_000;
const byDay = new Map<string, Map<number, Buckets>>();

/** The buckets of an instant's local day in `timeZone`. */
export function bucketsOf(instant: Date, timeZone: string): Buckets {
  return bucketCursor(timeZone)(instant.getTime());
}

/**
 * A reader of buckets for many instants in one zone. The zone's offset is looked up once per UTC day
 * (formatting every instant was most of a plan's time) and each local day's buckets are made once;
 * an instant on the same local day as the one before (backups read newest first come in runs)
 * costs two divisions.
 */
export function bucketCursor(timeZone: string): (t: number) => Buckets {
  let days = byDay.get(timeZone);
  if (!days) {
    days = new Map();
    byDay.set(timeZone, days);
  }
  const known = days;
  let utcDay = Number.NaN;
  let offset: number | null = null;
  let localDay = Number.NaN;
  let last: Buckets | undefined;
  return (t) => {
    const day = Math.floor(t / DAY_MS);
    if (day !== utcDay) {
      utcDay = day;
      offset = dayOffset(timeZone, day);
    }
    // A day with a transition in it is computed instant by instant.
    const local = Math.floor((t + (offset ?? offsetAt(timeZone, t))) / DAY_MS);
    if (local !== localDay || !last) {
      localDay = local;
      last = known.get(local);
      if (!last) {
        last = bucketsOfDay(local);
        if (known.size > 100_000) known.clear();
        known.set(local, last);
      }
    }
    return last;
  };
}

/** The buckets of a local calendar day, given as days since 1970-01-01. */
function bucketsOfDay(localDay: number): Buckets {
  const at = new Date(localDay * DAY_MS);
  const [y, m, d] = [at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate()];
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
