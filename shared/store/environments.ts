import { checkLength } from './limits.ts';
import { assertFence } from './locks.ts';
import type { EnvironmentRecord, Fence } from './port.ts';
import { type SqlClient, toJsonb } from './sql.ts';

interface EnvironmentRow {
  id: string;
  template: string;
  owner: string;
  status: string;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
  meta: Record<string, unknown>;
}

const COLUMNS = 'id, template, owner, status, created_at, updated_at, expires_at, meta';

const toEnvironment = (r: EnvironmentRow): EnvironmentRecord => ({
  id: r.id,
  template: r.template,
  owner: r.owner,
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  expiresAt: r.expires_at,
  meta: r.meta ?? {},
});

export async function createEnvironment(
  db: SqlClient,
  now: Date,
  input: {
    id: string;
    template: string;
    owner: string;
    status: string;
    expiresAt: Date;
    meta: Record<string, unknown>;
  },
): Promise<EnvironmentRecord> {
  checkLength('target', input.id);
  checkLength('target', input.template);
  checkLength('actor', input.owner);
  checkLength('kind', input.status);
  const [row] = await db.query<EnvironmentRow>(
    `insert into terraform_environments (${COLUMNS}) values ($1, $2, $3, $4, $5, $5, $6, $7::jsonb)
     returning ${COLUMNS}`,
    [input.id, input.template, input.owner, input.status, now, input.expiresAt, toJsonb(input.meta)],
  );
  return toEnvironment(row!);
}

export async function getEnvironment(db: SqlClient, id: string): Promise<EnvironmentRecord | undefined> {
  const [row] = await db.query<EnvironmentRow>(
    `select ${COLUMNS} from terraform_environments where id = $1`,
    [id],
  );
  return row ? toEnvironment(row) : undefined;
}

export async function listEnvironments(
  db: SqlClient,
  query: { template?: string; statuses?: readonly string[]; limit?: number },
): Promise<EnvironmentRecord[]> {
  const rows = await db.query<EnvironmentRow>(
    `select ${COLUMNS} from terraform_environments
     where ($1::text is null or template = $1) and ($2::text[] is null or status = any($2::text[]))
     order by created_at desc, id desc limit $3`,
    [
      query.template ?? null,
      query.statuses ? [...query.statuses] : null,
      Math.min(Math.max(query.limit ?? 100, 1), 1000),
    ],
  );
  return rows.map(toEnvironment);
}

export async function updateEnvironment(
  db: SqlClient,
  now: Date,
  id: string,
  change: { from: readonly string[]; to: string; meta?: Record<string, unknown>; expiresAt?: Date },
  fence?: Fence,
): Promise<EnvironmentRecord | undefined> {
  checkLength('kind', change.to);
  return db.transaction(async (tx) => {
    if (fence) await assertFence(tx, now, fence);
    const [row] = await tx.query<EnvironmentRow>(
      `update terraform_environments set status = $3, meta = meta || $4::jsonb, updated_at = $5,
         expires_at = coalesce($6, expires_at)
       where id = $1 and status = any($2::text[]) returning ${COLUMNS}`,
      [id, [...change.from], change.to, toJsonb(change.meta ?? {}), now, change.expiresAt ?? null],
    );
    return row ? toEnvironment(row) : undefined;
  });
}

/** Forget every version of a workspace's state; how many there were. */
export async function deleteStates(db: SqlClient, now: Date, workspace: string, fence?: Fence) {
  return db.transaction(async (tx) => {
    if (fence) await assertFence(tx, now, fence);
    const rows = await tx.query<{ version: number }>(
      'delete from terraform_states where workspace = $1 returning version',
      [workspace],
    );
    return rows.length;
  });
}
