// release: promote and roll back FC alias versions (with canaries), image channels and Kubernetes
// Deployments, over authenticated HTTP; the timer moves canaries and watched rollouts on.
import { defineHandler } from '../../shared/runtime/define-handler.ts';
import { advanceAll } from './advance.ts';
import { handle } from './api.ts';
import { releaseDeps } from './state.ts';

export const handler = defineHandler({
  http: (request, ctx) => handle(request, ctx),
  timer: {
    run: (_input, ctx) => advanceAll(releaseDeps(ctx), ctx.requestId),
  },
});
