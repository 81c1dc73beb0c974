// image-prune: keep the newest N images per pipeline or family, delete older unused ones, report why.
import * as z from 'zod';
import { guardRunEndpoint } from '../../shared/auth/guard.ts';
import { cloudFromContext } from '../../shared/cloud/cloud.ts';
import { configPath, loadConfig } from '../../shared/config/load.ts';
import { json, parseJsonBody } from '../../shared/events/http.ts';
import { eventsVia } from '../../shared/notify/publish.ts';
import { defineHandler } from '../../shared/runtime/define-handler.ts';
import { parseSchedule } from '../../shared/schedule/cron.ts';
import { storeFromEnv } from '../../shared/store/open.ts';
import { type PruneReport, prune } from './prune.ts';

const config = loadConfig(configPath());
const store = storeFromEnv();
const LAST_RUN = 'image-prune:last-run';

const line = (d: { id: string; name: string; reasons: string[] }) =>
  `${d.id} (${d.name}): ${d.reasons.join('; ')}`;

const reportText = (report: PruneReport) =>
  [
    `${report.dryRun ? 'dry run: would delete' : 'deleted'}:`,
    ...report.deleted.map(line),
    'kept:',
    ...report.kept.map(line),
    ...report.failed.map((f) => `FAILED ${f.id}: ${f.error}`),
  ].join('\n');

async function announce(report: PruneReport, fc: Parameters<typeof cloudFromContext>[0]): Promise<void> {
  const n = report.deleted.length;
  await eventsVia(cloudFromContext(fc).fc).publish({
    kind: report.failed.length > 0 ? 'image.prune.failed' : 'image.prune.report',
    severity: report.failed.length > 0 ? 'warning' : 'info',
    subject: 'image prune',
    summary: `${report.dryRun ? 'would delete' : 'deleted'} ${n} image(s), kept ${report.kept.length}${
      report.failed.length ? `, ${report.failed.length} failed` : ''
    }${report.dryRun ? ' (dry run)' : ''}`,
    details: {
      deleted: report.deleted.map(line).join('\n').slice(0, 4000) || null,
      kept: report.kept.map(line).join('\n').slice(0, 4000) || null,
      failed: report.failed.map((f) => `${f.id}: ${f.error}`).join('\n') || null,
      snapshotsDeleted: report.snapshotsDeleted.join(', ') || null,
      dryRun: report.dryRun,
    },
  });
}

const RunBody = z.strictObject({ dryRun: z.boolean().default(true) });

export const handler = defineHandler({
  store,
  // POST /run {dryRun?}: prune now (a dry run unless dryRun is false); authenticated, action `run` on `image-prune`.
  http: async (request, ctx) => {
    const gate = await guardRunEndpoint(request, /^\/run\/?$/, () => 'image-prune', {
      keys: config.access.keys,
      store: await store(),
      now: ctx.now,
    });
    if (!gate.ok) return gate.response;
    if (!config.images.prune)
      return json(409, { error: 'NotConfigured', message: 'the config has no images.prune section' });
    const body = parseJsonBody(request, RunBody.default({ dryRun: true }));
    const done = await ctx.once(
      async (run) => {
        const report = await prune(
          {
            cloud: cloudFromContext(ctx.fc, process.env, ctx.log),
            store: await store(),
            config,
            now: ctx.now(),
            log: run.log,
          },
          { dryRun: body.dryRun },
        );
        await run.append(reportText(report));
        if (!body.dryRun) await announce(report, ctx.fc).catch(() => {});
        return report;
      },
      {
        key: `manual:${gate.keyId}:${request.headers['idempotency-key'] ?? request.requestId}`,
        kind: 'image.prune',
      },
    );
    return json(200, done.result);
  },
  // Each tick prunes when the configured schedule came due since the last prune.
  timer: {
    run: async (input, ctx) =>
      (
        await ctx.once(
          async (run) => {
            const policy = config.images.prune;
            if (!policy) return { skipped: 'no images.prune section in the config' };
            const s = await store();
            const last = (await s.readHistory<string>(LAST_RUN, { limit: 1 }))[0];
            const since = last ? new Date(last.value) : new Date(input.triggerTime.getTime() - 60_000);
            if (parseSchedule(policy.schedule).next(since) > input.triggerTime) return { skipped: 'not due' };
            await s.appendHistory(LAST_RUN, { value: input.triggerTime.toISOString() });
            const report = await prune(
              {
                cloud: cloudFromContext(ctx.fc, process.env, ctx.log),
                store: s,
                config,
                now: ctx.now(),
                log: run.log,
              },
              { dryRun: policy.dryRun },
            );
            await run.append(reportText(report));
            await announce(report, ctx.fc).catch((error) =>
              run.log.warn('event not published', { error: (error as Error).message }),
            );
            return report;
          },
          { kind: 'image.prune', subject: 'schedule' },
        )
      ).result,
  },
});
