import { indexesByKeyDescending } from '../../shared/util/order.ts';
import { bucketCursor } from './calendar.ts';

export interface BackupFact {
  id: string;
  start: Date;
  status: 'Success' | 'Failed';
  /** The service would let it be deleted (RDS: StoreStatus Enabled; dumps: always). */
  deletable: boolean;
  /** fc-devops made it (and may delete it without `deleteForeign`). */
  ours: boolean;
}

export interface RetentionPolicy {
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
  minKeep: number;
  minAgeHours: number;
  timeZone: string;
  deleteForeign: boolean;
  /** A successful backup younger than this counts as fresh. */
  freshHours: number;
}

export interface Decision {
  id: string;
  action: 'keep' | 'delete';
  reasons: string[];
}

const GRANULARITIES = ['daily', 'weekly', 'monthly', 'yearly'] as const;
const BUCKET = { daily: 'day', weekly: 'week', monthly: 'month', yearly: 'year' } as const;

/**
 * Grandfather-father-son retention, pure: every backup gets keep or delete with its reasons.
 * - The newest successful backup, the `minKeep` newest successful ones and anything younger than
 *   `minAgeHours` are kept.
 * - For the last N days, weeks, months and years (in the policy's time zone) that have successful
 *   backups, the newest successful backup of each is kept.
 * - Only backups that may be deleted (deletable, and ours unless `deleteForeign`) are ever deleted.
 * - When the newest attempt failed and no fresh successful backup exists, nothing is deleted.
 */
export function planRetention(
  backups: readonly BackupFact[],
  policy: RetentionPolicy,
  now: Date,
): Decision[] {
  const n = backups.length;
  // Reasons only for what is kept (a plan of 100,000 backups keeps a few hundred), by index.
  const reasons: (string[] | undefined)[] = new Array(n);
  const keep = (i: number, reason: string) => {
    const list = reasons[i];
    if (list) list.push(reason);
    else reasons[i] = [reason];
  };
  // Each time read once; newest first, equal times by id, descending.
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = backups[i]!.start.getTime();
  const order = breakTies(indexesByKeyDescending(times), times, backups);
  const successes: number[] = [];
  for (const i of order) if (backups[i]!.status === 'Success') successes.push(i);

  if (successes.length) keep(successes[0]!, 'newest successful backup');
  for (let r = 0; r < Math.min(policy.minKeep, successes.length); r++) {
    keep(successes[r]!, `one of the ${policy.minKeep} newest successful backups (#${r + 1})`);
  }
  const t = now.getTime();
  const minAgeMs = policy.minAgeHours * 3_600_000;
  const young = `younger than ${policy.minAgeHours} h`;
  for (let i = 0; i < n; i++) if (t - times[i]! < minAgeMs) keep(i, young);

  // Each granularity walks the successes newest first, only as far as it still looks.
  for (const g of GRANULARITIES) {
    const count = policy[g];
    if (count <= 0) continue;
    const bucketAt = bucketCursor(policy.timeZone);
    const seen = new Set<string>();
    for (const i of successes) {
      if (seen.size >= count) break;
      const bucket = bucketAt(times[i]!)[BUCKET[g]];
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      keep(i, `${g} ${bucket}`);
    }
  }

  const freshMs = policy.freshHours * 3_600_000;
  const fresh = successes.length > 0 && t - times[successes[0]!]! < freshMs;
  const hold = n > 0 && backups[order[0]!]!.status === 'Failed' && !fresh;

  const decisions: Decision[] = new Array(n);
  for (let r = 0; r < n; r++) {
    const i = order[r]!;
    const b = backups[i]!;
    const why = reasons[i];
    decisions[r] = why
      ? { id: b.id, action: 'keep', reasons: why }
      : !b.deletable
        ? { id: b.id, action: 'keep', reasons: [...NOT_DELETABLE] }
        : !b.ours && !policy.deleteForeign
          ? { id: b.id, action: 'keep', reasons: [...FOREIGN] }
          : hold
            ? { id: b.id, action: 'keep', reasons: [...HOLD] }
            : {
                id: b.id,
                action: 'delete',
                reasons: [...(b.status === 'Failed' ? FAILED_OUTSIDE : OUTSIDE)],
              };
  }
  return decisions;
}

/** Runs of equal times, in index order from the sort, put in descending id order. */
function breakTies(order: Uint32Array, times: Float64Array, backups: readonly BackupFact[]): Uint32Array {
  for (let r = 0; r < order.length; ) {
    let end = r + 1;
    while (end < order.length && times[order[end]!] === times[order[r]!]) end++;
    if (end - r > 1)
      order
        .subarray(r, end)
        .sort((i, j) => (backups[i]!.id < backups[j]!.id ? 1 : backups[i]!.id > backups[j]!.id ? -1 : i - j));
    r = end;
  }
  return order;
}

const NOT_DELETABLE = ['the service does not allow deleting it'];
const FOREIGN = ['not made by fc-devops (deleteForeign is off)'];
const HOLD = ['the newest backup attempt failed and no fresh successful backup exists: nothing is deleted'];
const FAILED_OUTSIDE = ['failed backup outside retention'];
const OUTSIDE = ['outside retention'];
