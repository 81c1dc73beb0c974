// scale: set the capacity of ESS scaling groups and ACK node pools by schedule, alarm and hand,
// within the guard rails of the planner.
import { ScaleAlarmJob } from '../../shared/jobs/scale-alarm.ts';
import { defineHandler, type HandlerContext, jobRoute } from '../../shared/runtime/define-handler.ts';
import { ConflictError } from '../../shared/runtime/errors.ts';
import { MissingCalendarYear } from '../../shared/schedule/calendar.ts';
import { runWhenDue } from '../../shared/schedule/due.ts';
import { ALARM_JOB, handle, tell } from './api.ts';
import { change, SELF } from './change.ts';
import { FOLLOW_JOB, FollowJob, follow, followKey } from './follow.ts';
import { rulesOf } from './rules.ts';
import { appliesOn } from './timeline.ts';

/**
 * Each schedule whose firing is due: once per firing, on the days its calendar allows. A rule that
 * fails (a calendar year that is missing) does not hold the others back: its firing stays due and
 * fails again on each tick, said once per missing year; other failures fail the tick for FC to retry.
 */
async function onTimer(ctx: HandlerContext, at: Date) {
  const results = [];
  let retry: unknown;
  for (const rule of rulesOf(ctx.config)) {
    try {
      const outcome = await runWhenDue(
        ctx,
        {
          name: `scale:${rule.target}:${rule.name}`,
          schedule: rule.schedule,
          kind: 'scale.schedule',
          subject: rule.target,
        },
        at,
        async (_run, due) => {
          if (!appliesOn(rule, due))
            return { skipped: `${due.toISOString()} is not one of its days (${rule.days})` };
          const out = await change(ctx, {
            target: rule.target,
            ask: { source: 'schedule', desired: rule.desired, rule: rule.name },
            by: 'schedule',
            reason: rule.name,
            at: due,
          });
          // Taking turns: another change holds the target; the next tick (or FC's retry) runs this firing again.
          if (out.status === 'busy') throw new ConflictError(`${rule.target} is held by ${out.holder}`);
          return out;
        },
      );
      results.push({ rule: rule.name, ...outcome });
    } catch (error) {
      results.push({ rule: rule.name, status: 'failed', error: (error as Error).message });
      if (error instanceof MissingCalendarYear) await missingYear(ctx, rule.target, error);
      else retry ??= error;
    }
  }
  if (retry) throw retry;
  return { schedules: results };
}

async function missingYear(ctx: HandlerContext, target: string, error: MissingCalendarYear) {
  await ctx.once(
    () =>
      ctx.events.publish({
        kind: 'scale.schedule.failed',
        severity: 'error',
        subject: target,
        summary: error.message,
        details: { year: error.year, file: error.file },
      }),
    {
      key: `scale-calendar-missing:${error.calendar}:${error.year}`,
      payload: { calendar: error.calendar, year: error.year },
      kind: 'scale.schedule.failed',
      subject: target,
    },
  );
}

export const handler = defineHandler({
  http: (request, ctx) => handle(request, ctx),
  timer: { run: (input, ctx) => onTimer(ctx, input.triggerTime) },
  jobs: {
    // Each change's activity or task, followed to its end once (a long one hands over round by round).
    [FOLLOW_JOB]: jobRoute(FollowJob, (job, _m, ctx) =>
      ctx.once(() => follow(ctx, SELF, job), {
        key: followKey(job),
        payload: { key: followKey(job) },
        kind: FOLLOW_JOB,
        subject: job.target,
      }),
    ),
    // One change per alarm, state and time, however often CloudMonitor or FC delivers it.
    [ALARM_JOB]: jobRoute(ScaleAlarmJob, (job, _m, ctx) =>
      ctx.once(
        async () => {
          const out = await change(ctx, {
            target: job.target,
            ask: { source: 'alarm', step: job.step, alarm: job.alarm },
            by: `alarm:${job.alarm}`,
            reason: `alarm ${job.alarm} (${job.metric}${job.value ? ` = ${job.value}` : ''})`,
            at: ctx.now(),
          });
          if (out.status === 'busy') throw new ConflictError(`${job.target} is held by ${out.holder}`);
          if (out.status === 'unchanged' && !out.decision.change && out.decision.refused)
            await tell(
              ctx,
              'scale.refused',
              job.target,
              `alarm ${job.alarm} did not change ${job.target}: ${out.decision.refused.why}`,
            );
          return out;
        },
        { key: job.key, payload: { key: job.key }, kind: ALARM_JOB, subject: job.target },
      ),
    ),
  },
});
