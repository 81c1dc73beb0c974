// release: promote and roll back FC alias versions (with canaries) and image channels, over
// authenticated HTTP; the timer moves canaries on between their steps.
import { defineHandler } from '../../shared/runtime/define-handler.ts';
import { advanceAll } from './advance.ts';
import { handle } from './api.ts';

export const handler = defineHandler({
  http: (request, ctx) => handle(request, ctx),
  timer: {
    run: (_input, ctx) =>
      advanceAll(
        {
          config: ctx.config,
          store: ctx.store,
          cloud: ctx.cloud,
          events: ctx.events,
          now: ctx.now,
          log: ctx.log,
        },
        ctx.requestId,
      ),
  },
});
