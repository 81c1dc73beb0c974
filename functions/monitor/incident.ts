// Pure alerting decisions: when a check is down, when it is up again, when an objective is
// breached, whether people are told (not inside a maintenance window or a silence).
import { parseSchedule } from '../../shared/schedule/cron.ts';

export interface CheckState {
  failures: number;
  successes: number;
  down: boolean;
  /** When the current run of failed probes began. */
  failingSince: string | null;
  /** The open incident: one per outage, announced once (or later, when a silence ends first). */
  incident: { since: string; cause: string; announced: boolean } | null;
  objective: { since: string; why: string; announced: boolean } | null;
  /** The due time of the last probe: the interval counts from it, and a redelivered round skips it. */
  lastDue: string | null;
  /** The certificate expiry already warned about. */
  certWarned: string | null;
}

export const initialState = (): CheckState => ({
  failures: 0,
  successes: 0,
  down: false,
  failingSince: null,
  incident: null,
  objective: null,
  lastDue: null,
  certWarned: null,
});

export type Notice =
  | { kind: 'down'; since: string; cause: string }
  | { kind: 'up'; since: string; outageMs: number }
  | { kind: 'objective-breached'; since: string; why: string }
  | { kind: 'objective-met'; since: string; lastedMs: number }
  | { kind: 'certificate'; expiresAt: string; days: number };

export interface Sample {
  at: Date;
  up: boolean;
  detail: string | null;
  error: string | null;
}

/**
 * One probe's effect: down after `failuresBeforeDown` failures in a row (the incident starts at the
 * first of them), up after `successesBeforeUp` good ones, with the outage's length. While `quiet`
 * (maintenance, silence) the state moves but nobody is told; an incident still open when the quiet
 * ends is announced then. A recovery is announced only for an incident that was.
 */
export function step(
  s: CheckState,
  sample: Sample,
  policy: { failuresBeforeDown: number; successesBeforeUp: number },
  quiet: boolean,
): { state: CheckState; notices: Notice[] } {
  const next = { ...s, lastDue: sample.at.toISOString() };
  const notices: Notice[] = [];
  if (!sample.up) {
    next.failures += 1;
    next.successes = 0;
    next.failingSince ??= sample.at.toISOString();
    if (!next.down && next.failures >= policy.failuresBeforeDown) {
      next.down = true;
      next.incident = {
        since: next.failingSince,
        cause: `${sample.error ?? 'down'}${sample.detail ? `: ${sample.detail}` : ''}`,
        announced: false,
      };
    }
    if (next.incident && !next.incident.announced && !quiet) {
      next.incident = { ...next.incident, announced: true };
      notices.push({ kind: 'down', since: next.incident.since, cause: next.incident.cause });
    }
    return { state: next, notices };
  }
  next.successes += 1;
  next.failures = 0;
  next.failingSince = null;
  if (next.down && next.successes >= policy.successesBeforeUp) {
    const incident = next.incident!;
    if (incident.announced)
      notices.push({
        kind: 'up',
        since: incident.since,
        outageMs: sample.at.getTime() - Date.parse(incident.since),
      });
    next.down = false;
    next.incident = null;
  }
  return { state: next, notices };
}

/** An objective over its window: breached when availability is below or the percentile latency above. */
export function objectiveStep(
  s: CheckState,
  at: Date,
  breach: string | undefined,
  quiet: boolean,
): { state: CheckState; notices: Notice[] } {
  if (breach && !s.objective) {
    const objective = { since: at.toISOString(), why: breach, announced: !quiet };
    return {
      state: { ...s, objective },
      notices: quiet ? [] : [{ kind: 'objective-breached', since: objective.since, why: breach }],
    };
  }
  if (breach && s.objective && !s.objective.announced && !quiet)
    return {
      state: { ...s, objective: { ...s.objective, announced: true } },
      notices: [{ kind: 'objective-breached', since: s.objective.since, why: s.objective.why }],
    };
  if (!breach && s.objective) {
    const notices: Notice[] = s.objective.announced
      ? [
          {
            kind: 'objective-met',
            since: s.objective.since,
            lastedMs: at.getTime() - Date.parse(s.objective.since),
          },
        ]
      : [];
    return { state: { ...s, objective: null }, notices };
  }
  return { state: s, notices: [] };
}

export function breachOf(
  objective: {
    availabilityPercent?: number | undefined;
    latencyMs?: number | undefined;
    percentile: 50 | 95 | 99;
    windowMinutes: number;
  },
  stats: {
    probes: number;
    availability: number | null;
    p50: number | null;
    p95: number | null;
    p99: number | null;
  },
): string | undefined {
  if (stats.probes === 0) return undefined;
  const window = `over ${objective.windowMinutes} min`;
  if (
    objective.availabilityPercent !== undefined &&
    (stats.availability ?? 0) < objective.availabilityPercent
  )
    return `availability ${stats.availability}% ${window}, objective ${objective.availabilityPercent}%`;
  const latency = stats[`p${objective.percentile}`];
  if (objective.latencyMs !== undefined && latency !== null && latency > objective.latencyMs)
    return `p${objective.percentile} latency ${latency} ms ${window}, objective ${objective.latencyMs} ms`;
  return undefined;
}

/** A certificate expiring within `warnDays`, not warned about yet. */
export function certStep(
  s: CheckState,
  expiresAt: string | undefined,
  warnDays: number | undefined,
  at: Date,
) {
  if (!expiresAt || warnDays === undefined || s.certWarned === expiresAt)
    return { state: s, notices: [] as Notice[] };
  const days = Math.floor((Date.parse(expiresAt) - at.getTime()) / 86_400_000);
  if (days > warnDays) return { state: s, notices: [] as Notice[] };
  return {
    state: { ...s, certWarned: expiresAt },
    notices: [{ kind: 'certificate', expiresAt, days } as Notice],
  };
}

/** Whether a check with `interval` is due at `due`, its last probe having been due at `lastDue`. */
export function isDue(interval: string, lastDue: string | null, due: Date): boolean {
  if (!lastDue) return true;
  const last = new Date(lastDue);
  if (last >= due) return false;
  return parseSchedule(interval).latest(last, due) !== undefined;
}

export interface Window {
  checks: string[];
  from?: string | undefined;
  to?: string | undefined;
  schedule?: string | undefined;
  durationMinutes?: number | undefined;
}

/** Whether `at` falls in a maintenance window that covers the check (`*` covers all). */
export function inMaintenance(windows: Window[], check: string, at: Date): boolean {
  return windows.some((w) => {
    if (!w.checks.includes('*') && !w.checks.includes(check)) return false;
    if (w.from && w.to) return Date.parse(w.from) <= at.getTime() && at.getTime() < Date.parse(w.to);
    if (!w.schedule || !w.durationMinutes) return false;
    const length = w.durationMinutes * 60_000;
    const start = parseSchedule(w.schedule).latest(new Date(at.getTime() - length), at);
    return start !== undefined && at.getTime() < start.getTime() + length;
  });
}
