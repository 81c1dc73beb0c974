/** Calendar buckets of an instant in a time zone: day, ISO week, month, year. */
export interface Buckets {
  day: string;
  week: string;
  month: string;
  year: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

export function bucketsOf(instant: Date, timeZone: string): Buckets {
  // en-CA formats as YYYY-MM-DD.
  const day = formatter(timeZone).format(instant);
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
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
