import { randomBytes } from 'node:crypto';
import { ParseError } from '../runtime/errors.ts';
import { checkLength } from './limits.ts';
import { assertFence } from './locks.ts';
import { type Fence, type Run, type RunInput, type RunQuery, type RunStage, RunStatus } from './port.ts';
import { type SqlClient, toJsonb } from './sql.ts';

// Log chunks stay well under PostgreSQL's 1 GB field limit and keep appends cheap.
const CHUNK_CHARS = 256 * 1024;

export interface RunRow {
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
  stages: RunStage[] | null;
  cancel_requested_at: Date | null;
  cancel_requested_by: string | null;
}

export const toRun = (r: RunRow): Run => ({
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
  stages: r.stages ?? [],
  cancelRequestedAt: r.cancel_requested_at,
  cancelRequestedBy: r.cancel_requested_by,
});

const TERMINAL: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Time-ordered ids: newest-first listings and ids agree. */
export function newRunId(now: Date): string {
  return `run-${now.getTime().toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
}

/** The columns of a new run, and their values (checked), for an insert of one. */
export const RUN_COLUMNS =
  'id, kind, subject, status, attempt, correlation_id, created_at, started_at, updated_at';
/** Their types, for parameters in a select list (where PostgreSQL cannot infer them from the table). */
export const RUN_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'integer',
  'text',
  'timestamptz',
  'timestamptz',
  'timestamptz',
];

export function newRunValues(now: Date, input: RunInput): unknown[] {
  checkLength('kind', input.kind);
  checkLength('subject', input.subject);
  const status = input.status ?? 'running';
  return [
    newRunId(now),
    input.kind,
    input.subject,
    status,
    input.attempt ?? 1,
    input.correlationId ?? null,
    now,
    status === 'running' ? now : null,
    now,
  ];
}

export async function createRun(db: SqlClient, now: Date, input: RunInput): Promise<Run> {
  const [row] = await db.query<RunRow>(
    `insert into runs (${RUN_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning *`,
    newRunValues(now, input),
  );
  return toRun(row!);
}

type RunPatch = { status?: RunStatus; result?: unknown; error?: unknown; attempt?: number };

/** The update of a run's status, result, error or attempt: `$1`..`$10`. */
function runUpdate(now: Date, id: string, patch: RunPatch): { text: string; params: unknown[] } {
  const terminal = patch.status !== undefined && TERMINAL.includes(patch.status);
  return {
    text: `update runs set
         status = coalesce($2, status),
         stages = case when $9::boolean then ${closeLastStage('$10')} else stages end,
         result = case when $3::boolean then $4::jsonb else result end,
         error = case when $5::boolean then $6::jsonb else error end,
         attempt = coalesce($7, attempt),
         started_at = case when $2 = 'running' and started_at is null then $8 else started_at end,
         finished_at = case when $9::boolean then $8 else finished_at end,
         updated_at = $8
       where id = $1 returning *`,
    params: [
      id,
      patch.status ?? null,
      'result' in patch,
      toJsonb(patch.result ?? null),
      'error' in patch,
      toJsonb(patch.error ?? null),
      patch.attempt ?? null,
      now,
      terminal,
      // Stage times are ISO strings, as recordStage writes them.
      now.toISOString(),
    ],
  };
}

export async function updateRun(
  db: SqlClient,
  now: Date,
  id: string,
  patch: RunPatch,
  fence?: Fence,
): Promise<Run> {
  const { text, params } = runUpdate(now, id, patch);
  // One statement is atomic by itself: a transaction only when the fence must be checked with it.
  const [row] = fence
    ? await db.transaction(async (tx) => {
        await assertFence(tx, now, fence);
        return tx.query<RunRow>(text, params);
      })
    : await db.query<RunRow>(text, params);
  if (!row) throw new ParseError('run', [{ path: ['id'], message: `no run ${id}` }]);
  return toRun(row);
}

export async function finishRun(
  db: SqlClient,
  now: Date,
  id: string,
  patch: { status: RunStatus; result?: unknown },
  key: { key: string; owner: string },
): Promise<{ run: Run; completed: boolean }> {
  const { text, params } = runUpdate(now, id, patch);
  const [row] = await db.query<RunRow & { key_completed: boolean }>(
    `with run as (${text}),
          settled as (
            update idempotency set status = 'completed', result = $4::jsonb, updated_at = $8
            where key = $11 and owner = $12 and status = 'in_progress' returning key)
     select run.*, exists (select 1 from settled) as key_completed from run`,
    [...params, key.key, key.owner],
  );
  if (!row) throw new ParseError('run', [{ path: ['id'], message: `no run ${id}` }]);
  return { run: toRun(row), completed: row.key_completed };
}

/** SQL that sets `endedAt` of the last stage when it has none. */
function closeLastStage(at: string): string {
  return `(case when jsonb_array_length(stages) > 0 and not (stages -> -1 ? 'endedAt')
      then jsonb_set(stages, array[(jsonb_array_length(stages) - 1)::text], (stages -> -1) || jsonb_build_object('endedAt', ${at}::text))
      else stages end)`;
}

export async function recordStage(
  db: SqlClient,
  now: Date,
  id: string,
  stage: { name: string; progress?: number; detail?: string },
): Promise<Run> {
  checkLength('stage', stage.name);
  const progress =
    stage.progress === undefined ? undefined : Math.max(0, Math.min(100, Math.round(stage.progress)));
  return db.transaction(async (tx) => {
    const [current] = await tx.query<RunRow>('select * from runs where id = $1 for update', [id]);
    if (!current) throw new ParseError('run', [{ path: ['id'], message: `no run ${id}` }]);
    const run = toRun(current);
    if (TERMINAL.includes(run.status)) return run;
    const stages = [...run.stages];
    const last = stages[stages.length - 1];
    const at = now.toISOString();
    const extra = {
      ...(progress !== undefined ? { progress } : {}),
      ...(stage.detail !== undefined ? { detail: stage.detail.slice(0, 500) } : {}),
    };
    if (last && last.name === stage.name && !last.endedAt) {
      stages[stages.length - 1] = { ...last, ...extra };
    } else {
      if (last && !last.endedAt) stages[stages.length - 1] = { ...last, endedAt: at };
      stages.push({ name: stage.name, startedAt: at, ...extra });
    }
    const [row] = await tx.query<RunRow>(
      'update runs set stages = $2::jsonb, updated_at = $3 where id = $1 returning *',
      [id, toJsonb(stages), now],
    );
    return toRun(row!);
  });
}

export async function requestCancel(
  db: SqlClient,
  now: Date,
  id: string,
  by: string,
): Promise<Run | undefined> {
  checkLength('actor', by);
  const [row] = await db.query<RunRow>(
    `update runs set
       cancel_requested_at = coalesce(cancel_requested_at, $2),
       cancel_requested_by = coalesce(cancel_requested_by, $3),
       status = case when status = 'queued' then 'cancelled' else status end,
       finished_at = case when status = 'queued' then $2 else finished_at end,
       updated_at = $2
     where id = $1 and status in ('queued', 'running') returning *`,
    [id, now, by],
  );
  if (row) return toRun(row);
  return getRun(db, id);
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

export async function readRunLogFrom(
  db: SqlClient,
  id: string,
  offset: number,
): Promise<{ text: string; next: number }> {
  const bytes = Buffer.from(await readRunLog(db, id));
  const from = Math.max(0, Math.min(Math.floor(offset) || 0, bytes.length));
  // Never split a UTF-8 sequence: step back to the start of the character at `from`.
  let start = from;
  while (start > 0 && start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start--;
  return { text: bytes.subarray(start).toString('utf8'), next: bytes.length };
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
