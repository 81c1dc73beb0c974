import { randomBytes } from 'node:crypto';
import { ParseError } from '../runtime/errors.ts';
import { checkLength } from './limits.ts';
import { assertFence } from './locks.ts';
import { type Fence, type Run, type RunQuery, RunStatus } from './port.ts';
import { type SqlClient, toJsonb } from './sql.ts';

// Log chunks stay well under PostgreSQL's 1 GB field limit and keep appends cheap.
const CHUNK_CHARS = 256 * 1024;

interface RunRow {
  id: string;
  kind: string;
  subject: string;
  status: RunStatus;
  attempt: number;
  correlation_id: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  result: unknown;
  error: unknown;
  log_bytes: string | number;
}

const toRun = (r: RunRow): Run => ({
  id: r.id,
  kind: r.kind,
  subject: r.subject,
  status: r.status,
  attempt: r.attempt,
  correlationId: r.correlation_id,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  result: r.result ?? null,
  error: r.error ?? null,
  logBytes: Number(r.log_bytes),
});

/** Time-ordered ids: newest-first listings and ids agree. */
export function newRunId(now: Date): string {
  return `run-${now.getTime().toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
}

export async function createRun(
  db: SqlClient,
  now: Date,
  input: { kind: string; subject: string; correlationId?: string; attempt?: number; status?: RunStatus },
): Promise<Run> {
  checkLength('kind', input.kind);
  checkLength('subject', input.subject);
  const status = input.status ?? 'running';
  const [row] = await db.query<RunRow>(
    `insert into runs (id, kind, subject, status, attempt, correlation_id, created_at, started_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $7) returning *`,
    [
      newRunId(now),
      input.kind,
      input.subject,
      status,
      input.attempt ?? 1,
      input.correlationId ?? null,
      now,
      status === 'running' ? now : null,
    ],
  );
  return toRun(row!);
}

export async function updateRun(
  db: SqlClient,
  now: Date,
  id: string,
  patch: { status?: RunStatus; result?: unknown; error?: unknown; attempt?: number },
  fence?: Fence,
): Promise<Run> {
  return db.transaction(async (tx) => {
    if (fence) await assertFence(tx, now, fence);
    const terminal =
      patch.status === 'succeeded' || patch.status === 'failed' || patch.status === 'cancelled';
    const [row] = await tx.query<RunRow>(
      `update runs set
         status = coalesce($2, status),
         result = case when $3::boolean then $4::jsonb else result end,
         error = case when $5::boolean then $6::jsonb else error end,
         attempt = coalesce($7, attempt),
         started_at = case when $2 = 'running' and started_at is null then $8 else started_at end,
         finished_at = case when $9::boolean then $8 else finished_at end,
         updated_at = $8
       where id = $1 returning *`,
      [
        id,
        patch.status ?? null,
        'result' in patch,
        toJsonb(patch.result ?? null),
        'error' in patch,
        toJsonb(patch.error ?? null),
        patch.attempt ?? null,
        now,
        terminal,
      ],
    );
    if (!row) throw new ParseError('run', [{ path: ['id'], message: `no run ${id}` }]);
    return toRun(row);
  });
}

export async function appendRunLog(db: SqlClient, id: string, text: string): Promise<void> {
  if (text.length === 0) return;
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK_CHARS) chunks.push(text.slice(i, i + CHUNK_CHARS));
  await db.transaction(async (tx) => {
    // Reserving sequence numbers on the run row serializes concurrent appends to one run.
    const [row] = await tx.query<{ log_chunks: number }>(
      'update runs set log_chunks = log_chunks + $2, log_bytes = log_bytes + $3 where id = $1 returning log_chunks',
      [id, chunks.length, Buffer.byteLength(text)],
    );
    if (!row) throw new ParseError('run', [{ path: ['id'], message: `no run ${id}` }]);
    const first = row.log_chunks - chunks.length + 1;
    for (const [i, chunk] of chunks.entries()) {
      await tx.query('insert into run_logs (run_id, seq, chunk) values ($1, $2, $3)', [id, first + i, chunk]);
    }
  });
}

export async function readRunLog(db: SqlClient, id: string, tailBytes?: number): Promise<string> {
  const rows = await db.query<{ chunk: string }>(
    'select chunk from run_logs where run_id = $1 order by seq',
    [id],
  );
  const text = rows.map((r) => r.chunk).join('');
  if (tailBytes === undefined) return text;
  const bytes = Buffer.from(text);
  return bytes.length <= tailBytes ? text : bytes.subarray(bytes.length - tailBytes).toString('utf8');
}

export async function getRun(db: SqlClient, id: string): Promise<Run | undefined> {
  const [row] = await db.query<RunRow>('select * from runs where id = $1', [id]);
  return row ? toRun(row) : undefined;
}

export async function listRuns(
  db: SqlClient,
  query: RunQuery,
): Promise<{ runs: Run[]; next: string | undefined }> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (query.kind) add('kind = ?', query.kind);
  if (query.subject) add('subject = ?', query.subject);
  if (query.status) {
    if (!RunStatus.includes(query.status)) {
      throw new ParseError('run query', [
        { path: ['status'], message: `expected one of ${RunStatus.join(', ')}` },
      ]);
    }
    add('status = ?', query.status);
  }
  if (query.since) add('created_at >= ?', query.since);
  if (query.until) add('created_at < ?', query.until);
  if (query.cursor) {
    const [at, id] = decodeCursor(query.cursor);
    params.push(at, id);
    where.push(`(created_at, id) < ($${params.length - 1}, $${params.length})`);
  }
  params.push(limit + 1);
  const rows = await db.query<RunRow>(
    `select * from runs ${where.length ? `where ${where.join(' and ')}` : ''} order by created_at desc, id desc limit $${params.length}`,
    params,
  );
  const runs = rows.slice(0, limit).map(toRun);
  const last = runs[runs.length - 1];
  return { runs, next: rows.length > limit && last ? encodeCursor(last) : undefined };
}

function encodeCursor(run: Run): string {
  return Buffer.from(`${run.createdAt.toISOString()}|${run.id}`).toString('base64url');
}

function decodeCursor(cursor: string): [Date, string] {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || Number.isNaN(date.getTime()))
    throw new ParseError('run query', [{ path: ['cursor'], message: 'not a cursor this store issued' }]);
  return [date, id];
}
