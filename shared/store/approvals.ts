import { randomBytes, randomUUID } from 'node:crypto';
import { safeEqual } from '../util/compare.ts';
import { sha256Hex } from '../util/hash.ts';
import { checkLength } from './limits.ts';
import type { Approval, Decision } from './port.ts';
import { type SqlClient, toJsonb } from './sql.ts';

interface Row {
  id: string;
  subject: string;
  action: string;
  payload: unknown;
  token_sha256: string;
  requested_by: string;
  status: Approval['status'];
  decided_by: string | null;
  decided_at: Date | null;
  reason: string | null;
  expires_at: Date;
  created_at: Date;
}

const toApproval = (r: Row): Approval => ({
  id: r.id,
  subject: r.subject,
  action: r.action,
  payload: r.payload ?? null,
  requestedBy: r.requested_by,
  status: r.status,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  reason: r.reason,
  expiresAt: r.expires_at,
  createdAt: r.created_at,
});

export async function createApproval(
  db: SqlClient,
  now: Date,
  input: { subject: string; action: string; payload?: unknown; requestedBy: string; ttlMs: number },
): Promise<{ approval: Approval; token: string }> {
  checkLength('subject', input.subject);
  checkLength('action', input.action);
  checkLength('actor', input.requestedBy);
  const token = randomBytes(32).toString('base64url');
  const [row] = await db.query<Row>(
    `insert into approvals (id, subject, action, payload, token_sha256, requested_by, status, expires_at, created_at)
     values ($1, $2, $3, $4::jsonb, $5, $6, 'pending', $7, $8) returning *`,
    [
      `apr-${randomUUID()}`,
      input.subject,
      input.action,
      toJsonb(input.payload ?? null),
      sha256Hex(token),
      input.requestedBy,
      new Date(now.getTime() + input.ttlMs),
      now,
    ],
  );
  return { approval: toApproval(row!), token };
}

/**
 * Decide a pending approval once. The update is conditional on the approval still being pending and
 * unexpired, so two deciders racing cannot both win; the requester may withdraw (reject) but never
 * approve their own request.
 */
export async function decideApproval(
  db: SqlClient,
  now: Date,
  input: { id: string; token: string; decision: 'approved' | 'rejected'; decidedBy: string; reason?: string },
): Promise<Decision> {
  checkLength('actor', input.decidedBy);
  const [current] = await db.query<Row>('select * from approvals where id = $1', [input.id]);
  if (!current) return { ok: false, reason: 'not-found' };
  if (!safeEqual(sha256Hex(input.token), current.token_sha256)) return { ok: false, reason: 'bad-token' };
  if (input.decision === 'approved' && input.decidedBy === current.requested_by) {
    return { ok: false, reason: 'self-approval', approval: toApproval(current) };
  }
  const [row] = await db.query<Row>(
    `update approvals set status = $2, decided_by = $3, decided_at = $4, reason = $5
     where id = $1 and status = 'pending' and expires_at > $4 returning *`,
    [input.id, input.decision, input.decidedBy, now, input.reason ?? null],
  );
  if (row) return { ok: true, approval: toApproval(row) };
  const [after] = await db.query<Row>('select * from approvals where id = $1', [input.id]);
  const approval = toApproval(after ?? current);
  return { ok: false, reason: approval.status !== 'pending' ? 'already-decided' : 'expired', approval };
}

export async function getApproval(db: SqlClient, id: string): Promise<Approval | undefined> {
  const [row] = await db.query<Row>('select * from approvals where id = $1', [id]);
  return row ? toApproval(row) : undefined;
}
