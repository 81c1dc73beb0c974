import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { SqlClient, SqlRunner } from '../sql.ts';

/**
 * Embedded PostgreSQL (PGlite), persisted in `dir` (in memory without one). Imported only when used,
 * and left out of function bundles: functions in the cloud always have a DATABASE_URL.
 */
export async function openPglite(dir?: string): Promise<SqlClient & { db: PGlite }> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = dir ? await PGlite.create(dir) : await PGlite.create();
  const runner = (q: PGlite | Transaction): SqlRunner => ({
    async query<R>(text: string, params?: readonly unknown[]) {
      // Parameterless text may hold several statements (migrations): run it as a script.
      if (!params || params.length === 0) {
        const results = await q.exec(text);
        return (results[results.length - 1]?.rows ?? []) as R[];
      }
      return (await q.query<R>(text, params as unknown[])).rows;
    },
  });
  return {
    engine: 'pglite',
    db,
    ...runner(db),
    transaction: (fn) => db.transaction((tx) => fn(runner(tx))),
    close: () => db.close(),
  };
}
