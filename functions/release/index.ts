// release: promote and roll back FC alias versions (with canaries), image channels and Kubernetes
// Deployments, over authenticated HTTP; the timer moves canaries and watched rollouts on.
import { defineHandler } from '../../shared/runtime/define-handler.ts';
import { advanceAll } from './advance.ts';
import { handle } from './api.ts';
import { releaseDeps } from './state.ts';

export const handler = defineHandler({
  http: (request, ctx) => handle(request, ctx),
  timer: {
    // "Now" is the trigger time when it is ahead of the clock (a test moving time on), else the clock.
    run: (input, ctx) =>
      advanceAll(
        {
          ...releaseDeps(ctx),
          now: () => new Date(Math.max(input.triggerTime.getTime(), ctx.now().getTime())),
        },
        ctx.requestId,
      ),
  },
});
