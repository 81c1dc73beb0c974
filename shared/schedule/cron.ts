import { CronExpressionParser } from 'cron-parser';
import { offsetAt } from '../util/zone.ts';

/**
 * A schedule in Function Compute's timer syntax:
 * - six cron fields, seconds first: `0 0 4 * * *` (04:00:00 every day), evaluated in UTC;
 * - an optional time-zone prefix: `CRON_TZ=Asia/Shanghai 0 0 4 1 * *` (04:00 Beijing time on the 1st);
 * - an interval: `@every 4m`, `@every 1h30m` (Go duration syntax).
 * Day of week takes names (MON..SUN) or numbers with 0 and 7 both Sunday; `?` means "any".
 */
export interface Schedule {
  readonly expression: string;
  readonly timeZone: string;
  /** `@every` interval in ms, or undefined for a cron schedule. */
  readonly everyMs: number | undefined;
  /** The first firing strictly after `after`. `@every` counts whole intervals from `anchor`. */
  next(after: Date, anchor?: Date): Date;
  /** The last firing after `since` and at or before `until`, if any (`@every` counts from `since`). */
  latest(since: Date, until: Date): Date | undefined;
  /** Every firing after `from` and at or before `to`, in order (`@every` counts from `from`). */
  between(from: Date, to: Date): Date[];
}

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export function parseSchedule(expression: string): Schedule {
  const text = expression.trim();
  if (text.startsWith('@every')) {
    const everyMs = parseDuration(text.slice('@every'.length).trim());
    return {
      expression: text,
      timeZone: 'UTC',
      everyMs,
      next(after, anchor = after) {
        const elapsed = after.getTime() - anchor.getTime();
        const periods = elapsed < 0 ? 0 : Math.floor(elapsed / everyMs) + 1;
        return new Date(anchor.getTime() + periods * everyMs);
      },
      latest(since, until) {
        const periods = Math.floor((until.getTime() - since.getTime()) / everyMs);
        return periods >= 1 ? new Date(since.getTime() + periods * everyMs) : undefined;
      },
      between(from, to) {
        const out: Date[] = [];
        for (let t = from.getTime() + everyMs; t <= to.getTime(); t += everyMs) out.push(new Date(t));
        return out;
      },
    };
  }

  let timeZone = 'UTC';
  let fields = text;
  const tz = /^CRON_TZ=(\S+)\s+(.*)$/.exec(text);
  if (tz) {
    timeZone = tz[1]!;
    fields = tz[2]!;
    if (!isTimeZone(timeZone)) throw new ScheduleError(`unknown time zone "${timeZone}" in CRON_TZ`);
  }
  const parts = fields.split(/\s+/).filter(Boolean);
  if (parts.length !== 6) {
    throw new ScheduleError(
      `expected 6 fields (seconds minutes hours day-of-month month day-of-week), got ${parts.length} in "${fields}"`,
    );
  }
  try {
    CronExpressionParser.parse(parts.join(' '), { tz: timeZone });
  } catch (cause) {
    throw new ScheduleError(`invalid cron expression "${fields}": ${(cause as Error).message}`);
  }
  return {
    expression: text,
    timeZone,
    everyMs: undefined,
    next(after) {
      const cron = CronExpressionParser.parse(parts.join(' '), { tz: timeZone, currentDate: after });
      return cron.next().toDate();
    },
    latest(since, until) {
      // prev() is strictly before its current date: start a millisecond after `until`.
      const at = new Date(until.getTime() + 1);
      const last = CronExpressionParser.parse(parts.join(' '), { tz: timeZone, currentDate: at })
        .prev()
        .toDate();
      return last > since ? last : undefined;
    },
    between(from, to) {
      // cron-parser takes 50-200 µs per firing; a zone that keeps one offset over the period (most
      // of the world, and all of China) is walked day by day instead, from the parsed fields.
      const offset = fixedOffset(timeZone, from, to);
      const fields = CronExpressionParser.parse(parts.join(' ')).fields;
      if (offset !== undefined && plainFields(fields)) return walkDays(fields, from, to, offset);
      const cron = CronExpressionParser.parse(parts.join(' '), {
        tz: timeZone,
        currentDate: from,
        endDate: to,
      });
      const out: Date[] = [];
      while (cron.hasNext()) {
        const at = cron.next().toDate();
        if (at > to) break;
        out.push(at);
      }
      return out;
    },
  };
}

/** Parse a Go-style duration such as `90s`, `4m`, `1h30m`. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (text.length === 0 || matched !== text.length) {
    throw new ScheduleError(`invalid duration "${text}"; expected e.g. 30s, 4m or 1h30m`);
  }
  if (total < 1000) throw new ScheduleError(`@every ${text} is shorter than one second`);
  return total;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const DAY_MS = 86_400_000;
/** The zone's offset when it is the same at every day's edge of the period (no DST change in it). */
function fixedOffset(timeZone: string, from: Date, to: Date): number | undefined {
  const first = offsetAt(timeZone, from);
  for (let t = from.getTime() + DAY_MS; t < to.getTime(); t += DAY_MS)
    if (offsetAt(timeZone, new Date(t)) !== first) return undefined;
  return offsetAt(timeZone, to) === first ? first : undefined;
}

type Fields = ReturnType<typeof CronExpressionParser.parse>['fields'];

/** Fields of plain numbers only (no `L`, no `#` nth weekday): the day walk handles exactly those. */
function plainFields(fields: Fields): boolean {
  const all = [fields.second, fields.minute, fields.hour, fields.dayOfMonth, fields.month, fields.dayOfWeek];
  return (
    all.every((f) => (f.values as unknown[]).every((v) => typeof v === 'number')) &&
    !(fields.dayOfWeek as { nthDay?: number }).nthDay
  );
}

/**
 * Every firing in (from, to] for a fixed offset: each local day whose month matches and whose day
 * matches (day of month or day of week; either when both are restricted, as cron has it), at each
 * hour, minute and second of the fields.
 */
function walkDays(fields: Fields, from: Date, to: Date, offset: number): Date[] {
  const set = (f: { values: readonly unknown[] }) => new Set(f.values as number[]);
  const months = set(fields.month);
  const doms = set(fields.dayOfMonth);
  const dows = new Set([...(fields.dayOfWeek.values as number[])].map((d) => d % 7));
  const domAny = fields.dayOfMonth.isWildcard;
  const dowAny = fields.dayOfWeek.isWildcard;
  const times: number[] = [];
  for (const h of fields.hour.values as number[])
    for (const m of fields.minute.values as number[])
      for (const s of fields.second.values as number[]) times.push(h * 3_600_000 + m * 60_000 + s * 1000);
  times.sort((a, b) => a - b);
  const out: Date[] = [];
  const last = Math.floor((to.getTime() + offset) / DAY_MS);
  for (let day = Math.floor((from.getTime() + offset) / DAY_MS); day <= last; day++) {
    const d = new Date(day * DAY_MS);
    if (!months.has(d.getUTCMonth() + 1)) continue;
    const dom = doms.has(d.getUTCDate());
    const dow = dows.has(d.getUTCDay());
    const matches = domAny && dowAny ? true : domAny ? dow : dowAny ? dom : dom || dow;
    if (!matches) continue;
    for (const t of times) {
      const at = day * DAY_MS + t - offset;
      if (at > from.getTime() && at <= to.getTime()) out.push(new Date(at));
    }
  }
  return out;
}
