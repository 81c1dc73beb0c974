/**
 * The idempotency state machine, pure. A record is one of:
 *
 *   (none) ──claim──▶ in_progress ──complete──▶ completed ──(ttl)──▶ expired
 *                        │  ▲                                         │
 *                  fail  │  │ lease ran out: claimable again          │ claimable again
 *                        ▼  │                                         ▼
 *                       failed ───────────── claimable again ──────────
 *
 * A duplicate of a completed key gets the stored result; a duplicate of one in progress gets a
 * conflict, unless the lease of the claimant ran out (it crashed), when it may take the key over.
 * The SQL `claim` statement encodes exactly `isClaimable`.
 */
export type RecordState = 'in_progress' | 'completed' | 'failed';

export interface IdempotencyRecord {
  status: RecordState;
  leaseExpiresAt: Date;
  expiresAt: Date;
}

export type Verdict = 'claimable' | 'duplicate' | 'in_progress';

export function judge(record: IdempotencyRecord | undefined, now: Date): Verdict {
  if (!record) return 'claimable';
  if (record.expiresAt <= now) return 'claimable';
  if (record.status === 'failed') return 'claimable';
  if (record.status === 'in_progress') return record.leaseExpiresAt <= now ? 'claimable' : 'in_progress';
  return 'duplicate';
}
