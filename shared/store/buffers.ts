import { checkLength } from './limits.ts';
import { type SqlClient, toJsonb } from './sql.ts';

/**
 * Add an item to the open buffer under `key`, opening one due at `dueAt` if none is open.
 * Items of a buffer that is being taken go into the next buffer, never lost.
 */
export async function bufferAdd(
  db: SqlClient,
  now: Date,
  key: string,
  item: unknown,
  dueAt: Date,
): Promise<{ opened: boolean; size: number }> {
  checkLength('key', key);
  return db.transaction(async (tx) => {
    const opened = await tx.query<{ key: string }>(
      `insert into buffers (key, due_at, created_at) values ($1, $2, $3)
       on conflict (key) do nothing returning key`,
      [key, dueAt, now],
    );
    // The row lock orders this add against a concurrent take of the same buffer.
    await tx.query('select key from buffers where key = $1 for update', [key]);
    await tx.query('insert into buffer_items (key, item) values ($1, $2::jsonb)', [key, toJsonb(item)]);
    const [count] = await tx.query<{ n: string }>('select count(*) as n from buffer_items where key = $1', [
      key,
    ]);
    return { opened: opened.length === 1, size: Number(count?.n ?? 0) };
  });
}

/** Take every buffer due by `now` (each taken by exactly one caller), with its items in order. */
export async function takeDueBuffers(
  db: SqlClient,
  now: Date,
  prefix = '',
): Promise<{ key: string; items: unknown[]; createdAt: Date }[]> {
  return db.transaction(async (tx) => {
    const due = await tx.query<{ key: string; created_at: Date; due_at: Date }>(
      `delete from buffers where key in (
         select key from buffers where due_at <= $1 and key like $2 for update skip locked
       ) returning key, created_at, due_at`,
      [now, `${prefix.replace(/[%_]/g, '\\$&')}%`],
    );
    // DELETE ... RETURNING keeps no order: sort here, so messages go out in the order they fell due.
    due.sort((a, b) => a.due_at.getTime() - b.due_at.getTime() || a.key.localeCompare(b.key));
    const out: { key: string; items: unknown[]; createdAt: Date }[] = [];
    for (const b of due) {
      const items = await tx.query<{ item: unknown }>(
        'select item from buffer_items where key = $1 order by seq',
        [b.key],
      );
      await tx.query('delete from buffer_items where key = $1', [b.key]);
      out.push({ key: b.key, items: items.map((r) => r.item), createdAt: b.created_at });
    }
    return out;
  });
}

/**
 * Take a slot for one use of `key` if fewer than `limit` slots fall in the last `windowMs`;
 * otherwise say when one will be free. A slot is dated `inFlightMs` ahead (the longest the use can
 * take) until `rateSettle` dates it when the use ended: a receiver that counts arrivals sees an
 * arrival anywhere between the two, so the window is kept as it counts, however long a send took.
 */
export async function rateTake(
  db: SqlClient,
  now: Date,
  key: string,
  limit: number,
  windowMs: number,
  inFlightMs = 0,
): Promise<{ allowed: true; slot: string } | { allowed: false; retryAt: Date }> {
  checkLength('key', key);
  return db.transaction(async (tx) => {
    // Serialize takers of one key: the advisory lock is released with the transaction.
    await tx.query('select pg_advisory_xact_lock(hashtext($1))', [key]);
    const since = new Date(now.getTime() - windowMs);
    await tx.query('delete from rate_events where key = $1 and at <= $2', [key, since]);
    const rows = await tx.query<{ at: Date }>(
      'select at from rate_events where key = $1 order by at limit $2',
      [key, limit],
    );
    if (rows.length >= limit) return { allowed: false, retryAt: new Date(rows[0]!.at.getTime() + windowMs) };
    const [slot] = await tx.query<{ id: string | number }>(
      'insert into rate_events (key, at) values ($1, $2) returning id',
      [key, new Date(now.getTime() + inFlightMs)],
    );
    return { allowed: true, slot: String(slot!.id) };
  });
}

/**
 * Date a slot at the end of its use (never later than the in-flight date it was taken with), or
 * give it back when it was not used after all.
 */
export async function rateSettle(db: SqlClient, now: Date, slot: string, used: boolean): Promise<void> {
  if (!used) await db.query('delete from rate_events where id = $1', [slot]);
  else await db.query('update rate_events set at = least(at, $2) where id = $1', [slot, now]);
}
