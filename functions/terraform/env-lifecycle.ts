// What happens to an environment when its plans and applies end, and how a destroy starts.
import { enqueueJob } from '../../shared/cloud/jobs.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import { PLAN_JOB, type PlanJob } from '../../shared/terraform/plan-job.ts';
import type { ApplyOutcome } from './apply.ts';
import {
  asEnv,
  type Environment,
  type EnvMeta,
  type EnvStatus,
  hoursBetween,
  outputsOf,
  resourcesIn,
  retryDelayMs,
} from './env-model.ts';
import type { PlanOutcome } from './plan.ts';
import { SELF } from './plan.ts';
import { seal } from './seal.ts';
import { planKey, workspaceLock, workspaceOf } from './workspace.ts';

/** Labels every notice about an environment carries: routes send them to its owner (`labels: {owner: …}`). */
export const envLabels = (env: Environment) => ({
  owner: env.owner,
  environment: env.id,
  template: env.template,
});

export async function envNotice(
  ctx: HandlerContext,
  env: Environment,
  notice: {
    kind: string;
    severity: 'info' | 'warning' | 'error' | 'critical';
    summary: string;
    runId?: string | undefined;
    details?: Record<string, unknown>;
  },
) {
  await ctx.events
    .publish({
      kind: notice.kind,
      severity: notice.severity,
      subject: `environment ${env.id}`,
      summary: notice.summary,
      labels: envLabels(env),
      ...(notice.runId ? { runId: notice.runId } : {}),
      details: { environment: env.id, template: env.template, owner: env.owner, ...notice.details },
    })
    .catch((error: Error) => ctx.log.warn('event not published', { error: error.message }));
}

const move = async (
  ctx: HandlerContext,
  env: Environment,
  from: readonly EnvStatus[],
  to: EnvStatus,
  meta: Partial<EnvMeta>,
  expiresAt?: Date,
) => {
  const moved = await ctx.store.updateEnvironment(env.id, {
    from,
    to,
    meta: meta as Record<string, unknown>,
    ...(expiresAt ? { expiresAt } : {}),
  });
  return moved ? asEnv(moved) : undefined;
};

/**
 * Start destroy attempt `attempt` of an environment: it moves to `destroying` in one conditional
 * write (two timers, or a timer and an operator, cannot both start it), then the destroy is planned
 * (once per attempt, however often the job is delivered). Undefined when it was not in `from`.
 */
export async function startDestroy(
  ctx: HandlerContext,
  env: Environment,
  how: {
    from: readonly EnvStatus[];
    by: string;
    reason: string;
    attempt: number;
    /** When it starts: the timer's trigger time, or now (the stall check counts from it). */
    at?: Date;
  },
): Promise<Environment | undefined> {
  const moved = await move(ctx, env, how.from, 'destroying', {
    op: {
      kind: 'destroy',
      attempt: how.attempt,
      startedAt: (how.at ?? ctx.now()).toISOString(),
      by: how.by,
      reason: how.reason,
    },
    nextAttemptAt: null,
  });
  if (!moved) return undefined;
  const job: PlanJob = {
    workspace: env.id,
    template: env.template,
    trigger: 'env',
    purpose: 'env-destroy',
    requestedBy: how.by,
    source: env.meta.source,
    variables: env.meta.variables,
    attempt: how.attempt,
  };
  await enqueueJob(ctx.cloud.fc, SELF, {
    kind: PLAN_JOB,
    idempotencyKey: `env-destroy:${env.id}:${how.attempt}`,
    payload: job,
    correlationId: ctx.correlationId,
  });
  return moved;
}

/** Plan the creation of a new environment (once, however often the job is delivered). */
export async function startCreate(ctx: HandlerContext, env: Environment) {
  const job: PlanJob = {
    workspace: env.id,
    template: env.template,
    trigger: 'env',
    purpose: 'env-create',
    requestedBy: env.owner,
    source: env.meta.source,
    variables: env.meta.variables,
    attempt: 1,
  };
  return enqueueJob(ctx.cloud.fc, SELF, {
    kind: PLAN_JOB,
    idempotencyKey: `env-create:${env.id}`,
    payload: job,
    correlationId: ctx.correlationId,
  });
}

const load = async (ctx: HandlerContext, id: string) => {
  const found = await ctx.store.getEnvironment(id);
  return found ? asEnv(found) : undefined;
};

/** An environment's plan ended: note the plan it waits on, or what failed; an empty destroy plan finishes it. */
export async function afterPlan(
  ctx: HandlerContext,
  job: PlanJob,
  runId: string,
  outcome: { ok: PlanOutcome } | { error: Error },
): Promise<void> {
  if (!job.template || !job.purpose) return;
  const env = await load(ctx, job.workspace);
  if (!env) return;
  if ('error' in outcome) {
    if (job.purpose === 'env-create') return createFailed(ctx, env, outcome.error.message, runId);
    return destroyFailed(ctx, env, `planning the destroy failed: ${outcome.error.message}`, runId);
  }
  const result = outcome.ok;
  if ('skipped' in result) return;
  const status = env.status;
  const op = env.meta.op && {
    ...env.meta.op,
    planId: result.planId,
    runId,
    awaitingApproval: result.status === 'awaiting-approval',
  };
  if (job.purpose === 'env-create') {
    if (result.status === 'empty') return finishCreate(ctx, env, runId);
    await move(ctx, env, ['creating'], 'creating', op ? { op } : {});
    return;
  }
  if (result.status === 'empty') return finishDestroy(ctx, env, runId);
  if (status === 'destroying') await move(ctx, env, ['destroying'], 'destroying', op ? { op } : {});
}

/** An environment's apply ended: it is ready, or gone, or what failed is recorded and told. */
export async function afterApply(
  ctx: HandlerContext,
  job: { workspace: string; planId: string; template?: string | undefined },
  runId: string,
  outcome: { ok: ApplyOutcome } | { error: Error },
): Promise<void> {
  if (!job.template) return;
  const env = await load(ctx, job.workspace);
  if (!env) return;
  const plan = await ctx.store.getPlan(job.planId);
  const purpose = plan?.meta.purpose;
  const failed =
    'error' in outcome
      ? outcome.error.message
      : outcome.ok.status === 'applied'
        ? undefined
        : `the apply was ${outcome.ok.status}: ${outcome.ok.reason}`;
  if (purpose === 'env-create') {
    if (failed) return createFailed(ctx, env, failed, runId);
    return finishCreate(ctx, env, runId);
  }
  if (purpose === 'env-destroy') {
    if (failed) return destroyFailed(ctx, env, failed, runId);
    return finishDestroy(ctx, env, runId);
  }
}

/**
 * A person rejected an environment's plan: its creation failed (the timer still destroys whatever
 * it holds at its end), or this destroy attempt failed (listed, retried, escalated as any other).
 */
export async function afterReject(
  ctx: HandlerContext,
  plan: { workspace: string; id: string; meta: { purpose?: string } },
  by: string,
) {
  const env = await load(ctx, plan.workspace);
  if (!env) return;
  const reason = `${by} rejected plan ${plan.id}`;
  if (plan.meta.purpose === 'env-create') return createFailed(ctx, env, reason, undefined);
  if (plan.meta.purpose === 'env-destroy') return destroyFailed(ctx, env, reason);
}

async function finishCreate(ctx: HandlerContext, env: Environment, runId: string) {
  const state = (await ctx.store.getState(env.id))?.data;
  const outputs = outputsOf(state);
  const values = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
  const moved = await move(ctx, env, ['creating'], 'active', {
    outputs: seal(Buffer.from(JSON.stringify(values)), planKey(ctx.config), env.id).toString('base64'),
    outputNames: Object.keys(outputs).sort(),
    // Its plan was approved and applied: the operation no longer waits on anyone.
    ...(env.meta.op ? { op: { ...env.meta.op, awaitingApproval: false } } : {}),
  });
  if (!moved) return;
  await envNotice(ctx, moved, {
    kind: 'terraform.env.created',
    severity: 'info',
    summary: `environment ${env.id} (${env.template}) is ready until ${moved.expiresAt.toISOString()}`,
    runId,
    details: {
      expiresAt: moved.expiresAt.toISOString(),
      // The values (connection strings) go only to the owner, over a signed request.
      outputs: `${Object.keys(outputs).sort().join(', ') || 'none'}: fc-devops env show ${env.id}`,
      next: `extend it: fc-devops env extend ${env.id} --by 2h; destroy it now: fc-devops env destroy ${env.id}`,
    },
  });
}

async function createFailed(
  ctx: HandlerContext,
  env: Environment,
  reason: string,
  runId: string | undefined,
) {
  const moved = await move(ctx, env, ['creating'], 'create-failed', {
    failure: { at: ctx.now().toISOString(), reason: reason.slice(0, 4000), attempt: 1 },
  });
  if (!moved) return;
  await envNotice(ctx, moved, {
    kind: 'terraform.env.create-failed',
    severity: 'error',
    summary: `environment ${env.id} was not created: ${reason.slice(0, 1500)}`,
    runId,
    details: {
      next: `whatever was made is destroyed when its time is up (${moved.expiresAt.toISOString()}), or now: fc-devops env destroy ${env.id}`,
    },
  });
}

/**
 * A destroy ended: the state must hold no resources; then the environment's state is forgotten
 * (under its lock) and it is marked destroyed with the hours it lived.
 */
async function finishDestroy(ctx: HandlerContext, env: Environment, runId: string) {
  const lock = await ctx.store.acquireLock(workspaceLock(env.id), { owner: runId, ttlMs: 60_000 });
  if (!lock.acquired)
    return destroyFailed(
      ctx,
      env,
      `could not take ${workspaceLock(env.id)} to finish (held by ${lock.holder})`,
      runId,
    );
  const fence = { lock: lock.name, owner: runId, token: lock.token };
  try {
    const left = resourcesIn((await ctx.store.getState(env.id))?.data);
    if (left.length > 0)
      return await destroyFailed(
        ctx,
        env,
        `after the destroy the state still holds ${left.join(', ')}`,
        runId,
      );
    const now = ctx.now();
    // From destroy-failed too: FC's retry of a job that had failed once may still finish it.
    const moved = await move(ctx, env, ['destroying', 'destroy-failed'], 'destroyed', {
      destroyedAt: now.toISOString(),
      hoursLived: hoursBetween(env.createdAt, now),
      nextAttemptAt: null,
      ...(env.meta.op ? { op: { ...env.meta.op, awaitingApproval: false } } : {}),
    });
    if (!moved) return;
    const versions = await ctx.store.deleteStates(env.id, { fence });
    await envNotice(ctx, moved, {
      kind: 'terraform.env.destroyed',
      severity: 'info',
      summary: `environment ${env.id} (${env.template}) was destroyed after ${moved.meta.hoursLived} h${env.meta.op?.reason ? ` (${env.meta.op.reason})` : ''}`,
      runId,
      details: {
        hoursLived: moved.meta.hoursLived,
        attempt: env.meta.op?.attempt ?? 1,
        by: env.meta.op?.by,
        stateVersionsDeleted: versions,
      },
    });
  } finally {
    await ctx.store.releaseLock(fence).catch(() => {});
  }
}

/**
 * A destroy attempt failed: the environment is `destroy-failed` (listed first), a critical notice
 * carries Terraform's diagnostics, and the next attempt waits a growing pause, until the template's
 * attempts are used up and a person has to look.
 */
export async function destroyFailed(ctx: HandlerContext, env: Environment, reason: string, runId?: string) {
  const template = workspaceOf(ctx.config, env.template)?.environments;
  const attempts = template?.destroyAttempts ?? 1;
  const attempt = env.meta.op?.kind === 'destroy' ? env.meta.op.attempt : 1;
  const last = attempt >= attempts;
  const now = ctx.now();
  const next = last ? null : new Date(now.getTime() + retryDelayMs(attempt)).toISOString();
  const moved = await move(ctx, env, ['destroying'], 'destroy-failed', {
    failure: { at: now.toISOString(), reason: reason.slice(0, 4000), attempt },
    nextAttemptAt: next,
  });
  if (!moved) return;
  const tail = runId ? await ctx.store.readRunLog(runId, { tailBytes: 3000 }).catch(() => '') : '';
  await envNotice(ctx, moved, {
    kind: 'terraform.env.destroy-failed',
    severity: 'critical',
    summary: `destroying environment ${env.id} failed (attempt ${attempt} of ${attempts}): ${reason.slice(0, 1500)}`,
    runId,
    details: {
      attempt,
      attempts,
      next: last
        ? `no attempts left: it stays at the top of fc-devops env list; try again with fc-devops env destroy ${env.id}, or after cleaning up by hand: fc-devops env handled ${env.id} --reason "…"`
        : `trying again at ${next}`,
      ...(tail ? { logTail: tail } : {}),
    },
  });
}
