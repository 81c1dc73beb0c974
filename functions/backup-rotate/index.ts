// backup-rotate: scheduled RDS backups with grandfather-father-son retention, and restore drills.
import * as z from 'zod/mini';
import { guarded, guardedRun } from '../../shared/auth/guard.ts';
import { enqueueJob } from '../../shared/cloud/jobs.ts';
import { type HttpRequest, json, parseJsonBody } from '../../shared/events/http.ts';
import { lazySchema } from '../../shared/events/parse.ts';
import { defineHandler, type HandlerContext, jobRoute } from '../../shared/runtime/define-handler.ts';
import { ParseError } from '../../shared/runtime/errors.ts';
import { runLog } from '../../shared/runtime/run-log.ts';
import { runWhenDue } from '../../shared/schedule/due.ts';
import { own } from '../../shared/util/records.ts';
import { type DrillState, drillsKey, runDrill } from './drill.ts';
import { drillDumps, rotateDumps } from './dumps.ts';
import { type Policy, type RotationReport, rotateInstance } from './rotate.ts';

const SELF = process.env.FC_FUNCTION_NAME ?? 'backup-rotate';

const RotatePayload = lazySchema(() =>
  z.object({
    policy: z.string(),
    instanceId: z.string(),
    jobId: z.optional(z.string()),
    round: z._default(z.int(), 0),
    dryRun: z._default(z.boolean(), false),
  }),
);
const DrillPayload = lazySchema(() =>
  z.object({
    policy: z.string(),
    instanceId: z.string(),
    /** The policy's other region: restore from the copy there. */
    region: z.optional(z.string()),
    state: z.optional(
      z.object({
        policy: z.string(),
        instanceId: z.string(),
        backupId: z.string(),
        cloneId: z.string(),
        startedAt: z.string(),
        round: z.number(),
        region: z.optional(z.string()),
      }),
    ),
  }),
);
// A rotation applies retention (it deletes): it is a dry run unless the caller says `dryRun: false`.
// A drill deletes nothing of the user's (its clone is its own), so it runs unless asked for a dry run.
const RunBody = lazySchema(() =>
  z.strictObject(z.object({ dryRun: z.optional(z.boolean()), drill: z._default(z.boolean(), false) }).shape),
);

/** A drill's `region` names the policy's second region, or it is refused: no other region holds its copies. */
function drillRegionOf(name: string, policy: Policy, region: string | undefined): string | undefined {
  if (region === undefined || region === policy.crossRegion?.region) return region;
  throw new ParseError('backup job', [
    {
      path: ['payload', 'region'],
      message: `policy ${name} has ${policy.crossRegion ? `its second region in ${policy.crossRegion.region}` : 'no second region'}, not ${region}`,
    },
  ]);
}

function policyOf(ctx: HandlerContext, name: string): Policy {
  const policy = own(ctx.config.backups.policies, name);
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
    for (const i of await ctx.cloud.rds.describeInstances({ tags: policy.tags })) ids.add(i.DBInstanceId);
  }
  return [...ids];
}

/** A drill restores in the home region, and with `crossRegion.drill` from the other region's copy too. */
const drillRegions = (policy: Policy): (string | undefined)[] =>
  policy.crossRegion?.drill ? [undefined, policy.crossRegion.region] : [undefined];

/** Time this invocation may spend waiting, leaving room to hand over to a follow-up job. */
const budget = (ctx: HandlerContext) => Math.max(1000, ctx.fc.function.timeout * 1000 - 30_000);

async function enqueue(
  ctx: HandlerContext,
  kind: string,
  idempotencyKey: string,
  payload: unknown,
): Promise<void> {
  await enqueueJob(ctx.cloud.fc, SELF, { kind, idempotencyKey, payload, correlationId: ctx.correlationId });
}

const crossLine = (c: NonNullable<RotationReport['crossRegion']>) =>
  `${c.region}: ${
    c.error ??
    ('policy' in c
      ? `${c.copies} copies, settings ${c.policy.status}`
      : `${c.dumps} dumps in ${c.bucket}, ${c.copied.length} copied${c.failed.length ? `, ${c.failed.length} failed` : ''}`)
  }`;

async function report(ctx: HandlerContext, r: RotationReport): Promise<void> {
  if (r.status === 'following') return;
  const failed = r.status === 'backup-failed' || r.status === 'refused' || r.status === 'copy-failed';
  await ctx.events
    .publish({
      kind: failed ? 'backup.rotate.failed' : 'backup.rotated',
      severity: failed ? 'error' : 'info',
      subject: `${r.policy} (${r.instanceId})`,
      summary: failed
        ? (r.reason ?? 'rotation failed')
        : `${r.created ? `created ${r.created}; ` : ''}${r.deleted.length} deleted${r.dryRun ? ' (dry run)' : ''}${r.reason ? `; ${r.reason}` : ''}`,
      details: {
        kept: r.kept,
        deleted: r.deleted.length,
        created: r.created ?? null,
        ...(r.crossRegion ? { crossRegion: crossLine(r.crossRegion) } : {}),
      },
    })
    .catch((error) => ctx.log.warn('event not published', { error: (error as Error).message }));
  const cross = r.crossRegion;
  const drift =
    cross && 'policy' in cross && cross.policy.status === 'drift' ? cross.policy.detail : undefined;
  const lagging =
    cross &&
    (cross.behind ?? cross.error ?? (drift ? `cross-region backup settings differ: ${drift}` : undefined));
  if (cross && lagging)
    await ctx.events
      .publish({
        kind: 'backup.region.behind',
        severity: 'warning',
        subject: `${r.policy} (${r.instanceId}) in ${cross.region}`,
        summary: lagging,
        details: { region: cross.region, copies: 'copies' in cross ? cross.copies : cross.dumps },
      })
      .catch((error) => ctx.log.warn('event not published', { error: (error as Error).message }));
}

export const handler = defineHandler({
  jobs: {
    'backup.rotate': jobRoute(RotatePayload, (p, _job, ctx) =>
      ctx.once(
        async (run) => {
          const policy = policyOf(ctx, p.policy);
          if (policy.engine !== 'rds') {
            const { plan: _p, ...summary } = await rotateDumps(
              { cloud: ctx.cloud, cloudIn: ctx.cloudIn, now: ctx.now },
              p.policy,
              policy,
              { dryRun: p.dryRun },
            );
            await report(ctx, summary);
            return summary;
          }
          const log = runLog(run);
          const r = await rotateInstance(
            {
              cloud: ctx.cloud,
              store: ctx.store,
              now: ctx.now,
              log: ctx.log,
              budgetMs: budget(ctx),
              progress: { stage: run.stage, line: log.line, signal: run.signal },
              followUp: (s) =>
                enqueue(ctx, 'backup.rotate', `follow:${s.jobId}:${s.round}`, {
                  policy: s.policy,
                  instanceId: s.instanceId,
                  jobId: s.jobId,
                  round: s.round,
                }),
            },
            p.policy,
            policyOf(ctx, p.policy),
            p.instanceId,
            { dryRun: p.dryRun, createBackup: true, ...(p.jobId ? { jobId: p.jobId } : {}), round: p.round },
          ).finally(() => log.close());
          await report(ctx, r);
          const { plan: _plan, ...summary } = r;
          return summary;
        },
        { kind: 'backup.rotate', subject: `${p.policy}/${p.instanceId}` },
      ),
    ),
    'backup.drill': jobRoute(DrillPayload, (p, job, ctx) =>
      ctx.once(
        async () => {
          const policy = policyOf(ctx, p.policy);
          const region = drillRegionOf(p.policy, policy, p.state?.region ?? p.region);
          const r =
            policy.engine !== 'rds'
              ? await drillDumps(
                  { cloud: ctx.cloud, cloudIn: ctx.cloudIn, homeRegion: ctx.config.region, now: ctx.now },
                  p.policy,
                  policy,
                  region,
                )
              : await runDrill(
                  {
                    cloud: ctx.cloud,
                    cloudIn: ctx.cloudIn,
                    homeRegion: ctx.config.region,
                    // A follow-up carries the state (its clone exists); the first job names the drill.
                    drillKey: job.idempotencyKey,
                    store: ctx.store,
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
                  region,
                );
          if (r.status === 'passed' && r.secondsToRestore !== undefined)
            await ctx.store.appendHistory(drillsKey(p.policy), {
              value: {
                instanceId: r.instanceId,
                backupId: r.backupId,
                secondsToRestore: r.secondsToRestore,
                passed: true,
                region: r.region,
              },
            });
          if (r.status !== 'following') {
            await ctx.events
              .publish({
                kind: r.status === 'passed' ? 'backup.drill.passed' : 'backup.drill.failed',
                severity: r.status === 'passed' ? 'info' : 'error',
                subject: `${r.policy} (${r.instanceId})${r.region === ctx.config.region ? '' : ` from ${r.region}`}`,
                summary:
                  r.status === 'passed'
                    ? `backup ${r.backupId} restored in ${r.region} in ${r.secondsToRestore} s; check: ${r.check}${r.note ? `; ${r.note}` : ''}`
                    : (r.reason ?? 'drill failed'),
                details: {
                  minutes: r.secondsToRestore === undefined ? null : Math.round(r.secondsToRestore / 6) / 10,
                  region: r.region,
                },
              })
              .catch(() => {});
          }
          return r;
        },
        { kind: 'backup.drill', subject: `${p.policy}/${p.instanceId}${p.region ? `@${p.region}` : ''}` },
      ),
    ),
  },
  // Each tick starts the policies (and drills) whose schedule came due since their last start that
  // succeeded; one that fails to start stays due, for FC's retry or the next tick.
  timer: {
    run: async (input, ctx) => {
      const started: string[] = [];
      let failure: unknown;
      for (const [name, policy] of Object.entries(ctx.config.backups.policies)) {
        for (const [what, schedule] of [
          ['rotate', policy.schedule],
          ['drill', policy.drill?.schedule],
        ] as const) {
          if (!schedule) continue;
          try {
            const outcome = await runWhenDue(
              ctx,
              {
                name: `backup:${what}:${name}`,
                schedule,
                kind: `backup.schedule`,
                subject: `${what} ${name}`,
              },
              input.triggerTime,
              async (_run, due) => {
                const ids: string[] = [];
                for (const instanceId of await instancesOf(ctx, policy)) {
                  // Keyed by the firing: a start repeated after a failure does not enqueue it twice.
                  for (const region of what === 'drill' ? drillRegions(policy) : [undefined]) {
                    const id = `${what}:${name}:${instanceId}:${due.toISOString()}${region ? `:${region}` : ''}`;
                    await enqueue(ctx, what === 'rotate' ? 'backup.rotate' : 'backup.drill', id, {
                      policy: name,
                      instanceId,
                      ...(region ? { region } : {}),
                    });
                    ids.push(id);
                  }
                }
                return ids;
              },
            );
            if (outcome.status === 'done') started.push(...outcome.result);
          } catch (error) {
            ctx.log.error('scheduled backup work not started', {
              policy: name,
              what,
              error: (error as Error).message,
            });
            failure ??= error;
          }
        }
      }
      // The others went ahead; FC retries the tick for the one that failed.
      if (failure) throw failure;
      return { started };
    },
  },
  // POST /policies/<name>/run {dryRun?, drill?}: rotate now (a dry run, answering with the plan, unless
  // dryRun is false), or start a restore drill.
  // GET /policies/<name>/regions: what each of the policy's regions holds (action `view`).
  http: (request, ctx) => {
    const regions = /^\/policies\/([a-z][a-z0-9-]{0,62})\/regions\/?$/.exec(request.path);
    if (regions && request.method === 'GET')
      return guarded(request, { action: 'view', target: regions[1]! }, ctx.guardDeps, () =>
        regionsOf(ctx, regions[1]!),
      );
    return guardedRun(
      request,
      /^\/policies\/([a-z][a-z0-9-]{0,62})\/run\/?$/,
      (m) => m[1]!,
      ctx.guardDeps,
      (keyId, name) => runNow(request, ctx, keyId, name),
    );
  },
});

async function regionsOf(ctx: HandlerContext, name: string) {
  const policy = own(ctx.config.backups.policies, name);
  if (!policy) return json(404, { error: 'PolicyNotFound', message: `no backup policy named ${name}` });
  // Instances found by tags need the home region; without it, the ones the policy names.
  const instances = await instancesOf(ctx, policy).catch(() => policy.instances);
  const { policyRegions } = await import('./regions-report.ts');
  return json(
    200,
    await policyRegions(
      {
        cloud: ctx.cloud,
        cloudIn: ctx.cloudIn,
        store: ctx.store,
        now: ctx.now,
        homeRegion: ctx.config.region,
      },
      name,
      policy,
      instances,
    ),
  );
}

async function runNow(request: HttpRequest, ctx: HandlerContext, keyId: string, name: string) {
  const policy = own(ctx.config.backups.policies, name);
  if (!policy) return json(404, { error: 'PolicyNotFound', message: `no backup policy named ${name}` });
  const body = parseJsonBody(request, z._default(RunBody, { drill: false }));
  const dryRun = body.dryRun ?? !body.drill;
  const instances = await instancesOf(ctx, policy);
  if (dryRun && body.drill)
    return json(200, {
      dryRun: true,
      drill: {
        policy: name,
        instances,
        plan: 'restore the newest successful backup of each instance into a temporary clone, run the check, delete the clone',
        ...(policy.crossRegion?.drill
          ? { alsoFrom: `the newest copy in ${policy.crossRegion.region}, restored there the same way` }
          : {}),
      },
    });
  if (dryRun) {
    const cloud = ctx.cloud;
    const reports: unknown[] = [];
    if (policy.engine !== 'rds')
      return json(200, {
        dryRun: true,
        reports: [
          await rotateDumps({ cloud, cloudIn: ctx.cloudIn, now: ctx.now }, name, policy, { dryRun: true }),
        ],
      });
    for (const instanceId of instances) {
      reports.push(
        await rotateInstance(
          {
            cloud,
            store: ctx.store,
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
    for (const region of body.drill ? drillRegions(policy) : [undefined]) {
      const id = `manual:${keyId}:${name}:${instanceId}:${request.headers['idempotency-key'] ?? request.requestId}${region ? `:${region}` : ''}`;
      await enqueue(ctx, body.drill ? 'backup.drill' : 'backup.rotate', id, {
        policy: name,
        instanceId,
        ...(region ? { region } : {}),
      });
      ids.push(id);
    }
  }
  return json(202, { policy: name, instances, jobs: ids });
}
