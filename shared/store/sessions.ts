import type { ConsoleSession } from './port.ts';
import type { SqlClient } from './sql.ts';

interface SessionRow {
  key_id: string;
  created_at: Date;
  expires_at: Date;
}

const toSession = (r: SessionRow): ConsoleSession => ({
  keyId: r.key_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

export async function createSession(
  db: SqlClient,
  now: Date,
  input: { tokenSha256: string; keyId: string; ttlMs: number },
): Promise<ConsoleSession> {
  // Sign-ins are rare: clearing the expired ones here keeps the table small without a timer.
  await db.query('delete from console_sessions where expires_at <= $1', [now]);
  const [row] = await db.query<SessionRow>(
    `insert into console_sessions (token_sha256, key_id, created_at, expires_at)
     values ($1, $2, $3, $4) returning *`,
    [input.tokenSha256, input.keyId, now, new Date(now.getTime() + input.ttlMs)],
  );
  return toSession(row!);
}

export async function getSession(
  db: SqlClient,
  now: Date,
  tokenSha256: string,
): Promise<ConsoleSession | undefined> {
  const [row] = await db.query<SessionRow>(
    'select * from console_sessions where token_sha256 = $1 and expires_at > $2',
    [tokenSha256, now],
  );
  return row ? toSession(row) : undefined;
}

export async function deleteSession(db: SqlClient, tokenSha256: string): Promise<void> {
  await db.query('delete from console_sessions where token_sha256 = $1', [tokenSha256]);
}
