import { checkLength } from './limits.ts';
import type { AuditRecord } from './port.ts';
import { type SqlClient, toJsonb } from './sql.ts';

interface Row {
  id: string | number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  decision: string;
  reason: string | null;
  source: string | null;
  details: unknown;
}

const toRecord = (r: Row): AuditRecord => ({ ...r, id: Number(r.id), details: r.details ?? null });

export async function audit(
  db: SqlClient,
  now: Date,
  input: {
    actor: string;
    action: string;
    target: string;
    decision: string;
    reason?: string;
    source?: string;
    details?: unknown;
  },
): Promise<AuditRecord> {
  checkLength('actor', input.actor);
  checkLength('action', input.action);
  checkLength('target', input.target);
  const [row] = await db.query<Row>(
    `insert into audit (at, actor, action, target, decision, reason, source, details)
     values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) returning *`,
    [
      now,
      input.actor,
      input.action,
      input.target,
      input.decision,
      input.reason ?? null,
      input.source ?? null,
      toJsonb(input.details ?? null),
    ],
  );
  return toRecord(row!);
}

export async function listAudit(
  db: SqlClient,
  query: { target?: string; actor?: string; since?: Date; limit?: number },
): Promise<AuditRecord[]> {
  const rows = await db.query<Row>(
    `select * from audit
     where ($1::text is null or target = $1) and ($2::text is null or actor = $2) and ($3::timestamptz is null or at >= $3)
     order by id desc limit $4`,
    [query.target ?? null, query.actor ?? null, query.since ?? null, Math.min(query.limit ?? 100, 1000)],
  );
  return rows.map(toRecord);
}
