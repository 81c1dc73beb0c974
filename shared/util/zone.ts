// Time-zone offsets: exact from Intl, and cached per UTC day where a day holds no transition.

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** How far a zone's wall clock is ahead of UTC at an instant, in ms (exact: Intl). */
export function offsetAt(timeZone: string, at: Date | number): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  const t = typeof at === 'number' ? at : at.getTime();
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(t / 1000) * 1000;
}

const caches = new Map<string, Map<number, number | null>>();

/**
 * The offset at `t`, formatting (the slow part) about twice per UTC day: when a day starts and ends
 * on the same offset, every instant of it has that offset; a day with a transition in it (a few a
 * year in DST zones) is computed exactly, instant by instant.
 */
export function offsetOf(timeZone: string, t: number): number {
  return dayOffset(timeZone, Math.floor(t / DAY_MS)) ?? offsetAt(timeZone, t);
}

/**
 * The one offset of every instant of a UTC day (days since the epoch), or null when the zone's offset
 * changes during that day.
 */
export function dayOffset(timeZone: string, day: number): number | null {
  let days = caches.get(timeZone);
  if (!days) {
    days = new Map();
    caches.set(timeZone, days);
  }
  let known = days.get(day);
  if (known === undefined) {
    const start = offsetAt(timeZone, day * DAY_MS);
    known = start === offsetAt(timeZone, (day + 1) * DAY_MS) ? start : null;
    if (days.size > 100_000) days.clear();
    days.set(day, known);
  }
  return known;
}

/** The local calendar date and weekday (0 Sunday … 6 Saturday) of an instant in a zone. */
export function localDate(timeZone: string, t: number): { y: number; m: number; d: number; weekday: number } {
  const local = new Date(t + offsetOf(timeZone, t));
  return {
    y: local.getUTCFullYear(),
    m: local.getUTCMonth() + 1,
    d: local.getUTCDate(),
    weekday: local.getUTCDay(),
  };
}
