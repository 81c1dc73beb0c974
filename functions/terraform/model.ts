import type { SavedPlan } from '../../shared/store/port.ts';
import type { PlanSummary } from './summary.ts';

/**
 * A plan's life: `empty` (nothing to apply), `awaiting-approval`, `approved`, then `applying` and
 * `applied`, or `failed` / `interrupted`; `discarded` by an operator; `stale` when an apply was
 * refused because something moved since it was made.
 */
export const PlanStatus = [
  'empty',
  'awaiting-approval',
  'approved',
  'applying',
  'applied',
  'failed',
  'interrupted',
  'discarded',
  'stale',
] as const;
export type PlanStatus = (typeof PlanStatus)[number];

export type PlanSource =
  | { kind: 'commit'; repository: string; commit: string; ref: string }
  | { kind: 'bundle'; bucket: string; key: string; eTag: string };

/** What a saved plan is bound to and says, kept as the store's plan meta. */
export interface PlanMeta {
  source: PlanSource;
  /** The template in the config, when the plan is of an environment made from it. */
  template?: string;
  purpose?: PlanPurpose;
  /** The state the plan was made from. */
  state: { lineage: string; serial: number };
  configSha256: string;
  variablesSha256: string;
  summary: PlanSummary;
  runId: string;
  /** The key that asked for the plan, or where it came from (`git:github`, `bundle`). */
  requestedBy: string;
  /** Approvals to collect; their single-use tokens are sealed with the plan key and never leave the store. */
  approvals: { id: string; token: string }[];
  approvedBy?: string[];
  applyRunId?: string;
  appliedBy?: string;
  reason?: string;
}

/** Plans of environments follow their own approval rule; the others the workspace's. */
export type PlanPurpose = 'env-create' | 'env-destroy' | 'drift-reconcile';

/**
 * Who must agree before a plan is applied. A workspace's plans: its `requireApproval`, and
 * `autoApply` only for plans that destroy nothing. An environment's creation: the template's
 * `requireApproval`, and otherwise applied at once (asking for it was the point). The destroy of an
 * environment: applied at once unless the template's `destroyNeedsApproval` says otherwise. A plan
 * to reconcile drift: always approved by a person, never applied by itself.
 */
export function approvalRule(
  ws: {
    requireApproval: boolean;
    autoApply: boolean;
    environments?: { destroyNeedsApproval: boolean } | undefined;
  },
  summary: { noChanges: boolean; destructive: boolean },
  purpose: PlanPurpose | undefined,
): { needsApproval: boolean; autoApply: boolean } {
  if (summary.noChanges) return { needsApproval: false, autoApply: false };
  // A plan to undo drift may undo someone's deliberate fix: a person always decides.
  if (purpose === 'drift-reconcile') return { needsApproval: true, autoApply: false };
  const needsApproval =
    purpose === 'env-destroy' ? (ws.environments?.destroyNeedsApproval ?? false) : ws.requireApproval;
  const autoApply = !needsApproval && (purpose !== undefined || (ws.autoApply && !summary.destructive));
  return { needsApproval, autoApply };
}

export interface Plan extends Omit<SavedPlan, 'status' | 'meta'> {
  status: PlanStatus;
  meta: PlanMeta;
}

export const asPlan = (p: SavedPlan): Plan => p as unknown as Plan;

export const describeSource = (s: PlanSource) =>
  s.kind === 'commit'
    ? `commit ${s.commit.slice(0, 12)}${s.ref ? ` (${s.ref})` : ''}`
    : `bundle ${s.key} (eTag ${s.eTag})`;

/**
 * Why a saved plan may not be applied now, or undefined when it may. Terraform itself only refuses
 * a plan whose state moved; fc-devops also refuses one that expired, was superseded by a plan of a
 * newer commit or bundle, or is not in a status that applies.
 */
export function whyNotApplicable(
  plan: Plan,
  context: {
    now: Date;
    newest: Plan | undefined;
    /** The workspace's state now; `unknown` for a backend only Terraform reads (it checks itself). */
    state: { lineage: string; serial: number } | undefined | 'unknown';
  },
): string | undefined {
  const byStatus: Partial<Record<PlanStatus, string>> = {
    empty: 'it has no changes to apply',
    'awaiting-approval': 'it is waiting for approval',
    applying: `it is being applied (run ${plan.meta.applyRunId ?? 'unknown'})`,
    applied: 'it was already applied',
    failed: 'its apply failed: plan again',
    interrupted: 'its apply was interrupted: plan again (the state may have moved)',
    discarded: 'it was discarded',
    stale: `it is stale: ${plan.meta.reason ?? 'plan again'}`,
  };
  const status = byStatus[plan.status];
  if (status) return status;
  if (context.now >= plan.expiresAt) return `it expired at ${plan.expiresAt.toISOString()}`;
  const newest = context.newest;
  if (newest && newest.id !== plan.id && newest.createdAt > plan.createdAt)
    return `a newer plan ${newest.id} (${describeSource(newest.meta.source)}) was made since`;
  if (context.state === 'unknown') return undefined;
  const now = context.state;
  const then = plan.meta.state;
  if (now && then.lineage && now.lineage !== then.lineage)
    return `the state is another one now (lineage ${now.lineage}, planned from ${then.lineage})`;
  if ((now?.serial ?? 0) !== then.serial)
    return `the state moved since the plan (serial ${then.serial} then, ${now?.serial ?? 0} now)`;
  return undefined;
}
