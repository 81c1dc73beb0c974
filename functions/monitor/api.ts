import * as z from 'zod/mini';
import { guarded } from '../../shared/auth/guard.ts';
import { allowed } from '../../shared/auth/roles.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import { parseCloudMonitorAlarm } from '../../shared/events/cloudmonitor.ts';
import { type HttpRequest, type HttpResponse, json, parseJsonBody } from '../../shared/events/http.ts';
import { lazySchema } from '../../shared/events/parse.ts';
import { humanText } from '../../shared/events/text.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import { safeEqual } from '../../shared/util/compare.ts';
import { sha256Hex } from '../../shared/util/hash.ts';
import { own } from '../../shared/util/records.ts';
import { takeAction } from './actions.ts';
import type { CheckState } from './incident.ts';
import { checksHere } from './round.ts';
import { activeAt, addSilence, endSilence, silences } from './silences.ts';

const MAX_SILENCE_MS = 30 * 86_400_000;
const WINDOWS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };

const SilenceBody = lazySchema(() =>
  z.strictObject({
    checks: z
      .array(z.string().check(z.regex(/^(\*|[a-z][a-z0-9-]{0,62})$/, 'a check name or *')))
      .check(z.minLength(1), z.maxLength(200)),
    until: z.iso.datetime({ offset: true }),
    reason: z.pipe(humanText(500), z.string().check(z.minLength(1))),
  }),
);

const CHECK = /^\/checks\/([a-z][a-z0-9-]{0,62})(\/history)?\/?$/;
const SILENCE_END = /^\/silences\/(sil-[a-z0-9]{1,16})\/end\/?$/;
const ALARM = /^\/alarms\/([^/]{1,200})\/?$/;

/**
 * The monitor endpoints:
 *   GET  /checks                    every check here: up or down, since when, availability over 24 h (view)
 *   GET  /checks/<c>                one check: its state and latency/availability over 1 h, 24 h, 7 d, 30 d (view)
 *   GET  /checks/<c>/history        its probes, newest first (?limit=, at most 1000) (view)
 *   GET  /silences                  silences in force (view)
 *   POST /silences                  {checks, until, reason}: no alerts for them until then (silence)
 *   POST /silences/<id>/end         end one early (silence)
 *   POST /alarms/<secret>           a CloudMonitor alarm callback (the secret authenticates it)
 */
export async function handle(request: HttpRequest, ctx: HandlerContext): Promise<HttpResponse> {
  const alarm = ALARM.exec(request.path);
  if (alarm) return onAlarm(request, ctx, alarm[1]!);
  const method = (m: string) =>
    request.method === m
      ? undefined
      : json(405, { error: 'MethodNotAllowed', message: `use ${m} for ${request.path}` }, { allow: m });
  if (request.path.replace(/\/$/, '') === '/checks')
    return (
      method('GET') ??
      guarded(request, { action: 'view', target: 'monitor' }, ctx.guardDeps, () => overview(ctx))
    );
  const check = CHECK.exec(request.path);
  if (check) {
    const name = check[1]!;
    return (
      method('GET') ??
      guarded(request, { action: 'view', target: name }, ctx.guardDeps, async () => {
        if (!own(ctx.config.monitoring.checks, name))
          return json(404, { error: 'CheckNotFound', message: `no monitoring check named ${name}` });
        return check[2] ? history(ctx, name, request.query.limit) : detail(ctx, name);
      })
    );
  }
  if (request.path.replace(/\/$/, '') === '/silences') {
    if (request.method === 'GET')
      return guarded(request, { action: 'view', target: 'monitor' }, ctx.guardDeps, async () =>
        json(200, { silences: activeAt(await silences(ctx.store), ctx.now()) }),
      );
    return method('POST') ?? silence(request, ctx);
  }
  const end = SILENCE_END.exec(request.path);
  if (end) return method('POST') ?? endOne(request, ctx, end[1]!);
  return json(404, { error: 'NotFound', message: `no endpoint ${request.method} ${request.path}` });
}

async function overview(ctx: HandlerContext) {
  const states = new Map(
    (await ctx.store.monitorStates<CheckState>())
      .filter((s) => s.region === ctx.config.region)
      .map((s) => [s.check, s.state]),
  );
  const since = new Date(ctx.now().getTime() - WINDOWS['24h']);
  const checks = [];
  for (const [name, check] of checksHere(ctx)) {
    const s = states.get(name);
    checks.push({
      check: name,
      kind: check.kind,
      status: !s?.lastDue ? 'unknown' : s.down ? 'down' : 'up',
      since: s?.incident?.since ?? null,
      lastProbe: s?.lastDue ?? null,
      objective: s?.objective ?? null,
      last24h: await ctx.store.sampleStats(name, since, ctx.config.region),
    });
  }
  return json(200, { region: ctx.config.region, checks });
}

async function detail(ctx: HandlerContext, name: string) {
  const s = (await ctx.store.monitorStates<CheckState>()).find(
    (x) => x.check === name && x.region === ctx.config.region,
  )?.state;
  const now = ctx.now().getTime();
  const windows: Record<string, unknown> = {};
  for (const [label, ms] of Object.entries(WINDOWS))
    windows[label] = await ctx.store.sampleStats(name, new Date(now - ms), ctx.config.region);
  const quiet = activeAt(await silences(ctx.store), ctx.now()).filter(
    (x) => x.checks.includes(name) || x.checks.includes('*'),
  );
  return json(200, {
    check: name,
    region: ctx.config.region,
    status: !s?.lastDue ? 'unknown' : s.down ? 'down' : 'up',
    state: s ?? null,
    silences: quiet,
    windows,
  });
}

async function history(ctx: HandlerContext, name: string, limitText: string | undefined) {
  const limit = limitText === undefined ? 100 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    return json(400, {
      error: 'InvalidRequest',
      message: 'query.limit must be an integer from 1 to 1000',
      field: 'query.limit',
    });
  const samples = await ctx.store.readSamples(name, { limit, region: ctx.config.region });
  return json(200, {
    check: name,
    samples: samples.map((s) => ({
      at: s.at.toISOString(),
      up: s.up,
      latencyMs: s.latencyMs,
      status: s.status,
      error: s.error,
      detail: s.detail,
    })),
  });
}

async function silence(request: HttpRequest, ctx: HandlerContext) {
  // Authorized for every check it names; the body is read once the caller is known.
  let checks: string[] = [];
  try {
    const raw = JSON.parse(request.body.toString('utf8') || '{}') as { checks?: unknown };
    if (Array.isArray(raw.checks)) checks = raw.checks.filter((c): c is string => typeof c === 'string');
  } catch {
    checks = [];
  }
  const authorize = (k: string) =>
    checks.length > 0 && checks.every((c) => allowed(ctx.config.access.keys, k, 'silence', c));
  return guarded(
    request,
    { action: 'silence', target: checks.join(',').slice(0, 200) || 'monitor', authorize },
    ctx.guardDeps,
    async (keyId) => {
      const body = parseJsonBody(request, SilenceBody);
      const unknown = body.checks.filter((c) => c !== '*' && !own(ctx.config.monitoring.checks, c));
      if (unknown.length)
        return json(400, {
          error: 'CheckNotFound',
          message: `body.checks: no monitoring check named ${unknown.join(', ')}`,
          field: 'body.checks',
        });
      const until = Date.parse(body.until);
      const now = ctx.now().getTime();
      if (until <= now)
        return json(400, {
          error: 'InvalidRequest',
          message: 'body.until is in the past',
          field: 'body.until',
        });
      if (until - now > MAX_SILENCE_MS)
        return json(400, {
          error: 'InvalidRequest',
          message: 'body.until: a silence lasts at most 30 days',
          field: 'body.until',
        });
      const made = await addSilence(ctx.store, {
        checks: body.checks,
        until: new Date(until).toISOString(),
        reason: body.reason,
        by: keyId,
      });
      await ctx.events
        .publish({
          kind: 'monitor.silenced',
          severity: 'info',
          subject: body.checks.join(', '),
          summary: `${keyId} silenced ${body.checks.join(', ')} until ${made.until}: ${body.reason}`,
        })
        .catch((e: Error) => ctx.log.warn('event not published', { error: e.message }));
      return json(201, { silence: made });
    },
  );
}

async function endOne(request: HttpRequest, ctx: HandlerContext, id: string) {
  const found = (await silences(ctx.store)).find((s) => s.id === id);
  const authorize = (k: string) =>
    !!found && found.checks.every((c) => allowed(ctx.config.access.keys, k, 'silence', c));
  return guarded(request, { action: 'silence', target: id, authorize }, ctx.guardDeps, async (keyId) => {
    if (!found) return json(404, { error: 'SilenceNotFound', message: `no silence ${id}` });
    if (found.ended || Date.parse(found.until) <= ctx.now().getTime())
      return json(409, { error: 'SilenceOver', message: `silence ${id} is already over` });
    return json(200, { silence: await endSilence(ctx.store, found, keyId, ctx.now()) });
  });
}

/**
 * A CloudMonitor alarm callback: one event per alarm, state and time however often it is delivered
 * (CloudMonitor retries; so may a proxy), and the alarm's action, if it names one, once.
 */
async function onAlarm(request: HttpRequest, ctx: HandlerContext, secret: string): Promise<HttpResponse> {
  if (request.method !== 'POST')
    return json(
      405,
      { error: 'MethodNotAllowed', message: 'CloudMonitor POSTs its alarms' },
      { allow: 'POST' },
    );
  const receiver = ctx.config.monitoring.alarms;
  const expected = receiver ? resolveSecret(receiver.secret, process.env) : undefined;
  // No receiver, or its secret unset, refuses every callback rather than accepting any.
  if (!expected || !safeEqual(secret, expected)) {
    await ctx.store.audit({
      actor: 'cloudmonitor',
      action: 'monitor.alarm',
      target: 'monitor',
      decision: 'refused',
      reason: 'the secret in the callback URL is wrong',
      ...(request.sourceIp ? { source: request.sourceIp } : {}),
    });
    return json(401, { error: 'Unauthorized', message: 'the secret in the callback URL is wrong' });
  }
  const alarm = parseCloudMonitorAlarm(request.body, request.headers['content-type']);
  const key = `${alarm.alertName}:${alarm.alertState}:${alarm.timestamp}`;
  const action = alarm.alertState === 'ALERT' ? own(receiver!.actions, alarm.alertName) : undefined;
  const outcome = await ctx.once(
    async () => {
      const dimensions = alarm.dimensions
        .map((d) =>
          Object.entries(d)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        )
        .join('; ');
      await ctx.events.publish({
        id: `alarm-${sha256Hex(key).slice(0, 40)}`,
        kind: alarm.alertState === 'OK' ? 'monitor.alarm.cleared' : 'monitor.alarm',
        severity: alarm.alertState === 'ALERT' ? receiver!.severity : 'info',
        subject: alarm.alertName,
        summary: `CloudMonitor ${alarm.alertState === 'OK' ? 'cleared' : alarm.alertState}: ${alarm.alertName} (${alarm.metricProject ?? ''} ${alarm.metricName}${alarm.curValue ? ` = ${alarm.curValue}` : ''})${dimensions ? ` on ${dimensions}` : ''}`,
        details: { metric: alarm.metricName, state: alarm.alertState, ...(dimensions ? { dimensions } : {}) },
      });
      const taken = action
        ? await takeAction(
            ctx,
            action,
            `alarm:${sha256Hex(key).slice(0, 32)}`,
            `alarm:${alarm.alertName}`,
            `CloudMonitor alarm ${alarm.alertName}`,
          )
        : undefined;
      return { alarm: alarm.alertName, state: alarm.alertState, ...(taken ? { action: taken } : {}) };
    },
    { key: `monitor:alarm:${key}`, kind: 'monitor.alarm', subject: alarm.alertName, payload: { key } },
  );
  return json(outcome.status === 'duplicate' ? 200 : 202, {
    ...(outcome.result as object),
    duplicate: outcome.status === 'duplicate',
  });
}
