import { CronEngine } from './cron-engine.ts';
import { type CronFields, parseCronFields } from './cron-fields.ts';

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
  let parsed: CronFields;
  try {
    parsed = parseCronFields(parts);
  } catch (cause) {
    throw new ScheduleError(`invalid cron expression "${fields}": ${(cause as Error).message}`);
  }
  const engine = new CronEngine(parsed, timeZone);
  if (engine.neverFires())
    throw new ScheduleError(`invalid cron expression "${fields}": no such day (it would never fire)`);
  return {
    expression: text,
    timeZone,
    everyMs: undefined,
    next: (after) => engine.next(after),
    latest(since, until) {
      const last = engine.last(until);
      return last && last > since ? last : undefined;
    },
    between: (from, to) => engine.between(from, to),
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
