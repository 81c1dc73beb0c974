/**
 * The state of a promote through an FC alias, kept in the store as the history of
 * `release:state:<target>` (the newest entry is the current state). Pure transitions only.
 */
export interface AliasRelease {
  target: string;
  functionName: string;
  alias: string;
  from: string;
  to: string;
  /** Canary weights in percent; the last is 100. Empty for a direct promote. */
  steps: number[];
  /** Index of the step now applied; -1 before the first. */
  step: number;
  status: 'running' | 'succeeded' | 'rolled-back';
  nextAt: string | null;
  by: string;
  reason?: string | undefined;
  /**
   * Written before the alias is changed and cleared once the change is recorded: what the alias is
   * being set to, and the state before. A state that still says `applying` after its operation ended
   * (the store write behind the cloud call failed) is reconciled against the alias itself.
   */
  applying?:
    | { alias: AliasWeights; previous: AliasRelease | null; record?: unknown; since: string }
    | undefined;
}

export interface AliasWeights {
  versionId: string;
  additionalVersionWeight: Record<string, number>;
}

/** What the alias should look like at a step: the main version and the canary's weight. */
export function aliasAt(release: Pick<AliasRelease, 'from' | 'to' | 'steps'>, step: number): AliasWeights {
  const percent = release.steps[step];
  if (percent === undefined || percent >= 100) return { versionId: release.to, additionalVersionWeight: {} };
  return { versionId: release.from, additionalVersionWeight: { [release.to]: percent / 100 } };
}

/** The alias updates a promote makes, in order (the dry-run plan). */
export function promoteCalls(
  release: Pick<AliasRelease, 'functionName' | 'alias' | 'from' | 'to' | 'steps'>,
  waitSeconds: number,
) {
  const steps = release.steps.length ? release.steps : [100];
  return steps.map((percent, i) => ({
    action: 'UpdateAlias',
    function: release.functionName,
    alias: release.alias,
    ...aliasAt(release, i),
    ...(i < steps.length - 1 ? { afterwards: `wait ${waitSeconds}s and pass the health checks` } : {}),
    percent,
  }));
}

export type Advance =
  | { kind: 'wait' }
  | { kind: 'next'; step: number; done: boolean }
  | { kind: 'rollback'; reason: string };

/** Decide what a running canary does now, given whether its health checks passed. */
export function decide(
  release: AliasRelease,
  now: Date,
  health: { ok: boolean; reason?: string } | undefined,
): Advance {
  if (release.status !== 'running' || !release.nextAt || new Date(release.nextAt) > now)
    return { kind: 'wait' };
  if (health && !health.ok) return { kind: 'rollback', reason: health.reason ?? 'health check failed' };
  const step = release.step + 1;
  return { kind: 'next', step, done: step >= release.steps.length - 1 };
}
