import { checkLength } from './limits.ts';
import { assertFence } from './locks.ts';
import type { Fence, HistoryEntry } from './port.ts';
import { type SqlClient, sqlState, toJsonb, UNIQUE_VIOLATION } from './sql.ts';

interface Row {
  key: string;
  seq: number;
  value: unknown;
  actor: string | null;
  note: string | null;
  created_at: Date;
}

const toEntry = <V>(r: Row): HistoryEntry<V> => ({
  key: r.key,
  seq: r.seq,
  value: r.value as V,
  actor: r.actor,
  note: r.note,
  createdAt: r.created_at,
});

export async function appendHistory<V>(
  db: SqlClient,
  now: Date,
  key: string,
  entry: { value: V; actor?: string; note?: string },
  fence?: Fence,
): Promise<HistoryEntry<V>> {
  checkLength('historyKey', key);
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction(async (tx) => {
        if (fence) await assertFence(tx, now, fence);
        const [row] = await tx.query<Row>(
          `insert into history (key, seq, value, actor, note, created_at)
           select $1, coalesce(max(seq), 0) + 1, $2::jsonb, $3, $4, $5 from history where key = $1
           returning *`,
          [key, toJsonb(entry.value), entry.actor ?? null, entry.note ?? null, now],
        );
        return toEntry<V>(row!);
      });
    } catch (error) {
      // Two appends raced for the same sequence number: the loser takes the next one.
      if (sqlState(error) !== UNIQUE_VIOLATION || attempt >= 5) throw error;
    }
  }
}

/** Newest first: `[current, previous, …]`. */
export async function readHistory<V>(db: SqlClient, key: string, limit = 20): Promise<HistoryEntry<V>[]> {
  const rows = await db.query<Row>('select * from history where key = $1 order by seq desc limit $2', [
    key,
    limit,
  ]);
  return rows.map((r) => toEntry<V>(r));
}
