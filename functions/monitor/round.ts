// One probe round: every check due at `due` probed at once (a slow one holds up no other), the
// results kept, each check's alert state moved on, people told, actions taken.
import type { MonitorCheck } from '../../shared/config/schema/monitoring.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import type { ProbeSample } from '../../shared/store/port.ts';
import { takeAction } from './actions.ts';
import {
  breachOf,
  type CheckState,
  certStep,
  initialState,
  inMaintenance,
  isDue,
  type Notice,
  objectiveStep,
  step,
} from './incident.ts';
import { type ProbeResult, probe } from './probe.ts';
import { activeAt, silenced, silences } from './silences.ts';

type Ctx = Pick<HandlerContext, 'config' | 'store' | 'events' | 'cloud' | 'log' | 'correlationId'>;

/** The checks this region runs. */
export function checksHere(ctx: Pick<HandlerContext, 'config'>): [string, MonitorCheck][] {
  const region = ctx.config.region;
  return Object.entries(ctx.config.monitoring.checks).filter(
    ([, c]) => !c.regions || c.regions.includes(region),
  );
}

const minutes = (ms: number) => {
  const m = Math.round(ms / 60_000);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
};

function describe(check: MonitorCheck): string {
  return check.kind === 'http'
    ? `${check.method} ${check.url}`
    : check.kind === 'tcp'
      ? `tcp ${check.host}:${check.port}`
      : `dns ${check.name} ${check.recordType}`;
}

export async function probeRound(ctx: Ctx, due: Date, probeWith = probe): Promise<Record<string, string>> {
  const region = ctx.config.region;
  const stored = new Map(
    (await ctx.store.monitorStates<CheckState>())
      .filter((s) => s.region === region)
      .map((s) => [s.check, s.state]),
  );
  const quietNow = activeAt(await silences(ctx.store), due);
  const dueChecks = checksHere(ctx).filter(([name, c]) =>
    isDue(c.interval, stored.get(name)?.lastDue ?? null, due),
  );
  // Each probe is bounded by its own timeout; all run at once.
  const results = await Promise.all(
    dueChecks.map(
      async ([name, check]): Promise<[string, MonitorCheck, ProbeResult]> => [
        name,
        check,
        await probeWith(check),
      ],
    ),
  );
  await ctx.store.recordSamples(
    results.map(
      ([name, , r]): ProbeSample => ({
        check: name,
        region,
        at: due,
        up: r.up,
        latencyMs: r.latencyMs,
        status: r.status,
        error: r.error,
        detail: r.detail,
      }),
    ),
  );
  const outcome: Record<string, string> = {};
  const states: { check: string; region: string; state: CheckState }[] = [];
  for (const [name, check, r] of results) {
    const quiet = inMaintenance(ctx.config.monitoring.maintenance, name, due) || silenced(quietNow, name);
    let state = stored.get(name) ?? initialState();
    const notices: Notice[] = [];
    const probed = step(state, { at: due, up: r.up, error: r.error, detail: r.detail }, check, quiet);
    state = probed.state;
    notices.push(...probed.notices);
    if (check.objective) {
      const stats = await ctx.store.sampleStats(
        name,
        new Date(due.getTime() - check.objective.windowMinutes * 60_000),
        region,
      );
      const o = objectiveStep(state, due, breachOf(check.objective, stats), quiet);
      state = o.state;
      notices.push(...o.notices);
    }
    if (check.kind === 'http') {
      const c = certStep(state, r.certExpiresAt, check.certExpiryWarnDays, due);
      state = c.state;
      if (!quiet) notices.push(...c.notices);
    }
    for (const n of notices) await announce(ctx, name, check, n);
    const down = notices.find((n) => n.kind === 'down');
    if (down && check.action) {
      const taken = await takeAction(
        ctx,
        check.action,
        `${name}:${down.since}`,
        `monitor:${name}`,
        `${name} is down: ${down.cause}`,
      );
      ctx.log.info('monitor action taken', { check: name, action: taken });
    }
    states.push({ check: name, region, state });
    outcome[name] =
      `${r.up ? 'up' : `down (${r.error})`}${quiet ? ', quiet' : ''}${notices.length ? `; ${notices.map((n) => n.kind).join(', ')}` : ''}`;
  }
  await ctx.store.saveMonitorStates(states);
  const retentionDays = ctx.config.monitoring.retentionDays;
  await ctx.store.purgeSamples(new Date(due.getTime() - retentionDays * 86_400_000));
  return outcome;
}

/**
 * Tell people through notify. The event id is derived from the check, the incident and what
 * happened, so a round run again announces nothing twice (notify keeps one event per id).
 */
async function announce(ctx: Ctx, name: string, check: MonitorCheck, n: Notice): Promise<void> {
  const what = describe(check);
  const since = Date.parse(n.kind === 'certificate' ? n.expiresAt : n.since);
  const event = {
    down: {
      severity: check.severity,
      summary: `${name} is down since ${n.kind === 'down' ? n.since : ''}: ${n.kind === 'down' ? n.cause : ''} (${what})`,
    },
    up: {
      severity: 'info' as const,
      summary: `${name} is up again after ${n.kind === 'up' ? minutes(n.outageMs) : ''} (${what})`,
    },
    'objective-breached': {
      severity: check.severity,
      summary: `${name} misses its objective: ${n.kind === 'objective-breached' ? n.why : ''}`,
    },
    'objective-met': {
      severity: 'info' as const,
      summary: `${name} meets its objective again after ${n.kind === 'objective-met' ? minutes(n.lastedMs) : ''}`,
    },
    certificate: {
      severity: 'warning' as const,
      summary: `${name}: the TLS certificate expires in ${n.kind === 'certificate' ? n.days : 0} days (${n.kind === 'certificate' ? n.expiresAt : ''})`,
    },
  }[n.kind];
  // A failure fails the round: it stays due and runs again, and the same ids make no second notice.
  await ctx.events.publish({
    id: `monitor-${name}-${n.kind}-${since}`.slice(0, 128),
    kind: `monitor.${n.kind}`,
    severity: event.severity,
    subject: name,
    summary: event.summary,
    ...(n.kind === 'up' ? { details: { outageMs: String(n.outageMs), since: n.since } } : {}),
  });
}
