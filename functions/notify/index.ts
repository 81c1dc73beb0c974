// notify: routes the events every function publishes to the channels in fc-devops.yaml.
import { NotifyEventSchema } from '../../shared/notify/event.ts';
import { defineHandler, jobRoute } from '../../shared/runtime/define-handler.ts';
import { notifyRun } from './run.ts';

export const handler = defineHandler({
  jobs: {
    'notify.event': jobRoute(NotifyEventSchema, (event, _job, ctx) =>
      ctx.once((run) => notifyRun(ctx, run, (n) => n.accept(event)), {
        subject: `${event.kind} ${event.subject}`.slice(0, 500),
      }),
    ),
  },
  // Closes grouping windows and sends digests that rate limits held back.
  timer: {
    run: (_input, ctx) => ctx.once((run) => notifyRun(ctx, run, async () => []), { kind: 'notify.flush' }),
  },
});
