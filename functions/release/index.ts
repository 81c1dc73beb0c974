// release: promote and roll back FC alias versions (with canaries) and image channels, over
// authenticated HTTP; the timer moves canaries on between their steps.
import { cloudFromContext } from '../../shared/cloud/cloud.ts';
import { configPath, loadConfig } from '../../shared/config/load.ts';
import { eventsVia } from '../../shared/notify/publish.ts';
import { defineHandler, type HandlerContext } from '../../shared/runtime/define-handler.ts';
import { storeFromEnv } from '../../shared/store/open.ts';
import { handle } from './api.ts';
import { advanceCanaries, type ReleaseDeps } from './operations.ts';

const config = loadConfig(configPath());
const store = storeFromEnv();

async function deps(ctx: HandlerContext): Promise<ReleaseDeps> {
  const cloud = cloudFromContext(ctx.fc, process.env, ctx.log);
  return { config, store: await store(), cloud, events: eventsVia(cloud.fc), now: ctx.now, log: ctx.log };
}

export const handler = defineHandler({
  store,
  http: async (request, ctx) => handle(request, await deps(ctx)),
  timer: {
    run: async (_input, ctx) => {
      const d = await deps(ctx);
      // Overlapping ticks must not move a canary twice.
      const lock = await d.store.acquireLock('release:advance', { owner: ctx.requestId, ttlMs: 5 * 60_000 });
      if (!lock.acquired) return { skipped: `another tick (${lock.holder}) is advancing canaries` };
      try {
        return await advanceCanaries(d);
      } finally {
        await d.store.releaseLock({ lock: lock.name, owner: lock.owner, token: lock.token });
      }
    },
  },
});
