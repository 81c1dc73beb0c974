// Drift, decided from two plans' JSON (never from exit codes), and what to say about it.
import { sha256Hex } from '../../shared/util/hash.ts';

interface Change {
  actions: string[];
  before?: unknown;
  after?: unknown;
  after_unknown?: unknown;
}
interface ResourceEntry {
  address: string;
  mode?: string;
  change: Change;
}
/** The parts of `terraform show -json <planfile>` drift is decided from. */
export interface PlanJson {
  resource_drift?: ResourceEntry[];
  resource_changes?: ResourceEntry[];
  output_changes?: Record<string, { actions: string[] }>;
}

export interface DriftItem {
  address: string;
  /** `update`, `delete`, `create`, `replace`. */
  action: string;
  /** Attribute paths that differ (names only: values may be secrets). */
  attributes: string[];
}

export interface DriftReport {
  /** Changed outside Terraform: what the refresh found (`resource_drift`). */
  drifted: DriftItem[];
  /** What a plan would change to make the real thing match the configuration again. */
  pending: DriftItem[];
  /** Root outputs that would change: not drift by themselves. */
  outputs: string[];
  drift: boolean;
  /** Identifies this drift, so the same one is reported once; null when there is none. */
  fingerprint: string | null;
}

const MAX_ATTRIBUTES = 20;

const actionOf = (actions: string[]) =>
  actions.length === 2 && actions.includes('create') && actions.includes('delete')
    ? 'replace'
    : actions.join('+');

/** Leaf paths where `before` and `after` differ, and those only known after apply. */
export function changedPaths(before: unknown, after: unknown, unknown: unknown, prefix = ''): string[] {
  if (unknown === true) return prefix ? [prefix] : [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) =>
      changedPaths(b, after[i], Array.isArray(unknown) ? unknown[i] : undefined, `${prefix}[${i}]`),
    );
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    const u = isObject(unknown) ? unknown : {};
    return keys.flatMap((k) => changedPaths(before[k], after[k], u[k], prefix ? `${prefix}.${k}` : k));
  }
  if (isObject(unknown) && !isObject(after)) {
    // The whole value is gone from `after`, parts of it unknown: the attribute itself changes.
    return prefix ? [prefix] : [];
  }
  return JSON.stringify(before ?? null) === JSON.stringify(after ?? null) ? [] : prefix ? [prefix] : [];
}

function item(entry: ResourceEntry): DriftItem {
  const action = actionOf(entry.change.actions);
  const attributes =
    action === 'update' || action === 'replace'
      ? changedPaths(entry.change.before, entry.change.after, entry.change.after_unknown).slice(
          0,
          MAX_ATTRIBUTES,
        )
      : [];
  return { address: entry.address, action, attributes };
}

const counts = (a: string[]) => !(a.length === 1 && (a[0] === 'no-op' || a[0] === 'read'));

/**
 * Drift from a `plan -refresh-only` and a normal plan of the same configuration and state:
 * `resource_drift` of the first (changed outside Terraform), `resource_changes` of the second that
 * are not `no-op` or `read` (what a plan would do about it). Root outputs that change are listed
 * apart and are never drift on their own: `-refresh-only -detailed-exitcode` exits 2 for them
 * (hashicorp/terraform#36403), which is why the exit code decides nothing here.
 */
export function decideDrift(refreshOnly: PlanJson, normal: PlanJson): DriftReport {
  const drifted = (refreshOnly.resource_drift ?? [])
    .filter((e) => (e.mode ?? 'managed') === 'managed' && counts(e.change.actions))
    .map(item);
  const pending = (normal.resource_changes ?? [])
    .filter((e) => (e.mode ?? 'managed') === 'managed' && counts(e.change.actions))
    .map(item);
  const outputs = [
    ...new Set(
      [refreshOnly, normal].flatMap((p) =>
        Object.entries(p.output_changes ?? {})
          .filter(([, c]) => counts(c.actions))
          .map(([name]) => name),
      ),
    ),
  ].sort();
  const drift = drifted.length > 0 || pending.length > 0;
  const line = (prefix: string) => (i: DriftItem) =>
    `${prefix}${i.address} ${i.action} ${i.attributes.join(',')}`;
  const fingerprint = drift
    ? sha256Hex([...drifted.map(line('drift:')), ...pending.map(line('plan:'))].sort().join('\n'))
    : null;
  return { drifted, pending, outputs, drift, fingerprint };
}

/** The report's lines, as a message shows them. */
export function driftLines(report: DriftReport): string[] {
  const show = (i: DriftItem) =>
    `${i.address} (${i.action}${i.attributes.length ? `: ${i.attributes.join(', ')}` : ''})`;
  return [
    ...(report.drifted.length ? [`changed outside Terraform: ${report.drifted.map(show).join('; ')}`] : []),
    ...(report.pending.length ? [`a plan would change: ${report.pending.map(show).join('; ')}`] : []),
    ...(report.outputs.length
      ? [
          report.drift
            ? `outputs that change too: ${report.outputs.join(', ')}`
            : `only outputs would change (${report.outputs.join(', ')}): that is not drift`,
        ]
      : []),
  ];
}
