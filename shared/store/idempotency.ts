import { judge } from './idempotency-state.ts';
import { checkLength } from './limits.ts';
import type { Claim, RunInput } from './port.ts';
import { newRunValues, RUN_COLUMNS, RUN_TYPES, type RunRow, toRun } from './runs.ts';
import { type SqlClient, toJsonb } from './sql.ts';

interface Row {
  key: string;
  status: 'in_progress' | 'completed' | 'failed';
  owner: string;
  lease_expires_at: Date;
  expires_at: Date;
  result: unknown;
  payload_sha256: string | null;
}

export async function claim(
  db: SqlClient,
  now: Date,
  key: string,
  options: {
    owner: string;
    leaseMs: number;
    ttlMs: number;
    payloadSha256?: string | undefined;
    run?: RunInput | undefined;
  },
): Promise<Claim> {
  checkLength('key', key);
  checkLength('owner', options.owner);
  const lease = new Date(now.getTime() + options.leaseMs);
  const expires = new Date(now.getTime() + Math.max(options.ttlMs, options.leaseMs));
  // One conditional statement decides the race (see idempotency-state.ts for the states):
  //   t0  A: insert k           → row returned: A owns k
  //   t1  B: insert k, conflict → update only if k failed, expired, or its lease ran out → no row: B lost
  //   t2  B: select k           → completed: B gets A's result; in progress: B gets a conflict
  const payload = options.payloadSha256 ?? null;
  const upsert = `insert into idempotency (key, status, owner, lease_expires_at, expires_at, created_at, updated_at, payload_sha256)
     values ($1, 'in_progress', $2, $3, $4, $5, $5, $6)
     on conflict (key) do update set
       status = 'in_progress', owner = excluded.owner, lease_expires_at = excluded.lease_expires_at,
       expires_at = excluded.expires_at, result = null, error = null, updated_at = excluded.updated_at,
       payload_sha256 = excluded.payload_sha256
     where idempotency.status = 'failed'
        or idempotency.expires_at <= excluded.updated_at
        or (idempotency.status = 'in_progress' and idempotency.lease_expires_at <= excluded.updated_at)
     returning (xmax <> 0) as taken_over`;
  const params = [key, options.owner, lease, expires, now, payload];
  if (options.run) {
    // The run is recorded only if the claim wins: one round trip and one commit for both.
    const values = newRunValues(now, options.run);
    const [won] = await db.query<RunRow & { taken_over: boolean }>(
      `with won as (${upsert}),
            run as (insert into runs (${RUN_COLUMNS})
                    select ${values.map((_, i) => `$${i + 7}::${RUN_TYPES[i]}`).join(', ')} from won returning *)
       select run.*, won.taken_over from won cross join run`,
      [...params, ...values],
    );
    if (won)
      return { status: 'claimed', key, owner: options.owner, takenOver: won.taken_over, run: toRun(won) };
  } else {
    const won = await db.query<{ taken_over: boolean }>(upsert, params);
    if (won[0]) return { status: 'claimed', key, owner: options.owner, takenOver: won[0].taken_over };
  }

  const [row] = await db.query<Row>(
    'select key, status, owner, lease_expires_at, expires_at, result, payload_sha256 from idempotency where key = $1',
    [key],
  );
  const verdict = judge(
    row && { status: row.status, leaseExpiresAt: row.lease_expires_at, expiresAt: row.expires_at },
    now,
  );
  // Purged, failed or expired between the two statements: claim again.
  if (!row || verdict === 'claimable') return claim(db, now, key, options);
  // The key was first used for something else: neither its result nor a wait is the right answer.
  if (payload && row.payload_sha256 && payload !== row.payload_sha256) return { status: 'mismatch', key };
  if (verdict === 'duplicate') return { status: 'completed', key, result: row.result };
  return { status: 'in_progress', key, owner: row.owner, leaseExpiresAt: row.lease_expires_at };
}

export async function settle(
  db: SqlClient,
  now: Date,
  key: string,
  owner: string,
  outcome: { status: 'completed'; result: unknown } | { status: 'failed'; error: unknown },
): Promise<boolean> {
  const value = toJsonb(outcome.status === 'completed' ? (outcome.result ?? null) : (outcome.error ?? null));
  const column = outcome.status === 'completed' ? 'result' : 'error';
  const rows = await db.query(
    `update idempotency set status = $3, ${column} = $4::jsonb, updated_at = $5
     where key = $1 and owner = $2 and status = 'in_progress' returning key`,
    [key, owner, outcome.status, value, now],
  );
  return rows.length === 1;
}

export async function purgeExpired(db: SqlClient, now: Date): Promise<number> {
  const rows = await db.query(
    `delete from idempotency where expires_at <= $1 and (status <> 'in_progress' or lease_expires_at <= $1) returning key`,
    [now],
  );
  return rows.length;
}
