import pg from 'pg';
import { ConfigError } from '../../runtime/errors.ts';
import type { SqlClient, SqlRunner } from '../sql.ts';
import { isStalePlan, StatementNames } from './statement-names.ts';

/** Where a connection URL points, without its password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/**
 * PostgreSQL through a `pg` pool (ApsaraDB RDS for PostgreSQL in the cloud). The first connection is
 * made here, with a deadline, so a wrong or unreachable DATABASE_URL fails the cold start at once
 * with the host it tried, instead of hanging the first invocation. A few connections per instance:
 * an FC instance runs one invocation at a time.
 */
export async function connectPostgres(
  url: string,
  options: { connectTimeoutMs?: number; max?: number } = {},
): Promise<SqlClient> {
  // `fcdevops_serial=1`: a server that answers one request at a time (the local runtime's PGlite):
  // one connection per pool is all it can use, and a turn may take a while to come.
  const parsed = new URL(url);
  const serial = parsed.searchParams.get('fcdevops_serial') === '1';
  // `fcdevops_prepare=0`: a pooler in transaction mode between us and the server, which cannot keep
  // a connection's prepared statements. The serial server shares one backend among all its clients,
  // so two clients' statements of the same name would collide there: it never prepares either.
  const prepare = !serial && parsed.searchParams.get('fcdevops_prepare') !== '0';
  parsed.searchParams.delete('fcdevops_serial');
  parsed.searchParams.delete('fcdevops_prepare');
  url = parsed.toString();
  const timeout = options.connectTimeoutMs ?? (serial ? 60_000 : 5000);
  const pool = new pg.Pool({
    connectionString: url,
    max: serial ? 1 : (options.max ?? 3),
    connectionTimeoutMillis: timeout,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the function; the next query reconnects.
  pool.on('error', () => {});
  // The first connection proves the URL within `timeout`, and stays in the pool for the first
  // query (a probe of its own cost every cold start a second connection and a round trip).
  try {
    (await pool.connect()).release();
  } catch (cause) {
    await pool.end().catch(() => {});
    throw new ConfigError([
      {
        file: 'DATABASE_URL',
        message: `cannot use the state database at ${describeUrl(url)} (${(cause as Error).message || (cause as NodeJS.ErrnoException).code || 'no answer'})`,
      },
    ]);
  }
  // Later connections may wait longer for a free one: a busy server, or the local runtime's PGlite
  // serving many instances one at a time.
  pool.options.connectionTimeoutMillis = serial ? 120_000 : 60_000;
  const names = prepare ? new StatementNames() : undefined;
  // Only statements with parameters are named: a text without any may hold several commands (the
  // migrations), which the extended protocol that prepared statements use does not allow.
  const runner = (client: pg.Pool | pg.PoolClient, inTransaction: boolean): SqlRunner => ({
    query: async <R>(text: string, params?: readonly unknown[]) => {
      const values = params as unknown[] | undefined;
      const name = values?.length ? names?.nameFor(text) : undefined;
      if (name === undefined || !values) return (await client.query(text, values)).rows as R[];
      try {
        return (await client.query({ name, text, values })).rows as R[];
      } catch (error) {
        if (!isStalePlan(error)) throw error;
        // A new name either way; inside a transaction the refusal has aborted it, so the caller's
        // retry (FC's, or the user's) is what runs it again.
        const renewed = names!.renew(text);
        if (inTransaction) throw error;
        return (await client.query({ name: renewed, text, values })).rows as R[];
      }
    },
  });
  return {
    engine: 'postgres',
    ...runner(pool, false),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await fn(runner(client, true));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
