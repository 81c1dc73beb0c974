import type { Busy, OnceOptions, OnceResult, RunHandle } from '../runtime/once.ts';
import type { Store } from '../store/port.ts';
import { parseSchedule } from './cron.ts';

/** What a timer-driven function needs of its handler context. */
export interface ScheduleContext {
  store: Store;
  once<T>(
    work: (run: RunHandle) => Promise<T>,
    options: OnceOptions & { whenBusy: 'report' },
  ): Promise<OnceResult<T> | Busy>;
}

export interface ScheduledJob {
  /** Names the job among all scheduled work (`backup:rotate:orders-db`); its progress is kept under it. */
  name: string;
  /** FC timer syntax: `0 0 2 * * *`, `CRON_TZ=Asia/Shanghai 0 0 2 * * *`, `@every 1h`. */
  schedule: string;
  kind: string;
  subject?: string;
  /** A lock the work holds while it runs (shared with other paths that do the same work). */
  lock?: string;
}

export type ScheduledOutcome<T> =
  | { status: 'not-due'; next: Date }
  | { status: 'busy'; due: Date; message: string }
  | { status: 'done' | 'duplicate'; due: Date; result: T };

/** The first tick ever runs a firing this recent; later ticks run every firing since the last done one. */
export const FIRST_LOOKBACK_MS = 10 * 60_000;

const markerKey = (name: string) => `schedule:${name}`;

/**
 * Run `work` for the latest firing of a schedule that is due at `at` and not done yet, keyed by that
 * firing's time: a timer delivered twice, or a tick that comes while the work still runs, does it
 * once. The firing is marked done only when the work succeeded, so a failed run stays due: FC's
 * retry of the tick, or the next tick, runs it again. Firings missed while nothing ticked collapse
 * into one run of the latest.
 */
export async function runWhenDue<T>(
  ctx: ScheduleContext,
  job: ScheduledJob,
  at: Date,
  work: (run: RunHandle, due: Date) => Promise<T>,
): Promise<ScheduledOutcome<T>> {
  const schedule = parseSchedule(job.schedule);
  const [last] = await ctx.store.readHistory<string>(markerKey(job.name), { limit: 1 });
  const since = last ? new Date(last.value) : new Date(at.getTime() - FIRST_LOOKBACK_MS);
  const due = schedule.latest(since, at);
  if (!due) {
    // From the first tick on, nothing that comes due is missed, however rarely the timer fires.
    if (!last)
      await ctx.store.appendHistory(markerKey(job.name), { value: at.toISOString(), note: 'first tick' });
    return { status: 'not-due', next: schedule.next(last ? since : at) };
  }
  const outcome = await ctx.once(
    async (run) => {
      const result = await work(run, due);
      await markDone(ctx.store, job.name, due);
      return result;
    },
    {
      key: `${markerKey(job.name)}:${due.toISOString()}`,
      payload: { name: job.name, due: due.toISOString() },
      kind: job.kind,
      subject: job.subject ?? job.name,
      lock: job.lock,
      whenBusy: 'report',
    },
  );
  if (outcome.status === 'busy') return { status: 'busy', due, message: outcome.message };
  // Done before, but not marked (the marker write itself failed): mark it now.
  if (outcome.status === 'duplicate') await markDone(ctx.store, job.name, due);
  return { status: outcome.status, due, result: outcome.result };
}

async function markDone(store: Store, name: string, due: Date): Promise<void> {
  const [last] = await store.readHistory<string>(markerKey(name), { limit: 1 });
  if (!last || new Date(last.value) < due)
    await store.appendHistory(markerKey(name), { value: due.toISOString() });
}
