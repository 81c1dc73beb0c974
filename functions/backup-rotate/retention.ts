import { type Buckets, bucketsOf } from './calendar.ts';

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
  // Reasons only for what is kept: a plan of 100,000 backups keeps a few hundred.
  const reasons = new Map<string, string[]>();
  const keep = (id: string, reason: string) => {
    const list = reasons.get(id);
    if (list) list.push(reason);
    else reasons.set(id, [reason]);
  };
  // Sorted by times read once, not by two Date reads per comparison.
  const times = backups.map((b) => b.start.getTime());
  const order = Array.from(backups.keys()).sort(
    (i, j) => times[j]! - times[i]! || (backups[i]!.id < backups[j]!.id ? 1 : -1),
  );
  const newestFirst = order.map((i) => backups[i]!);
  const successes = newestFirst.filter((b) => b.status === 'Success');

  if (successes[0]) keep(successes[0].id, 'newest successful backup');
  for (const [i, b] of successes.slice(0, policy.minKeep).entries()) {
    keep(b.id, `one of the ${policy.minKeep} newest successful backups (#${i + 1})`);
  }
  const minAgeMs = policy.minAgeHours * 3_600_000;
  const young = `younger than ${policy.minAgeHours} h`;
  for (const [i, b] of backups.entries()) if (now.getTime() - times[i]! < minAgeMs) keep(b.id, young);

  // Each backup's buckets once, and only as far as some granularity still looks.
  const buckets: (Buckets | undefined)[] = [];
  const bucketAt = (i: number) => (buckets[i] ??= bucketsOf(successes[i]!.start, policy.timeZone));
  for (const g of GRANULARITIES) {
    const count = policy[g];
    if (count <= 0) continue;
    const seen = new Set<string>();
    for (const [i, b] of successes.entries()) {
      if (seen.size >= count) break;
      const bucket = bucketAt(i)[BUCKET[g]];
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      keep(b.id, `${g} ${bucket}`);
    }
  }

  const freshMs = policy.freshHours * 3_600_000;
  const newest = newestFirst[0];
  const fresh = successes.some((b) => now.getTime() - b.start.getTime() < freshMs);
  const hold = newest?.status === 'Failed' && !fresh;

  return newestFirst.map((b) => {
    const why = reasons.get(b.id);
    if (why) return { id: b.id, action: 'keep', reasons: why };
    if (!b.deletable) return { id: b.id, action: 'keep', reasons: [...NOT_DELETABLE] };
    if (!b.ours && !policy.deleteForeign) return { id: b.id, action: 'keep', reasons: [...FOREIGN] };
    if (hold) return { id: b.id, action: 'keep', reasons: [...HOLD] };
    return { id: b.id, action: 'delete', reasons: [...(b.status === 'Failed' ? FAILED_OUTSIDE : OUTSIDE)] };
  });
}

const NOT_DELETABLE = ['the service does not allow deleting it'];
const FOREIGN = ['not made by fc-devops (deleteForeign is off)'];
const HOLD = ['the newest backup attempt failed and no fresh successful backup exists: nothing is deleted'];
const FAILED_OUTSIDE = ['failed backup outside retention'];
const OUTSIDE = ['outside retention'];
