// image-prune: keep the newest N images per pipeline or family, delete older unused ones, report why.
import * as z from 'zod/mini';
import { guardedRun } from '../../shared/auth/guard.ts';
import { json, parseJsonBody } from '../../shared/events/http.ts';
import { lazySchema } from '../../shared/events/parse.ts';
import { defineHandler, type HandlerContext } from '../../shared/runtime/define-handler.ts';
import type { RunHandle } from '../../shared/runtime/once.ts';
import { runWhenDue } from '../../shared/schedule/due.ts';
import { type PruneReport, prune } from './prune.ts';

/** One real prune at a time, whoever started it. */
const LOCK = 'image-prune';

const line = (d: { id: string; name: string; reasons: string[]; region?: string }) =>
  `${d.id} (${d.name}${d.region ? `, ${d.region}` : ''}): ${d.reasons.join('; ')}`;

const reportText = (report: PruneReport) =>
  [
    `${report.dryRun ? 'dry run: would delete' : 'deleted'}:`,
    ...report.deleted.map(line),
    'kept:',
    ...report.kept.map(line),
    ...report.failed.map((f) => `FAILED ${f.id}: ${f.error}`),
    ...report.regions.filter((r) => !r.pruned).map((r) => `NOT PRUNED ${r.region}: ${r.error}`),
    ...report.pipelines.flatMap((p) => [
      `pipeline ${p.pipeline}:`,
      ...p.regions.map(
        (r) =>
          `  ${r.region}: ${r.error ? `not listed (${r.error})` : `${r.images} image(s)${r.newest ? `, newest ${r.newest.id} (${r.newest.name})` : ''}`}`,
      ),
      ...p.behind.map((b) => `  BEHIND: ${b.region}: ${b.reason}`),
    ]),
  ].join('\n');

async function announce(ctx: HandlerContext, report: PruneReport): Promise<void> {
  for (const p of report.pipelines)
    for (const behind of p.behind)
      await ctx.events.publish({
        kind: 'image.region.behind',
        severity: 'warning',
        subject: `${p.pipeline} in ${behind.region}`,
        summary: `${behind.region} has ${behind.reason}`,
        details: { pipeline: p.pipeline },
      });
  const n = report.deleted.length;
  const notPruned = report.regions.filter((r) => !r.pruned);
  const failed = report.failed.length > 0 || notPruned.length > 0;
  await ctx.events.publish({
    kind: failed ? 'image.prune.failed' : 'image.prune.report',
    severity: failed ? 'warning' : 'info',
    subject: 'image prune',
    summary: `${report.dryRun ? 'would delete' : 'deleted'} ${n} image(s), kept ${report.kept.length}${
      report.failed.length ? `, ${report.failed.length} failed` : ''
    }${notPruned.length ? `, ${notPruned.map((r) => r.region).join(', ')} not pruned` : ''}${report.dryRun ? ' (dry run)' : ''}`,
    details: {
      deleted: report.deleted.map(line).join('\n').slice(0, 4000) || null,
      kept: report.kept.map(line).join('\n').slice(0, 4000) || null,
      failed: report.failed.map((f) => `${f.id}: ${f.error}`).join('\n') || null,
      regionsNotPruned: notPruned.map((r) => `${r.region}: ${r.error}`).join('\n') || null,
      regions: report.regions.map((r) => r.region).join(', '),
      snapshotsDeleted: report.snapshotsDeleted.join(', ') || null,
      dryRun: report.dryRun,
    },
  });
}

/** Prune, keep the report with the run, and tell people (unless it was only a dry run they asked for). */
async function pruneAndReport(ctx: HandlerContext, run: RunHandle, dryRun: boolean, tell: boolean) {
  const report = await prune(
    { cloudIn: ctx.cloudIn, store: ctx.store, config: ctx.config, now: ctx.now(), log: run.log },
    { dryRun },
  );
  await run.append(reportText(report));
  if (tell)
    await announce(ctx, report).catch((error) =>
      run.log.warn('event not published', { error: (error as Error).message }),
    );
  return report;
}

const RunBody = lazySchema(() => z.strictObject({ dryRun: z._default(z.boolean(), true) }));

export const handler = defineHandler({
  // POST /run {dryRun?}: prune now (a dry run unless dryRun is false); authenticated, action `run` on `image-prune`.
  http: (request, ctx) =>
    guardedRun(
      request,
      /^\/run\/?$/,
      () => 'image-prune',
      ctx.guardDeps,
      async (keyId) => {
        if (!ctx.config.images.prune)
          return json(409, { error: 'NotConfigured', message: 'the config has no images.prune section' });
        const body = parseJsonBody(request, z._default(RunBody, { dryRun: true }));
        const done = await ctx.once((run) => pruneAndReport(ctx, run, body.dryRun, !body.dryRun), {
          key: `manual:${keyId}:${request.headers['idempotency-key'] ?? request.requestId}`,
          kind: 'image.prune',
          lock: body.dryRun ? undefined : LOCK,
        });
        return json(200, done.result);
      },
    ),
  // Each tick prunes when the configured schedule came due since the last prune that succeeded.
  timer: {
    run: async (input, ctx) => {
      const policy = ctx.config.images.prune;
      if (!policy) return { skipped: 'no images.prune section in the config' };
      const outcome = await runWhenDue(
        ctx,
        {
          name: 'image-prune',
          schedule: policy.schedule,
          kind: 'image.prune',
          subject: 'schedule',
          lock: LOCK,
        },
        input.triggerTime,
        (run) => pruneAndReport(ctx, run, policy.dryRun, true),
      );
      if (outcome.status === 'not-due') return { skipped: 'not due', next: outcome.next.toISOString() };
      if (outcome.status === 'busy') return { skipped: outcome.message };
      return outcome.result;
    },
  },
});
