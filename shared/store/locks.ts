import { ConflictError } from '../runtime/errors.ts';
import { checkLength } from './limits.ts';
import type { Fence, LockResult } from './port.ts';
import type { SqlClient, SqlRunner } from './sql.ts';

/** A released lock's expiry: earlier than any clock, so the next acquirer takes it at once. */
const RELEASED = new Date(0);

/**
 * Take `name` unless someone holds it. A lock's row stays when it is released, and each acquisition
 * counts its token up from the row's, inside the statement that takes the row: a later holder always
 * has a larger token, however long an earlier acquire stalled, and a failed attempt draws nothing.
 *   t0  A: update … where expired  → row locked by X's transaction: A waits
 *   t1  X: takes the lock (token n+1), releases it, commits
 *   t2  A: re-reads the row (released) → takes it with token n+2
 */
export async function acquireLock(
  db: SqlClient,
  now: Date,
  name: string,
  options: { owner: string; ttlMs: number },
): Promise<LockResult> {
  checkLength('lockName', name);
  checkLength('owner', options.owner);
  const expiresAt = new Date(now.getTime() + options.ttlMs);
  for (let attempt = 0; attempt < 5; attempt++) {
    const taken = await db.query<{ token: string | number }>(
      `update locks set owner = $2, token = token + 1, expires_at = $3, acquired_at = $4
       where name = $1 and expires_at <= $4 returning token`,
      [name, options.owner, expiresAt, now],
    );
    if (taken[0])
      return { acquired: true, name, owner: options.owner, token: Number(taken[0].token), expiresAt };
    // A name's first acquisition: the sequence is drawn only when no row exists (the target list is
    // not evaluated for a filtered-out row); two first acquirers racing burn one value, nothing more.
    const created = await db.query<{ token: string | number }>(
      `insert into locks (name, owner, token, expires_at, acquired_at)
       select $1, $2, nextval('lock_tokens'), $3, $4 where not exists (select 1 from locks where name = $1)
       on conflict (name) do nothing returning token`,
      [name, options.owner, expiresAt, now],
    );
    if (created[0])
      return { acquired: true, name, owner: options.owner, token: Number(created[0].token), expiresAt };
    const [held] = await db.query<{ owner: string; expires_at: Date }>(
      'select owner, expires_at from locks where name = $1',
      [name],
    );
    if (held && held.expires_at > now)
      return { acquired: false, name, holder: held.owner, expiresAt: held.expires_at };
    // Released or expired between the statements: try again.
  }
  throw new ConflictError(`lock ${name} changed hands five times while being acquired`);
}

export async function renewLock(db: SqlClient, now: Date, fence: Fence, ttlMs: number): Promise<boolean> {
  const rows = await db.query(
    'update locks set expires_at = $4 where name = $1 and owner = $2 and token = $3 and expires_at > $5 returning name',
    [fence.lock, fence.owner, fence.token, new Date(now.getTime() + ttlMs), now],
  );
  return rows.length === 1;
}

/** Give the lock up; the row (and its token) stays for the next holder to count on from. */
export async function releaseLock(db: SqlClient, fence: Fence): Promise<boolean> {
  const rows = await db.query(
    'update locks set expires_at = $4 where name = $1 and owner = $2 and token = $3 and expires_at > $4 returning name',
    [fence.lock, fence.owner, fence.token, RELEASED],
  );
  return rows.length === 1;
}

/**
 * Break a lock whoever holds it (an operator's force-unlock): it is released as if its holder had,
 * and the holder's fenced writes are refused from now on. Who held it, if anyone did.
 */
export async function breakLock(
  db: SqlClient,
  now: Date,
  name: string,
): Promise<{ holder: string; token: number; expiresAt: Date } | undefined> {
  const [row] = await db.query<{ owner: string; token: string | number; expires_at: Date }>(
    `with held as (select owner, token, expires_at from locks where name = $1 and expires_at > $2 for update)
     update locks set expires_at = $3 from held where locks.name = $1
     returning held.owner, held.token, held.expires_at`,
    [name, now, RELEASED],
  );
  return row ? { holder: row.owner, token: Number(row.token), expiresAt: row.expires_at } : undefined;
}

/** Who holds a lock now, if anyone. */
export async function lockHolder(
  db: SqlClient,
  now: Date,
  name: string,
): Promise<{ holder: string; token: number; expiresAt: Date; acquiredAt: Date } | undefined> {
  const [row] = await db.query<{
    owner: string;
    token: string | number;
    expires_at: Date;
    acquired_at: Date;
  }>('select owner, token, expires_at, acquired_at from locks where name = $1 and expires_at > $2', [
    name,
    now,
  ]);
  return row
    ? { holder: row.owner, token: Number(row.token), expiresAt: row.expires_at, acquiredAt: row.acquired_at }
    : undefined;
}

/**
 * Inside a transaction: refuse to go on unless `fence` is still the live holder of its lock. The row
 * lock keeps a new holder from taking over until this transaction ends, so the write behind the check
 * cannot land after a takeover.
 */
export async function assertFence(tx: SqlRunner, now: Date, fence: Fence): Promise<void> {
  const [row] = await tx.query<{ owner: string; token: string | number; expires_at: Date }>(
    'select owner, token, expires_at from locks where name = $1 for update',
    [fence.lock],
  );
  if (row && Number(row.token) === fence.token && row.owner === fence.owner && row.expires_at > now) return;
  const live = row && row.expires_at > now;
  const state = live
    ? { holder: row.owner, token: Number(row.token), expiresAt: row.expires_at }
    : { holder: null };
  throw new ConflictError(
    `fencing token ${fence.token} of ${fence.owner} on lock ${fence.lock} is stale${live ? ` (current token ${row.token}, held by ${row.owner})` : ' (lock released or expired)'}`,
    { state },
  );
}
