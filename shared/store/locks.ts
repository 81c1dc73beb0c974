import { ConflictError } from '../runtime/errors.ts';
import { checkLength } from './limits.ts';
import type { Fence, LockResult } from './port.ts';
import type { SqlClient, SqlRunner } from './sql.ts';

export async function acquireLock(
  db: SqlClient,
  now: Date,
  name: string,
  options: { owner: string; ttlMs: number },
): Promise<LockResult> {
  checkLength('lockName', name);
  checkLength('owner', options.owner);
  const expiresAt = new Date(now.getTime() + options.ttlMs);
  // Every acquisition draws a new token from one sequence, so a later holder always has a larger one.
  const rows = await db.query<{ token: number }>(
    `insert into locks (name, owner, token, expires_at, acquired_at)
     values ($1, $2, nextval('lock_tokens'), $3, $4)
     on conflict (name) do update set
       owner = excluded.owner, token = excluded.token, expires_at = excluded.expires_at, acquired_at = excluded.acquired_at
     where locks.expires_at <= excluded.acquired_at
     returning token`,
    [name, options.owner, expiresAt, now],
  );
  if (rows[0]) return { acquired: true, name, owner: options.owner, token: Number(rows[0].token), expiresAt };
  const [held] = await db.query<{ owner: string; expires_at: Date }>(
    'select owner, expires_at from locks where name = $1',
    [name],
  );
  if (!held) return acquireLock(db, now, name, options);
  return { acquired: false, name, holder: held.owner, expiresAt: held.expires_at };
}

export async function renewLock(db: SqlClient, now: Date, fence: Fence, ttlMs: number): Promise<boolean> {
  const rows = await db.query(
    'update locks set expires_at = $4 where name = $1 and owner = $2 and token = $3 and expires_at > $5 returning name',
    [fence.lock, fence.owner, fence.token, new Date(now.getTime() + ttlMs), now],
  );
  return rows.length === 1;
}

export async function releaseLock(db: SqlClient, fence: Fence): Promise<boolean> {
  const rows = await db.query(
    'delete from locks where name = $1 and owner = $2 and token = $3 returning name',
    [fence.lock, fence.owner, fence.token],
  );
  return rows.length === 1;
}

/**
 * Inside a transaction: refuse to go on unless `fence` is still the live holder of its lock. The row
 * lock keeps a new holder from taking over until this transaction ends, so the write behind the check
 * cannot land after a takeover.
 */
export async function assertFence(tx: SqlRunner, now: Date, fence: Fence): Promise<void> {
  const [row] = await tx.query<{ owner: string; token: number; expires_at: Date }>(
    'select owner, token, expires_at from locks where name = $1 for update',
    [fence.lock],
  );
  if (row && row.token === fence.token && row.owner === fence.owner && row.expires_at > now) return;
  const state = row
    ? { holder: row.owner, token: Number(row.token), expiresAt: row.expires_at }
    : { holder: null };
  throw new ConflictError(
    `fencing token ${fence.token} of ${fence.owner} on lock ${fence.lock} is stale${row ? ` (current token ${row.token}, held by ${row.owner})` : ' (lock released)'}`,
    { state },
  );
}
