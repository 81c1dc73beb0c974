// Environments: their life, and the pure decisions about it (what the timer does next, what a TTL may be).
import type { EnvironmentRecord } from '../../shared/store/port.ts';
import type { PlanSource } from './model.ts';

/**
 * `creating` (planned, maybe waiting for approval, then applied) → `active`, or `create-failed`
 * (which may hold half of it: it is destroyed at expiry all the same) → `destroying` →
 * `destroyed`, or `destroy-failed` (retried with growing pauses, listed first) until it is
 * destroyed or someone marks it `handled`.
 */
export const EnvStatus = [
  'creating',
  'active',
  'create-failed',
  'destroying',
  'destroy-failed',
  'destroyed',
  'handled',
] as const;
export type EnvStatus = (typeof EnvStatus)[number];

/** Environments that may still hold something. */
export const LIVE: readonly EnvStatus[] = [
  'creating',
  'active',
  'create-failed',
  'destroying',
  'destroy-failed',
];
/** Environments a destroy may start from. */
export const DESTROYABLE: readonly EnvStatus[] = ['active', 'create-failed', 'destroy-failed'];
/** Where the timer's destroy at expiry starts from. */
export const EXPIRABLE: readonly EnvStatus[] = ['creating', 'active', 'create-failed'];

export interface EnvMeta {
  source: PlanSource;
  variables: Record<string, string>;
  ttlHours: number;
  /** Outputs sealed with the plan key (the environment as AAD): shown to the owner only. */
  outputs?: string;
  outputNames?: string[];
  /** The operation under way or last tried. */
  op?: {
    kind: 'create' | 'destroy';
    attempt: number;
    startedAt: string;
    by: string;
    reason?: string;
    planId?: string;
    runId?: string;
    awaitingApproval?: boolean;
  };
  /** The last failure, with Terraform's diagnostics. */
  failure?: { at: string; reason: string; attempt: number };
  nextAttemptAt?: string | null;
  extensions?: { by: string; at: string; hours: number; expiresAt: string }[];
  destroyedAt?: string;
  hoursLived?: number;
  handledBy?: string;
  handledReason?: string;
}

export interface Environment extends Omit<EnvironmentRecord, 'status' | 'meta'> {
  status: EnvStatus;
  meta: EnvMeta;
}

export const asEnv = (e: EnvironmentRecord): Environment => e as unknown as Environment;

export interface Template {
  defaultTtlHours: number;
  maxTtlHours: number;
  remindMinutesBefore: number;
  destroyNeedsApproval: boolean;
  destroyAttempts: number;
}

/** `90m`, `4h`, `2d`, `1h30m` (or a bare number of hours) → hours; undefined when it is none of those. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)([dhm])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) return undefined;
  const per = { d: 24, h: 1, m: 1 / 60 } as const;
  return parts.reduce((sum, p) => sum + Number(p[1]) * per[p[2] as 'd' | 'h' | 'm'], 0);
}

/** Why a time to live (counted from `createdAt`) is not allowed, or undefined when it is. */
export function whyTtlRefused(hours: number, template: Template, name: string): string | undefined {
  if (!Number.isFinite(hours) || hours <= 0) return `a time to live must be more than zero (got ${hours} h)`;
  if (hours > template.maxTtlHours)
    return `${name} environments live at most ${template.maxTtlHours} h (maxTtlHours); asked for ${round(hours)} h`;
  return undefined;
}

/** Pause before destroy attempt `attempt + 1`: 5, 10, 20, 40 minutes… at most 6 hours. */
export function retryDelayMs(attempt: number): number {
  return Math.min(5 * 60_000 * 2 ** Math.max(0, attempt - 1), 6 * 3_600_000);
}

export type TimerStep =
  | { do: 'remind'; key: string }
  | { do: 'destroy'; reason: string }
  | { do: 'retry'; attempt: number }
  | { do: 'stalled'; since: string }
  | { do: 'nothing' };

/**
 * What the timer does for one environment at `now`. A reminder once per expiry time (an extension
 * brings a new one); the destroy once the time is up; a failed destroy again after its pause, while
 * attempts are left; a destroy that no run finished within `stallMs` counts as a failed attempt.
 */
export function timerStep(env: Environment, template: Template, now: Date, stallMs: number): TimerStep {
  const t = now.getTime();
  const expires = env.expiresAt.getTime();
  if (env.status === 'active' || env.status === 'create-failed') {
    if (t >= expires) return { do: 'destroy', reason: `its time ran out at ${env.expiresAt.toISOString()}` };
    const remindAt = expires - template.remindMinutesBefore * 60_000;
    if (env.status === 'active' && template.remindMinutesBefore > 0 && t >= remindAt)
      return { do: 'remind', key: `env-remind:${env.id}:${env.expiresAt.toISOString()}` };
    return { do: 'nothing' };
  }
  if (env.status === 'destroy-failed') {
    const attempt = env.meta.op?.attempt ?? 1;
    const next = env.meta.nextAttemptAt;
    if (attempt < template.destroyAttempts && next && t >= Date.parse(next))
      return { do: 'retry', attempt: attempt + 1 };
    return { do: 'nothing' };
  }
  if (env.status === 'creating' && t >= expires) {
    // Its creation waited past its end for an approval, or no run finished it: nothing is kept.
    const op = env.meta.op;
    if (!op || op.awaitingApproval || t - Date.parse(op.startedAt) > stallMs)
      return {
        do: 'destroy',
        reason: `its time ran out at ${env.expiresAt.toISOString()} before it was created`,
      };
  }
  if (env.status === 'destroying' && env.meta.op && !env.meta.op.awaitingApproval) {
    if (t - Date.parse(env.meta.op.startedAt) > stallMs)
      return { do: 'stalled', since: env.meta.op.startedAt };
  }
  return { do: 'nothing' };
}

/** Hours between two times, to two decimals. */
export const hoursBetween = (from: Date, to: Date) => round((to.getTime() - from.getTime()) / 3_600_000);

const round = (n: number) => Math.round(n * 100) / 100;

/** `env list` order: what needs a person first (failed destroys), then the soonest to expire. */
export function listOrder(a: Environment, b: Environment): number {
  const rank = (e: Environment) => (e.status === 'destroy-failed' ? 0 : LIVE.includes(e.status) ? 1 : 2);
  return rank(a) - rank(b) || a.expiresAt.getTime() - b.expiresAt.getTime() || a.id.localeCompare(b.id);
}

/** Resources a state still holds (managed ones with instances), as addresses. */
export function resourcesIn(state: string | undefined): string[] {
  if (!state) return [];
  const parsed = JSON.parse(state) as {
    resources?: { mode: string; type: string; name: string; module?: string; instances?: unknown[] }[];
  };
  return (parsed.resources ?? [])
    .filter((r) => r.mode === 'managed' && (r.instances?.length ?? 0) > 0)
    .map((r) => `${r.module ? `${r.module}.` : ''}${r.type}.${r.name}`);
}

/** The root outputs of a state: values, and which ones Terraform marks sensitive. */
export function outputsOf(state: string | undefined): Record<string, { value: unknown; sensitive: boolean }> {
  if (!state) return {};
  const parsed = JSON.parse(state) as { outputs?: Record<string, { value: unknown; sensitive?: boolean }> };
  return Object.fromEntries(
    Object.entries(parsed.outputs ?? {}).map(([k, v]) => [
      k,
      { value: v.value, sensitive: v.sensitive === true },
    ]),
  );
}

/** A new environment's id: the template and six random base-36 characters (a valid workspace name). */
export function newEnvId(template: string, random: () => number = Math.random): string {
  const tail = Array.from(
    { length: 6 },
    () => '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 36)],
  ).join('');
  return `${template.slice(0, 56)}-${tail}`;
}
