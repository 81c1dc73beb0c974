// The one path every change takes, whoever asks: the target's lock, what the cloud and the store
// say, the planner's decision, then the change, remembered, audited and announced.
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import { globMatches } from '../../shared/util/glob.ts';
import { startFollow } from './follow.ts';
import { type Ask, type Decision, decide, type Limits, type TargetState } from './planner.ts';
import { type AlarmEntry, type ChangeEntry, keys, remember, remembered } from './record.ts';
import { observe, setSize, type TargetConfig } from './target.ts';

export const SELF = process.env.FC_FUNCTION_NAME ?? 'scale';

export interface ChangeRequest {
  target: string;
  ask: Ask;
  /** Who asked: a key, `schedule`, or `alarm:<name>`. */
  by: string;
  reason: string;
  /** When it is decided: the timer's trigger time, or now. */
  at: Date;
  dryRun?: boolean;
}

export type ChangeOutcome =
  | {
      status: 'changed';
      target: string;
      from: number;
      to: number;
      asked: number;
      notes: Decision['notes'];
      activity: { id: string; kind: string };
    }
  | { status: 'unchanged'; target: string; decision: Decision }
  | { status: 'dry-run'; target: string; decision: Decision }
  | { status: 'busy'; target: string; holder: string; until: string };

export const targetOf = (ctx: HandlerContext, name: string): TargetConfig | undefined =>
  Object.hasOwn(ctx.config.scaling.targets, name) ? ctx.config.scaling.targets[name] : undefined;

/** The bounds a change must fit: the config's, within the group's or pool's own. */
export function limitsOf(t: TargetConfig, cloud: { min: number; max: number }): Limits {
  return {
    min: Math.max(t.min, cloud.min),
    max: Math.min(t.max, cloud.max),
    maxStep: t.maxStep ?? Math.max(1, t.max - t.min),
    cooldownOutSeconds: t.cooldownOutSeconds,
    cooldownInSeconds: t.cooldownInSeconds,
  };
}

/** A freeze window of the config covering `at` counts as a freeze (a freeze by hand is kept first). */
export function withWindows<R extends { frozen?: TargetState['frozen'] }>(
  ctx: HandlerContext,
  target: string,
  rem: R,
  at: Date,
): R {
  if (rem.frozen) return rem;
  const w = ctx.config.scaling.freezes.find(
    (f) =>
      f.targets.some((g) => globMatches(g, target)) &&
      Date.parse(f.from) <= at.getTime() &&
      at.getTime() < Date.parse(f.to),
  );
  return w
    ? {
        ...rem,
        frozen: { reason: w.reason, by: 'the freeze window in fc-devops.yaml', until: new Date(w.to) },
      }
    : rem;
}

export async function change(ctx: HandlerContext, req: ChangeRequest): Promise<ChangeOutcome> {
  const t = targetOf(ctx, req.target)!;
  const owner = `${req.by}@${ctx.requestId}`;
  const lock = await ctx.store.acquireLock(keys.lock(req.target), { owner, ttlMs: 120_000 });
  if (!lock.acquired)
    return { status: 'busy', target: req.target, holder: lock.holder, until: lock.expiresAt.toISOString() };
  const fence = { lock: lock.name, owner, token: lock.token };
  try {
    const cloud = await observe(ctx.cloud, t);
    const rem = withWindows(ctx, req.target, await remembered(ctx.store, req.target, req.at), req.at);
    const limits = limitsOf(t, cloud);
    const decision = decide(
      limits,
      { desired: cloud.desired, busy: cloud.busy, load: cloud.load, autoscaler: cloud.autoscaler, ...rem },
      req.ask,
      req.at,
    );
    if (req.dryRun) return { status: 'dry-run', target: req.target, decision };
    if (req.ask.source === 'alarm' && req.ask.step > 0)
      // While it fires, nothing scales in below what it asked for, whether or not this step could be taken.
      await remember<AlarmEntry>(
        ctx.store,
        keys.alarm(req.target),
        { state: 'ALERT', alarm: req.ask.alarm, desired: Math.min(limits.max, decision.asked) },
        req.by,
        fence,
      );
    if (!decision.change) return { status: 'unchanged', target: req.target, decision };
    const activity = await setSize(ctx.cloud, t, decision.to);
    const entry: ChangeEntry = {
      from: decision.from,
      to: decision.to,
      source: req.ask.source,
      reason: req.reason,
      by: req.by,
      activity,
      at: req.at.toISOString(),
      ...(req.ask.source === 'hand' && t.holdMinutes > 0
        ? { holdUntil: new Date(req.at.getTime() + t.holdMinutes * 60_000).toISOString() }
        : {}),
    };
    await remember(ctx.store, keys.changes(req.target), entry, req.by, fence);
    if (activity.id !== 'none')
      await startFollow(ctx, SELF, {
        target: req.target,
        activity,
        from: decision.from,
        to: decision.to,
        reason: req.reason,
        round: 1,
      });
    await ctx.store.audit({
      actor: req.by,
      action: 'scale.change',
      target: req.target,
      decision: 'done',
      reason: req.reason.slice(0, 2000),
      details: {
        from: decision.from,
        to: decision.to,
        asked: decision.asked,
        notes: decision.notes,
        activity,
      },
    });
    await ctx.events
      .publish({
        kind: 'scale.changed',
        severity: 'info',
        subject: `${req.target} (${t.kind})`,
        summary: `${req.target}: ${decision.from} → ${decision.to} (${req.ask.source}: ${req.reason})`,
        details: {
          from: decision.from,
          to: decision.to,
          asked: decision.asked,
          by: req.by,
          reason: req.reason,
          rules: decision.notes.map((n) => `${n.rule}: ${n.from} → ${n.to} (${n.why})`).join('; ') || 'none',
          activity: `${activity.kind} ${activity.id}`,
        },
      })
      .catch((error: Error) => ctx.log.warn('event not published', { error: error.message }));
    return {
      status: 'changed',
      target: req.target,
      from: decision.from,
      to: decision.to,
      asked: decision.asked,
      notes: decision.notes,
      activity,
    };
  } finally {
    await ctx.store.releaseLock(fence).catch(() => {});
  }
}
