// terraform: plan workspaces from pushes, uploaded bundles and operators; apply exactly the saved plan.
import * as z from 'zod/mini';
import type { OssEvent } from '../../shared/events/oss.ts';
import { lazySchema } from '../../shared/events/parse.ts';
import { defineHandler, type HandlerContext, jobRoute } from '../../shared/runtime/define-handler.ts';
import { PLAN_JOB, PlanJobSchema, planKey } from '../../shared/terraform/plan-job.ts';
import { handle } from './api.ts';
import { applyPlan } from './apply.ts';
import { checkDrift, DRIFT_JOB, driftTick } from './drift-check.ts';
import { handleEnvironments, isEnvPath } from './env-api.ts';
import { afterApply, afterPlan } from './env-lifecycle.ts';
import { environmentsTick } from './env-tick.ts';
import { APPLY_JOB, planWorkspace } from './plan.ts';
import { workspaceOf } from './workspace.ts';

const DriftJobSchema = lazySchema(() =>
  z.object({
    workspace: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/)),
    template: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/))),
    due: z.iso.datetime({ offset: true }),
  }),
);

const ApplyJobSchema = lazySchema(() =>
  z.object({
    workspace: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/)),
    planId: z.string().check(z.regex(/^plan-[0-9a-f-]{36}$/)),
    requestedBy: z.string().check(z.minLength(1), z.maxLength(200)),
    template: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/))),
  }),
);

/**
 * A bundle uploaded under `<prefix><workspace>/` is planned once per object eTag. Keys elsewhere,
 * of another kind, or for a workspace the config does not name are skipped, saying why.
 */
async function onBundles(event: OssEvent, ctx: HandlerContext) {
  const bundles = ctx.config.terraform.bundles;
  const outcomes = [];
  for (const record of event.events) {
    const { key, eTag } = record.oss.object;
    const bucket = record.oss.bucket.name;
    const rest =
      bundles && bucket === bundles.bucket && key.startsWith(bundles.prefix)
        ? key.slice(bundles.prefix.length)
        : undefined;
    const workspace = rest?.split('/')[0] ?? '';
    if (!bundles || rest === undefined || !rest.includes('/')) {
      outcomes.push({
        key,
        skipped: `not under ${bundles ? `${bundles.bucket}/${bundles.prefix}<workspace>/` : 'terraform.bundles'}`,
      });
      continue;
    }
    if (!/\.(tar\.gz|tgz|zip)$/i.test(key)) {
      outcomes.push({ key, skipped: 'a bundle is a .tar.gz, .tgz or .zip' });
      continue;
    }
    if (!workspaceOf(ctx.config, workspace)) {
      outcomes.push({ key, skipped: `no terraform workspace named ${workspace}` });
      continue;
    }
    const tag = eTag ?? record.eventTime;
    const done = await ctx.once(
      (run) =>
        planWorkspace(ctx, run, {
          workspace,
          requestedBy: 'bundle',
          source: { kind: 'bundle', bucket, key, eTag: tag },
        }),
      {
        key: `bundle:${bucket}/${key}@${tag}`,
        payload: { bucket, key, eTag: tag },
        kind: PLAN_JOB,
        subject: `${workspace} ${key}`,
      },
    );
    outcomes.push({ key, ...done });
  }
  return { bundles: outcomes };
}

/** Whether FC's retry may still succeed: then an environment is not marked failed yet. */
const final = (error: unknown) => (error as { retryable?: boolean }).retryable !== true;

export const handler = defineHandler({
  http: (request, ctx) => (isEnvPath(request.path) ? handleEnvironments(request, ctx) : handle(request, ctx)),
  oss: onBundles,
  // Environments: reminders, destroys at expiry, retries of failed destroys (the trigger time is "now").
  // Drift checks of workspaces whose schedule is due.
  timer: {
    run: async (input, ctx) => ({
      environments: await environmentsTick(ctx, input.triggerTime),
      drift: await driftTick(ctx, input.triggerTime),
    }),
  },
  jobs: {
    // A push plans a workspace at a commit once, however many deliveries name it; an environment's
    // operation is planned once per attempt.
    [PLAN_JOB]: jobRoute(PlanJobSchema, (job, _m, ctx) =>
      ctx.once(
        async (run) => {
          try {
            const outcome = await planWorkspace(ctx, run, job);
            await afterPlan(ctx, job, run.id, { ok: outcome });
            return outcome;
          } catch (error) {
            if (final(error)) await afterPlan(ctx, job, run.id, { error: error as Error });
            throw error;
          }
        },
        {
          kind: PLAN_JOB,
          subject: `${job.workspace} ${job.purpose ? `${job.purpose} ` : ''}${job.source.kind === 'commit' ? job.source.commit.slice(0, 12) : job.source.key}`,
          ...(job.trigger === 'push' && job.source.kind === 'commit'
            ? {
                key: planKey(job.workspace, job.source.commit),
                payload: { workspace: job.workspace, commit: job.source.commit },
              }
            : job.trigger === 'env'
              ? {
                  key: `env-plan:${job.workspace}:${job.purpose}:${job.attempt ?? 1}`,
                  payload: { workspace: job.workspace, purpose: job.purpose, attempt: job.attempt ?? 1 },
                }
              : {}),
        },
      ),
    ),
    // One check per unit and firing of its schedule.
    [DRIFT_JOB]: jobRoute(DriftJobSchema, (job, _m, ctx) =>
      ctx.once((run) => checkDrift(ctx, run, job), {
        kind: DRIFT_JOB,
        subject: job.workspace,
        key: `drift:${job.workspace}:${job.due}`,
        payload: { workspace: job.workspace, due: job.due },
      }),
    ),
    // One apply per plan, whoever asked for it and however often.
    [APPLY_JOB]: jobRoute(ApplyJobSchema, (job, _m, ctx) =>
      ctx.once(
        async (run) => {
          try {
            const outcome = await applyPlan(ctx, run, job);
            await afterApply(ctx, job, run.id, { ok: outcome });
            return outcome;
          } catch (error) {
            if (final(error)) await afterApply(ctx, job, run.id, { error: error as Error });
            throw error;
          }
        },
        {
          kind: APPLY_JOB,
          subject: `${job.workspace} ${job.planId}`,
          key: `apply:${job.planId}`,
          payload: { planId: job.planId },
        },
      ),
    ),
  },
});
