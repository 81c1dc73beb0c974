import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StateServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * The local runtime's state database: one PGlite under `<stateDir>/state`, served over the
 * PostgreSQL wire protocol on loopback. Functions run in several instances at once, and PGlite is
 * one process's database, so they reach it through DATABASE_URL exactly as they reach ApsaraDB RDS
 * for PostgreSQL in the cloud. The URL is also written to `<stateDir>/state.url` for the CLI.
 */
export async function startStateServer(stateDir: string): Promise<StateServer> {
  const { openPglite } = await import('../../shared/store/engines/pglite.ts');
  const { migrate } = await import('../../shared/store/migrations.ts');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const client = await openPglite(join(stateDir, 'state'));
  try {
    await migrate(client);
  } catch (error) {
    await client.close();
    throw error;
  }
  const server = new PGLiteSocketServer({ db: client.db, port: 0, host: '127.0.0.1', maxConnections: 100 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const urlFile = join(stateDir, 'state.url');
  // The pid tells the CLI whether the runtime that owns these files is still alive.
  writeFileSync(urlFile, `${url}\n${process.pid}\n`);
  return {
    url,
    async stop() {
      rmSync(urlFile, { force: true });
      await server.stop();
      await client.close();
    },
  };
}
