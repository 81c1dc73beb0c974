import { checkLength } from './limits.ts';
import type { SqlClient } from './sql.ts';

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
    await tx.query('insert into buffer_items (key, item) values ($1, $2::jsonb)', [
      key,
      JSON.stringify(item),
    ]);
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
    const due = await tx.query<{ key: string; created_at: Date }>(
      `delete from buffers where key in (
         select key from buffers where due_at <= $1 and key like $2 order by due_at for update skip locked
       ) returning key, created_at`,
      [now, `${prefix.replace(/[%_]/g, '\\$&')}%`],
    );
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
 * Admit one use of `key` if fewer than `limit` were admitted in the last `windowMs`; otherwise say
 * when the next one will be admitted.
 */
export async function rateTake(
  db: SqlClient,
  now: Date,
  key: string,
  limit: number,
  windowMs: number,
): Promise<{ allowed: true } | { allowed: false; retryAt: Date }> {
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
    await tx.query('insert into rate_events (key, at) values ($1, $2)', [key, now]);
    return { allowed: true };
  });
}
