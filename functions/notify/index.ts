// notify: routes the events every function publishes to the channels in fc-devops.yaml.
import { cloudFromContext } from '../../shared/cloud/cloud.ts';
import { configPath, loadConfig } from '../../shared/config/load.ts';
import { NotifyEventSchema } from '../../shared/notify/event.ts';
import { defineHandler, jobRoute } from '../../shared/runtime/define-handler.ts';
import { storeFromEnv } from '../../shared/store/open.ts';
import { notifyRun } from './run.ts';

// Read at cold start: a config that cannot load fails the instance, not each event.
const config = loadConfig(configPath());
const store = storeFromEnv();

export const handler = defineHandler({
  store,
  jobs: {
    'notify.event': jobRoute(NotifyEventSchema, (event, _job, ctx) =>
      ctx.once(
        (run) =>
          notifyRun({ config, store, ctx, run, mail: () => cloudFromContext(ctx.fc).mail }, (n) =>
            n.accept(event),
          ),
        {
          subject: `${event.kind} ${event.subject}`.slice(0, 500),
        },
      ),
    ),
  },
  // Closes grouping windows and sends digests that rate limits held back.
  timer: {
    run: (_input, ctx) =>
      ctx.once(
        (run) =>
          notifyRun({ config, store, ctx, run, mail: () => cloudFromContext(ctx.fc).mail }, async () => []),
        {
          kind: 'notify.flush',
        },
      ),
  },
});
