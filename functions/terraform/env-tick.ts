// The environments' timer: reminders before expiry, the destroy at expiry, retries of a failed destroy.
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import { stateLockName } from './backend.ts';
import { destroyFailed, envNotice, startDestroy } from './env-lifecycle.ts';
import { asEnv, type Environment, EXPIRABLE, LIVE, timerStep } from './env-model.ts';
import { workspaceLock, workspaceOf } from './workspace.ts';

export interface TickOutcome {
  environment: string;
  did: string;
}

/**
 * One pass over the live environments at `now` (the timer's trigger time). Each step is once per
 * environment whatever FC redelivers: reminders are keyed by the expiry they announce, and a
 * destroy starts with a conditional move that only one caller wins. An environment whose lock is
 * held when its destroy is due is reported (once per holder) and tried again on the next tick.
 */
export async function environmentsTick(ctx: HandlerContext, now: Date): Promise<TickOutcome[]> {
  const live = (await ctx.store.listEnvironments({ statuses: LIVE, limit: 1000 })).map(asEnv);
  // A destroy that no run finished within three function lifetimes (a plan, an apply, retries) is lost.
  const stallMs = 3 * ctx.fc.function.timeout * 1000;
  const outcomes: TickOutcome[] = [];
  for (const env of live) {
    const template = workspaceOf(ctx.config, env.template)?.environments;
    if (!template) {
      outcomes.push({
        environment: env.id,
        did: `nothing: template ${env.template} is gone from the config`,
      });
      continue;
    }
    const step = timerStep(env, template, now, stallMs);
    if (step.do === 'nothing') continue;
    if (step.do === 'remind') {
      const done = await ctx.once(() => remind(ctx, env, now), {
        key: step.key,
        payload: { environment: env.id },
        kind: 'terraform.env.remind',
        subject: env.id,
      });
      outcomes.push({ environment: env.id, did: done.status === 'done' ? 'reminded' : 'already reminded' });
      continue;
    }
    const held = await holder(ctx, env);
    if (held) {
      await ctx.once(
        async () => {
          await envNotice(ctx, env, {
            kind: 'terraform.env.lock-held',
            severity: 'error',
            summary: `environment ${env.id} is due to be destroyed, but ${held.lock} is held by ${held.holder} (since ${held.since}); trying again on each tick`,
            details: { next: `if nothing runs there any more: fc-devops terraform unlock ${env.id}` },
          });
        },
        {
          key: `env-lock:${env.id}:${held.lock}:${held.token}`,
          payload: { environment: env.id },
          kind: 'terraform.env.lock-held',
          subject: env.id,
        },
      );
      outcomes.push({ environment: env.id, did: `waiting: ${held.lock} is held by ${held.holder}` });
      continue;
    }
    if (step.do === 'stalled') {
      await destroyFailed(ctx, env, `the destroy started at ${step.since} did not finish (no run ended it)`);
      outcomes.push({ environment: env.id, did: 'destroy stalled: counted as a failed attempt' });
      continue;
    }
    const started =
      step.do === 'destroy'
        ? await startDestroy(ctx, env, {
            from: EXPIRABLE,
            by: 'timer',
            reason: 'expired',
            attempt: 1,
            at: now,
          })
        : await startDestroy(ctx, env, {
            from: ['destroy-failed'],
            by: 'timer',
            reason: env.meta.op?.reason ?? 'expired',
            attempt: step.attempt,
            at: now,
          });
    outcomes.push({
      environment: env.id,
      did: started
        ? step.do === 'destroy'
          ? 'destroying (expired)'
          : `destroying (attempt ${step.attempt})`
        : 'someone else started it',
    });
  }
  return outcomes;
}

async function holder(ctx: HandlerContext, env: Environment) {
  for (const lock of [workspaceLock(env.id), stateLockName(env.id)]) {
    const h = await ctx.store.lockHolder(lock);
    if (h) return { lock, holder: h.holder, token: h.token, since: h.acquiredAt.toISOString() };
  }
  return undefined;
}

async function remind(ctx: HandlerContext, env: Environment, now: Date) {
  const minutes = Math.max(0, Math.round((env.expiresAt.getTime() - now.getTime()) / 60_000));
  await envNotice(ctx, env, {
    kind: 'terraform.env.expiring',
    severity: 'warning',
    summary: `environment ${env.id} is destroyed in ${minutes} min (at ${env.expiresAt.toISOString()})`,
    details: {
      expiresAt: env.expiresAt.toISOString(),
      next: `keep it longer: fc-devops env extend ${env.id} --by 2h`,
    },
  });
}
