import { mkdirSync } from 'node:fs';
import { ConfigError } from '../runtime/errors.ts';
import type { Store } from './port.ts';
import type { SqlClient } from './sql.ts';

export interface OpenStoreOptions {
  /** PostgreSQL URL; when absent, PGlite persisted in `dir`. */
  databaseUrl?: string | undefined;
  dir?: string | undefined;
  now?: () => Date;
  idempotencyTtlMs?: number;
}

/** Open the state store, run migrations (refusing a newer or damaged schema), purge expired keys. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  let db: SqlClient;
  if (options.databaseUrl) {
    const { connectPostgres } = await import('./engines/postgres.ts');
    db = await connectPostgres(options.databaseUrl);
  } else {
    if (options.dir) mkdirSync(options.dir, { recursive: true });
    const { openPglite } = await import('./engines/pglite.ts');
    try {
      db = await openPglite(options.dir);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw cause;
      throw new ConfigError([
        {
          file: 'DATABASE_URL',
          message: 'is not set, and the embedded PGlite is not part of function bundles: set DATABASE_URL',
        },
      ]);
    }
  }
  // The store's SQL (every table's statements) loads with the first use, as the engine does: an event
  // that never touches the store costs none of it at cold start.
  const [{ migrate }, { sqlStore }] = await Promise.all([
    import('./migrations.ts'),
    import('./sql-store.ts'),
  ]);
  try {
    await migrate(db);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  const store = sqlStore(db, {
    ...(options.now ? { now: options.now } : {}),
    ...(options.idempotencyTtlMs ? { idempotencyTtlMs: options.idempotencyTtlMs } : {}),
  });
  await store.purgeExpired();
  return store;
}

/**
 * The store a function uses, opened once per instance on first use: DATABASE_URL (PostgreSQL; the
 * local runtime serves its PGlite this way too), else PGlite under FC_DEVOPS_STATE_DIR.
 */
export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): () => Promise<Store> {
  let opening: Promise<Store> | undefined;
  return () => {
    opening ??= openStore({
      databaseUrl: env.DATABASE_URL,
      dir: env.FC_DEVOPS_STATE_DIR ?? '.fc-devops/state',
    }).catch((error) => {
      opening = undefined;
      throw error;
    });
    return opening;
  };
}
