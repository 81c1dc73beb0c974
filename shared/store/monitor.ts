import { checkLength } from './limits.ts';
import type { ProbeSample, ProbeStats } from './port.ts';
import { type SqlClient, toJsonb } from './sql.ts';

interface SampleRow {
  check_name: string;
  region: string;
  at: Date;
  up: boolean;
  latency_ms: number | null;
  status: number | null;
  error: string | null;
  detail: string | null;
}

const toSample = (r: SampleRow): ProbeSample => ({
  check: r.check_name,
  region: r.region,
  at: r.at,
  up: r.up,
  latencyMs: r.latency_ms,
  status: r.status,
  error: r.error,
  detail: r.detail,
});

export async function recordSamples(db: SqlClient, samples: ProbeSample[]): Promise<number> {
  if (samples.length === 0) return 0;
  for (const s of samples) {
    checkLength('target', s.check);
    checkLength('kind', s.region);
  }
  const values: unknown[] = [];
  const rows = samples.map((s, i) => {
    values.push(
      s.check,
      s.region,
      s.at,
      s.up,
      s.latencyMs,
      s.status,
      s.error,
      s.detail?.slice(0, 1000) ?? null,
    );
    const o = i * 8;
    return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}, $${o + 7}, $${o + 8})`;
  });
  const inserted = await db.query<{ check_name: string }>(
    `insert into monitor_samples (check_name, region, at, up, latency_ms, status, error, detail)
     values ${rows.join(', ')} on conflict do nothing returning check_name`,
    values,
  );
  return inserted.length;
}

export async function readSamples(
  db: SqlClient,
  check: string,
  query: { since?: Date; limit?: number; region?: string },
): Promise<ProbeSample[]> {
  const rows = await db.query<SampleRow>(
    `select * from monitor_samples where check_name = $1 and at > $2 and ($3::text is null or region = $3)
     order by at desc limit $4`,
    [check, query.since ?? new Date(0), query.region ?? null, Math.min(query.limit ?? 1000, 50_000)],
  );
  return rows.map(toSample);
}

/** Nearest-rank percentiles (`percentile_disc`) over the latencies of the probes that were up. */
export async function sampleStats(
  db: SqlClient,
  check: string,
  since: Date,
  region?: string,
): Promise<ProbeStats> {
  const [row] = await db.query<{
    probes: number;
    up: number;
    p50: number | null;
    p95: number | null;
    p99: number | null;
  }>(
    `select count(*)::int as probes, (count(*) filter (where up))::int as up,
       percentile_disc(0.5) within group (order by latency_ms) filter (where up) as p50,
       percentile_disc(0.95) within group (order by latency_ms) filter (where up) as p95,
       percentile_disc(0.99) within group (order by latency_ms) filter (where up) as p99
     from monitor_samples where check_name = $1 and at > $2 and ($3::text is null or region = $3)`,
    [check, since, region ?? null],
  );
  const probes = row?.probes ?? 0;
  const up = row?.up ?? 0;
  return {
    probes,
    up,
    availability: probes ? Math.round((up / probes) * 100_000) / 1000 : null,
    p50: row?.p50 ?? null,
    p95: row?.p95 ?? null,
    p99: row?.p99 ?? null,
  };
}

export async function purgeSamples(db: SqlClient, before: Date): Promise<number> {
  const rows = await db.query<{ check_name: string }>(
    'delete from monitor_samples where at < $1 returning check_name',
    [before],
  );
  return rows.length;
}

export async function monitorStates<S>(db: SqlClient) {
  const rows = await db.query<{ check_name: string; region: string; state: S; updated_at: Date }>(
    'select check_name, region, state, updated_at from monitor_state order by check_name, region',
  );
  return rows.map((r) => ({
    check: r.check_name,
    region: r.region,
    state: r.state,
    updatedAt: r.updated_at,
  }));
}

export async function saveMonitorStates(
  db: SqlClient,
  now: Date,
  states: { check: string; region: string; state: unknown }[],
): Promise<void> {
  if (states.length === 0) return;
  const values: unknown[] = [];
  const rows = states.map((s, i) => {
    checkLength('target', s.check);
    values.push(s.check, s.region, toJsonb(s.state), now);
    const o = i * 4;
    return `($${o + 1}, $${o + 2}, $${o + 3}::jsonb, $${o + 4})`;
  });
  await db.query(
    `insert into monitor_state (check_name, region, state, updated_at) values ${rows.join(', ')}
     on conflict (check_name, region) do update set state = excluded.state, updated_at = excluded.updated_at`,
    values,
  );
}
