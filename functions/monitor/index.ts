// monitor: probe the team's applications on their intervals, keep the results, raise and resolve
// alerts through notify, and take CloudMonitor alarms in.
import { defineHandler, type HandlerContext } from '../../shared/runtime/define-handler.ts';
import { runWhenDue } from '../../shared/schedule/due.ts';
import { handle } from './api.ts';
import { probeRound } from './round.ts';

/** One round per minute, keyed by its due time: a redelivered tick probes nothing twice. */
async function onTimer(ctx: HandlerContext, at: Date) {
  const outcome = await runWhenDue(
    ctx,
    {
      name: `monitor:probe:${ctx.config.region}`,
      schedule: '@every 1m',
      kind: 'monitor.probe',
      subject: ctx.config.region,
    },
    at,
    (_run, due) => probeRound(ctx, due),
  );
  return outcome.status === 'done' ? outcome.result : { status: outcome.status };
}

export const handler = defineHandler({
  http: (request, ctx) => handle(request, ctx),
  timer: { run: (input, ctx) => onTimer(ctx, input.triggerTime) },
});
