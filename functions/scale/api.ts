// The scale endpoints: status, a change by hand (or its dry run), freeze, preview; CloudMonitor's alarms.
import * as z from 'zod/mini';
import { guarded } from '../../shared/auth/guard.ts';
import { enqueueJob } from '../../shared/cloud/jobs.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import { parseCloudMonitorAlarm } from '../../shared/events/cloudmonitor.ts';
import { type HttpRequest, type HttpResponse, json, parseJsonBody } from '../../shared/events/http.ts';
import { lazySchema } from '../../shared/events/parse.ts';
import { humanText } from '../../shared/events/text.ts';
import { SCALE_ALARM_JOB } from '../../shared/jobs/scale-alarm.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import { MissingCalendarYear } from '../../shared/schedule/calendar.ts';
import { safeEqual } from '../../shared/util/compare.ts';
import { readAlarm } from './alarms.ts';
import { change, limitsOf, SELF, targetOf, withWindows } from './change.ts';
import { FIRING, type TargetState } from './planner.ts';
import { type AlarmEntry, type FreezeEntry, keys, remember, remembered } from './record.ts';
import { rulesOf } from './rules.ts';
import { observe } from './target.ts';
import { firings, simulate } from './timeline.ts';

export const ALARM_JOB = SCALE_ALARM_JOB;

const SetBody = lazySchema(() =>
  z.strictObject({
    desired: z.int().check(z.gte(0), z.lte(2000)),
    reason: z.pipe(humanText(500), z.string().check(z.minLength(1, 'say why'))),
    /** Bring a number outside the bounds within them instead of refusing it. */
    clamp: z._default(z.boolean(), false),
    dryRun: z._default(z.boolean(), false),
  }),
);
const FreezeBody = lazySchema(() =>
  z.strictObject({
    reason: z.pipe(humanText(500), z.string().check(z.minLength(1, 'say why'))),
    minutes: z.optional(z.int().check(z.gte(1), z.lte(30 * 24 * 60))),
  }),
);
const UnfreezeBody = lazySchema(() => z.strictObject({ reason: z.optional(humanText(500)) }));

const TARGET = /^\/targets\/([a-z][a-z0-9-]{0,62})(?:\/(set|freeze|unfreeze|preview))?\/?$/;
const ALARM = /^\/alarms\/([a-z][a-z0-9-]{0,62})\/([^/]{1,200})\/?$/;

/**
 * The scale endpoints (below the function's HTTP trigger):
 *   GET  /targets/<t>                        the target now: size, bounds, activity, hold, freeze   (view)
 *   GET  /targets/<t>/preview?days=14        what its schedules will do, rule by rule               (view)
 *   POST /targets/<t>/set {desired, reason, clamp?, dryRun?}                                        (scale)
 *   POST /targets/<t>/freeze {reason, minutes?}, /unfreeze {reason?}                                (scale)
 *   POST /alarms/<t>/<secret>                 a CloudMonitor alarm callback (the secret authenticates it)
 */
export async function handle(request: HttpRequest, ctx: HandlerContext): Promise<HttpResponse> {
  const alarm = ALARM.exec(request.path);
  if (alarm) return onAlarm(request, ctx, alarm[1]!, alarm[2]!);
  const m = TARGET.exec(request.path);
  if (!m) return json(404, { error: 'NotFound', message: `no endpoint ${request.method} ${request.path}` });
  const name = m[1]!;
  const op = m[2] ?? 'status';
  const method = op === 'status' || op === 'preview' ? 'GET' : 'POST';
  if (request.method !== method)
    return json(
      405,
      { error: 'MethodNotAllowed', message: `use ${method} for ${request.path}` },
      { allow: method },
    );
  const action = method === 'GET' ? 'view' : 'scale';
  return guarded(request, { action, target: name }, ctx.guardDeps, async (keyId) => {
    const t = targetOf(ctx, name);
    if (!t) return json(404, { error: 'TargetNotFound', message: `no scaling target named ${name}` });
    switch (op) {
      case 'status':
        return json(200, await status(ctx, name));
      case 'preview':
        return preview(request, ctx, name);
      case 'set':
        return set(request, ctx, name, keyId);
      case 'freeze': {
        const body = parseJsonBody(request, FreezeBody);
        const until = body.minutes
          ? new Date(ctx.now().getTime() + body.minutes * 60_000).toISOString()
          : undefined;
        await remember<FreezeEntry>(
          ctx.store,
          keys.freeze(name),
          { frozen: true, reason: body.reason, by: keyId, ...(until ? { until } : {}) },
          keyId,
        );
        await tell(
          ctx,
          'scale.frozen',
          name,
          `${keyId} froze ${name}${until ? ` until ${until}` : ''}: ${body.reason}`,
        );
        return json(200, await status(ctx, name));
      }
      default: {
        const body = parseJsonBody(request, z._default(UnfreezeBody, {}));
        await remember<FreezeEntry>(
          ctx.store,
          keys.freeze(name),
          { frozen: false, reason: body.reason ?? `unfrozen by ${keyId}`, by: keyId },
          keyId,
        );
        await tell(ctx, 'scale.unfrozen', name, `${keyId} unfroze ${name}`);
        return json(200, await status(ctx, name));
      }
    }
  });
}

async function status(ctx: HandlerContext, name: string) {
  const t = targetOf(ctx, name)!;
  const now = ctx.now();
  const cloud = await observe(ctx.cloud, t);
  const rem = withWindows(ctx, name, await remembered(ctx.store, name, now), now);
  const limits = limitsOf(t, cloud);
  return {
    target: name,
    kind: t.kind,
    desired: cloud.desired,
    bounds: { min: limits.min, max: limits.max, maxStep: limits.maxStep },
    cooldowns: { outSeconds: limits.cooldownOutSeconds, inSeconds: limits.cooldownInSeconds },
    autoscaler: cloud.autoscaler,
    activity: cloud.busy ?? null,
    load: cloud.load,
    hold: rem.hold ? { ...rem.hold, until: rem.hold.until.toISOString() } : null,
    frozen: rem.frozen ? { ...rem.frozen, until: rem.frozen.until?.toISOString() ?? null } : null,
    alarmFloor:
      rem.alarmFloor && rem.alarmFloor.until > now
        ? {
            ...rem.alarmFloor,
            until:
              rem.alarmFloor.until.getTime() >= FIRING
                ? 'while it fires'
                : rem.alarmFloor.until.toISOString(),
          }
        : null,
    lastChange: rem.last ?? null,
  };
}

async function set(request: HttpRequest, ctx: HandlerContext, name: string, keyId: string) {
  const body = parseJsonBody(request, SetBody);
  const out = await change(ctx, {
    target: name,
    ask: { source: 'hand', desired: body.desired, by: keyId, clamp: body.clamp },
    by: keyId,
    reason: body.reason,
    at: ctx.now(),
    dryRun: body.dryRun,
  });
  if (out.status === 'busy')
    return json(409, {
      error: 'InProgress',
      message: `${name} is being changed by ${out.holder}; try again after it`,
      state: { holder: out.holder, until: out.until },
    });
  if (out.status === 'dry-run') return json(200, { dryRun: true, target: name, plan: out.decision });
  if (out.status === 'changed') return json(200, out);
  const refused = out.decision.change ? undefined : out.decision.refused;
  if (!refused) return json(200, { ...out, message: `${name} stays at ${out.decision.from}` });
  const code = refused.rule === 'bounds' ? 400 : 409;
  return json(code, {
    error:
      refused.rule === 'bounds'
        ? 'OutOfBounds'
        : refused.rule === 'in-progress'
          ? 'ActivityInProgress'
          : 'Refused',
    rule: refused.rule,
    message: `${name} was not changed: ${refused.why}`,
    ...(refused.rule === 'bounds'
      ? { hint: 'send "clamp": true to bring it within the bounds instead' }
      : {}),
  });
}

async function preview(request: HttpRequest, ctx: HandlerContext, name: string) {
  const days = Number(request.query.days ?? '14');
  if (!Number.isInteger(days) || days < 1 || days > 366)
    return json(400, {
      error: 'BadDays',
      message: `query.days: a whole number from 1 to 366 (got ${JSON.stringify(request.query.days?.slice(0, 20))})`,
    });
  const t = targetOf(ctx, name)!;
  const from = ctx.now();
  const to = new Date(from.getTime() + days * 86_400_000);
  const cloud = await observe(ctx.cloud, t);
  const rem = await remembered(ctx.store, name, from);
  try {
    const steps = simulate(
      limitsOf(t, cloud),
      { desired: cloud.desired, load: cloud.load, autoscaler: cloud.autoscaler, ...rem },
      firings(rulesOf(ctx.config, name), from, to),
      (at) => withWindows<{ frozen?: TargetState['frozen'] }>(ctx, name, {}, at).frozen,
    );
    return json(200, {
      target: name,
      from: from.toISOString(),
      to: to.toISOString(),
      now: cloud.desired,
      changes: steps.map((s) => ({
        at: s.at.toISOString(),
        rule: s.rule,
        ...(s.decision.change
          ? { from: s.decision.from, to: s.decision.to }
          : { stays: s.decision.from, ...(s.decision.refused ? { refused: s.decision.refused } : {}) }),
        ...(s.decision.notes.length ? { notes: s.decision.notes } : {}),
      })),
    });
  } catch (error) {
    if (error instanceof MissingCalendarYear)
      return json(422, {
        error: 'MissingCalendarYear',
        message: error.message,
        year: error.year,
        file: error.file,
      });
    throw error;
  }
}

/**
 * A CloudMonitor alarm callback. It retries three times with a 5-second timeout: the change is
 * handed to a job keyed by alarm, state and time, and the answer goes back at once.
 */
async function onAlarm(
  request: HttpRequest,
  ctx: HandlerContext,
  name: string,
  secret: string,
): Promise<HttpResponse> {
  if (request.method !== 'POST')
    return json(
      405,
      { error: 'MethodNotAllowed', message: 'CloudMonitor POSTs its alarms' },
      { allow: 'POST' },
    );
  const t = targetOf(ctx, name);
  if (!t) return json(404, { error: 'TargetNotFound', message: `no scaling target named ${name}` });
  if (!t.alarms)
    return json(404, {
      error: 'NoAlarms',
      message: `target ${name} takes no alarms (no alarms in its config)`,
    });
  const expected = resolveSecret(t.alarms.secret, process.env);
  // An unset secret refuses every callback rather than accepting any.
  if (!expected || !safeEqual(secret, expected)) {
    await ctx.store.audit({
      actor: 'cloudmonitor',
      action: 'scale.alarm',
      target: name,
      decision: 'refused',
      reason: 'the secret in the callback URL is wrong',
      ...(request.sourceIp ? { source: request.sourceIp } : {}),
    });
    return json(401, { error: 'Unauthorized', message: 'the secret in the callback URL is wrong' });
  }
  const alarm = parseCloudMonitorAlarm(request.body, request.headers['content-type']);
  const now = ctx.now();
  const outcome = readAlarm(name, t.alarms.rules, alarm, t.cooldownInSeconds, now);
  if (outcome.kind === 'unknown-metric') return json(404, { error: 'UnknownMetric', message: outcome.why });
  if (outcome.kind === 'ignored') return json(200, { target: name, ignored: outcome.why });
  if (outcome.kind === 'cleared') {
    // Recovered: its floor holds for the cooldown, then scale-in may go below it.
    const [last] = await ctx.store.readHistory<AlarmEntry>(keys.alarm(name), { limit: 1 });
    if (last?.value.state === 'ALERT')
      await remember<AlarmEntry>(
        ctx.store,
        keys.alarm(name),
        {
          state: 'OK',
          alarm: alarm.alertName,
          desired: last.value.desired,
          until: outcome.floorUntil.toISOString(),
        },
        `alarm:${alarm.alertName}`,
      );
    return json(200, {
      target: name,
      cleared: alarm.alertName,
      scaleInFrom: outcome.floorUntil.toISOString(),
    });
  }
  const job = await enqueueJob(ctx.cloud.fc, SELF, {
    kind: ALARM_JOB,
    idempotencyKey: outcome.key,
    payload: {
      target: name,
      key: outcome.key,
      step: outcome.ask.source === 'alarm' ? outcome.ask.step : 0,
      alarm: alarm.alertName,
      metric: alarm.metricName,
      value: alarm.curValue ?? '',
    },
    correlationId: ctx.correlationId,
  });
  return json(202, { target: name, alarm: alarm.alertName, job: job.id, key: outcome.key });
}

export async function tell(ctx: HandlerContext, kind: string, target: string, summary: string) {
  await ctx.events
    .publish({ kind, severity: 'warning', subject: target, summary })
    .catch((error: Error) => ctx.log.warn('event not published', { error: error.message }));
}
