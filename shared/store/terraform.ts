import { createHash, randomUUID } from 'node:crypto';
import { checkLength } from './limits.ts';
import { assertFence } from './locks.ts';
import type { Fence, SavedPlan, StateVersion } from './port.ts';
import { type SqlClient, sqlState, toJsonb, UNIQUE_VIOLATION } from './sql.ts';

interface PlanRow {
  id: string;
  workspace: string;
  status: string;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
  meta: Record<string, unknown>;
}

const toPlan = (r: PlanRow): SavedPlan => ({
  id: r.id,
  workspace: r.workspace,
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  expiresAt: r.expires_at,
  meta: r.meta ?? {},
});

const PLAN_COLUMNS = 'id, workspace, status, created_at, updated_at, expires_at, meta';

export async function savePlan(
  db: SqlClient,
  now: Date,
  input: { workspace: string; status: string; expiresAt: Date; meta: Record<string, unknown>; file?: Buffer },
): Promise<SavedPlan> {
  checkLength('target', input.workspace);
  checkLength('kind', input.status);
  const [row] = await db.query<PlanRow>(
    `insert into terraform_plans (id, workspace, status, created_at, updated_at, expires_at, meta, file)
     values ($1, $2, $3, $4, $4, $5, $6::jsonb, $7) returning ${PLAN_COLUMNS}`,
    [
      `plan-${randomUUID()}`,
      input.workspace,
      input.status,
      now,
      input.expiresAt,
      toJsonb(input.meta),
      input.file ?? null,
    ],
  );
  return toPlan(row!);
}

export async function getPlan(db: SqlClient, id: string): Promise<SavedPlan | undefined> {
  const [row] = await db.query<PlanRow>(`select ${PLAN_COLUMNS} from terraform_plans where id = $1`, [id]);
  return row ? toPlan(row) : undefined;
}

export async function readPlanFile(db: SqlClient, id: string): Promise<Buffer | undefined> {
  const [row] = await db.query<{ file: Uint8Array | null }>(
    'select file from terraform_plans where id = $1',
    [id],
  );
  return row?.file ? Buffer.from(row.file) : undefined;
}

/** Newest first. */
export async function listPlans(db: SqlClient, workspace: string, limit = 20): Promise<SavedPlan[]> {
  const rows = await db.query<PlanRow>(
    `select ${PLAN_COLUMNS} from terraform_plans where workspace = $1 order by created_at desc, id desc limit $2`,
    [workspace, Math.min(Math.max(limit, 1), 500)],
  );
  return rows.map(toPlan);
}

/**
 * Move a plan from one of `from` to `to` (merging `meta` into its meta), in one conditional
 * statement: two deciders racing cannot both move it. Undefined when it was in no status of `from`.
 */
export async function updatePlan(
  db: SqlClient,
  now: Date,
  id: string,
  change: { from: readonly string[]; to: string; meta?: Record<string, unknown> },
  fence?: Fence,
): Promise<SavedPlan | undefined> {
  checkLength('kind', change.to);
  return db.transaction(async (tx) => {
    if (fence) await assertFence(tx, now, fence);
    const [row] = await tx.query<PlanRow>(
      `update terraform_plans set status = $3, meta = meta || $4::jsonb, updated_at = $5
       where id = $1 and status = any($2::text[]) returning ${PLAN_COLUMNS}`,
      [id, [...change.from], change.to, toJsonb(change.meta ?? {}), now],
    );
    return row ? toPlan(row) : undefined;
  });
}

interface StateRow {
  workspace: string;
  version: number;
  lineage: string;
  serial: string | number;
  md5: string;
  data?: string;
  run_id: string | null;
  created_at: Date;
}

const toState = (r: StateRow): StateVersion => ({
  workspace: r.workspace,
  version: r.version,
  lineage: r.lineage,
  serial: Number(r.serial),
  md5: r.md5,
  runId: r.run_id,
  createdAt: r.created_at,
});

/** Keep a new version of a workspace's state (never overwriting an old one). */
export async function putState(
  db: SqlClient,
  now: Date,
  workspace: string,
  input: { data: string; lineage: string; serial: number; runId?: string },
  fence?: Fence,
): Promise<StateVersion> {
  checkLength('target', workspace);
  const md5 = createHash('md5').update(input.data).digest('base64');
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction(async (tx) => {
        if (fence) await assertFence(tx, now, fence);
        const [row] = await tx.query<StateRow>(
          `insert into terraform_states (workspace, version, lineage, serial, md5, data, run_id, created_at)
           select $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7 from terraform_states where workspace = $1
           returning workspace, version, lineage, serial, md5, run_id, created_at`,
          [workspace, input.lineage, input.serial, md5, input.data, input.runId ?? null, now],
        );
        return toState(row!);
      });
    } catch (error) {
      // Two writers raced for the version number: the loser takes the next one.
      if (sqlState(error) !== UNIQUE_VIOLATION || attempt >= 5) throw error;
    }
  }
}

/** The newest version of a workspace's state (or the given one), with its data. */
export async function getState(
  db: SqlClient,
  workspace: string,
  version?: number,
): Promise<(StateVersion & { data: string }) | undefined> {
  const [row] = await db.query<StateRow & { data: string }>(
    `select * from terraform_states where workspace = $1 and ($2::integer is null or version = $2)
     order by version desc limit 1`,
    [workspace, version ?? null],
  );
  return row ? { ...toState(row), data: row.data } : undefined;
}

/** Newest first, without the data. */
export async function listStates(db: SqlClient, workspace: string, limit = 20): Promise<StateVersion[]> {
  const rows = await db.query<StateRow>(
    `select workspace, version, lineage, serial, md5, run_id, created_at from terraform_states
     where workspace = $1 order by version desc limit $2`,
    [workspace, Math.min(Math.max(limit, 1), 500)],
  );
  return rows.map(toState);
}
