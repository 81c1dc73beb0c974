// backup-rotate: scheduled RDS backups with grandfather-father-son retention, and restore drills.
import * as z from 'zod';
import { guardRunEndpoint } from '../../shared/auth/guard.ts';
import { cloudFromContext } from '../../shared/cloud/cloud.ts';
import { configPath, loadConfig } from '../../shared/config/load.ts';
import { json, parseJsonBody } from '../../shared/events/http.ts';
import { createJob } from '../../shared/events/job.ts';
import { eventsVia } from '../../shared/notify/publish.ts';
import { defineHandler, type HandlerContext, jobRoute } from '../../shared/runtime/define-handler.ts';
import { ParseError } from '../../shared/runtime/errors.ts';
import { parseSchedule } from '../../shared/schedule/cron.ts';
import { storeFromEnv } from '../../shared/store/open.ts';
import { type DrillState, runDrill } from './drill.ts';
import { drillDumps, rotateDumps } from './dumps.ts';
import { type Policy, type RotationReport, rotateInstance } from './rotate.ts';

const config = loadConfig(configPath());
const store = storeFromEnv();
const SELF = process.env.FC_FUNCTION_NAME ?? 'backup-rotate';

const RotatePayload = z.object({
  policy: z.string(),
  instanceId: z.string(),
  jobId: z.string().optional(),
  round: z.number().int().default(0),
  dryRun: z.boolean().default(false),
});
const DrillPayload = z.object({
  policy: z.string(),
  instanceId: z.string(),
  state: z
    .object({
      policy: z.string(),
      instanceId: z.string(),
      backupId: z.string(),
      cloneId: z.string(),
      startedAt: z.string(),
      round: z.number(),
    })
    .optional(),
});
const RunBody = z.object({ dryRun: z.boolean().default(false), drill: z.boolean().default(false) }).strict();

function policyOf(name: string): Policy {
  const policy = config.backups.policies[name];
  if (!policy)
    throw new ParseError('backup job', [
      { path: ['payload', 'policy'], message: `no backup policy named ${name}` },
    ]);
  return policy;
}

async function instancesOf(ctx: HandlerContext, policy: Policy): Promise<string[]> {
  // A self-managed database is one target: its dumps.
  if (policy.engine !== 'rds') return ['database'];
  const ids = new Set(policy.instances);
  if (Object.keys(policy.tags).length > 0) {
    for (const i of await cloudFromContext(ctx.fc).rds.describeInstances({ tags: policy.tags }))
      ids.add(i.DBInstanceId);
  }
  return [...ids];
}

/** Time this invocation may spend waiting, leaving room to hand over to a follow-up job. */
const budget = (ctx: HandlerContext) => Math.max(1000, ctx.fc.function.timeout * 1000 - 30_000);

async function enqueue(
  ctx: HandlerContext,
  kind: string,
  idempotencyKey: string,
  payload: unknown,
): Promise<void> {
  const { bytes } = createJob({ kind, idempotencyKey, payload, correlationId: ctx.correlationId });
  await cloudFromContext(ctx.fc).fc.invokeAsync(SELF, bytes);
}

async function report(ctx: HandlerContext, r: RotationReport): Promise<void> {
  if (r.status === 'following') return;
  const failed = r.status === 'backup-failed' || r.status === 'refused';
  await eventsVia(cloudFromContext(ctx.fc).fc)
    .publish({
      kind: failed ? 'backup.rotate.failed' : 'backup.rotated',
      severity: failed ? 'error' : 'info',
      subject: `${r.policy} (${r.instanceId})`,
      summary: failed
        ? (r.reason ?? 'rotation failed')
        : `${r.created ? `created ${r.created}; ` : ''}${r.deleted.length} deleted${r.dryRun ? ' (dry run)' : ''}${r.reason ? `; ${r.reason}` : ''}`,
      details: { kept: r.kept, deleted: r.deleted.length, created: r.created ?? null },
    })
    .catch((error) => ctx.log.warn('event not published', { error: (error as Error).message }));
}

export const handler = defineHandler({
  store,
  jobs: {
    'backup.rotate': jobRoute(RotatePayload, (p, _job, ctx) =>
      ctx.once(
        async () => {
          const policy = policyOf(p.policy);
          if (policy.engine !== 'rds') {
            const { plan: _p, ...summary } = await rotateDumps(
              { cloud: cloudFromContext(ctx.fc, process.env, ctx.log), now: ctx.now },
              p.policy,
              policy,
              { dryRun: p.dryRun },
            );
            await report(ctx, summary);
            return summary;
          }
          const r = await rotateInstance(
            {
              cloud: cloudFromContext(ctx.fc, process.env, ctx.log),
              store: await store(),
              now: ctx.now,
              log: ctx.log,
              budgetMs: budget(ctx),
              followUp: (s) =>
                enqueue(ctx, 'backup.rotate', `follow:${s.jobId}:${s.round}`, {
                  policy: s.policy,
                  instanceId: s.instanceId,
                  jobId: s.jobId,
                  round: s.round,
                }),
            },
            p.policy,
            policyOf(p.policy),
            p.instanceId,
            { dryRun: p.dryRun, createBackup: true, ...(p.jobId ? { jobId: p.jobId } : {}), round: p.round },
          );
          await report(ctx, r);
          const { plan: _plan, ...summary } = r;
          return summary;
        },
        { kind: 'backup.rotate', subject: `${p.policy}/${p.instanceId}` },
      ),
    ),
    'backup.drill': jobRoute(DrillPayload, (p, _job, ctx) =>
      ctx.once(
        async () => {
          const policy = policyOf(p.policy);
          const r =
            policy.engine !== 'rds'
              ? await drillDumps(
                  { cloud: cloudFromContext(ctx.fc, process.env, ctx.log), now: ctx.now },
                  p.policy,
                  policy,
                )
              : await runDrill(
                  {
                    cloud: cloudFromContext(ctx.fc, process.env, ctx.log),
                    store: await store(),
                    now: ctx.now,
                    budgetMs: budget(ctx),
                    followUp: (s: DrillState) =>
                      enqueue(ctx, 'backup.drill', `drill-follow:${s.cloneId}:${s.round}`, {
                        policy: s.policy,
                        instanceId: s.instanceId,
                        state: s,
                      }),
                  },
                  p.policy,
                  policy,
                  p.instanceId,
                  p.state,
                );
          if (r.status !== 'following') {
            await eventsVia(cloudFromContext(ctx.fc).fc)
              .publish({
                kind: r.status === 'passed' ? 'backup.drill.passed' : 'backup.drill.failed',
                severity: r.status === 'passed' ? 'info' : 'error',
                subject: `${r.policy} (${r.instanceId})`,
                summary:
                  r.status === 'passed'
                    ? `backup ${r.backupId} restored in ${r.secondsToRestore} s; check: ${r.check}`
                    : (r.reason ?? 'drill failed'),
                details: {
                  minutes: r.secondsToRestore === undefined ? null : Math.round(r.secondsToRestore / 6) / 10,
                },
              })
              .catch(() => {});
          }
          return r;
        },
        { kind: 'backup.drill', subject: `${p.policy}/${p.instanceId}` },
      ),
    ),
  },
  // Each tick starts the policies (and drills) whose schedule came due since their last start.
  timer: {
    run: async (input, ctx) =>
      (
        await ctx.once(async () => {
          const s = await store();
          const started: string[] = [];
          for (const [name, policy] of Object.entries(config.backups.policies)) {
            for (const [what, schedule] of [
              ['rotate', policy.schedule],
              ['drill', policy.drill?.schedule],
            ] as const) {
              if (!schedule) continue;
              const key = `backup:last-${what}:${name}`;
              const last = (await s.readHistory<string>(key, { limit: 1 }))[0];
              const since = last ? new Date(last.value) : new Date(input.triggerTime.getTime() - 60_000);
              const due = parseSchedule(schedule).next(since);
              if (due > input.triggerTime) continue;
              await s.appendHistory(key, { value: input.triggerTime.toISOString() });
              for (const instanceId of await instancesOf(ctx, policy)) {
                const id = `${what}:${name}:${instanceId}:${due.toISOString()}`;
                await enqueue(ctx, what === 'rotate' ? 'backup.rotate' : 'backup.drill', id, {
                  policy: name,
                  instanceId,
                });
                started.push(id);
              }
            }
          }
          return { started };
        })
      ).result,
  },
  // POST /policies/<name>/run {dryRun?, drill?}: run a policy now; a dry run answers with the plan.
  http: async (request, ctx) => {
    const gate = await guardRunEndpoint(
      request,
      /^\/policies\/([a-z][a-z0-9-]{0,62})\/run\/?$/,
      (m) => m[1]!,
      {
        keys: config.access.keys,
        store: await store(),
        now: ctx.now,
      },
    );
    if (!gate.ok) return gate.response;
    const name = gate.target;
    const policy = config.backups.policies[name];
    if (!policy) return json(404, { error: 'PolicyNotFound', message: `no backup policy named ${name}` });
    const body = parseJsonBody(request, RunBody.default({ dryRun: false, drill: false }));
    const instances = await instancesOf(ctx, policy);
    if (body.dryRun) {
      const cloud = cloudFromContext(ctx.fc, process.env, ctx.log);
      const reports = [];
      if (policy.engine !== 'rds')
        return json(200, {
          dryRun: true,
          reports: [await rotateDumps({ cloud, now: ctx.now }, name, policy, { dryRun: true })],
        });
      for (const instanceId of instances) {
        reports.push(
          await rotateInstance(
            {
              cloud,
              store: await store(),
              now: ctx.now,
              log: ctx.log,
              budgetMs: 0,
              followUp: async () => {},
            },
            name,
            policy,
            instanceId,
            { dryRun: true, createBackup: false },
          ).catch((error) => ({
            policy: name,
            instanceId,
            status: 'failed',
            reason: (error as Error).message,
          })),
        );
      }
      return json(200, { dryRun: true, reports });
    }
    const ids = [];
    for (const instanceId of instances) {
      const id = `manual:${gate.keyId}:${name}:${instanceId}:${request.requestId}`;
      await enqueue(ctx, body.drill ? 'backup.drill' : 'backup.rotate', id, { policy: name, instanceId });
      ids.push(id);
    }
    return json(202, { policy: name, instances, jobs: ids });
  },
});
