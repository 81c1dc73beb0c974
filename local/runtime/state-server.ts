import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Turns } from './pg-turns.ts';
import { WireSession } from './pglite-wire.ts';

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
  const client = await openPglite(join(stateDir, 'state'));
  try {
    await migrate(client);
  } catch (error) {
    await client.close();
    throw error;
  }
  // PGlite is one session. Connections are many and long-lived (each function instance keeps its
  // own), but their requests take turns: a connection that sends holds the turn until the server's
  // ReadyForQuery says it is idle again (out of any transaction); others wait, their bytes held back.
  // Interleaved extended-protocol messages of two connections would bind each other's parameters.
  const turns = new Turns();
  const open = new Set<Socket>();
  const outer = createServer((socket) => {
    socket.setNoDelay(true);
    open.add(socket);
    let ended = false;
    const session = new WireSession(
      client.db,
      (answer, status) => {
        if (!ended) socket.write(answer);
        if (status === 'I') turns.release(conn);
      },
      () => socket.destroy(),
    );
    const conn = turns.join(socket, session);
    socket.on('data', (chunk: Buffer) => turns.send(conn, chunk));
    const end = () => {
      if (ended) return;
      ended = true;
      open.delete(socket);
      socket.destroy();
      // The turn passes on only once what this connection left open is closed.
      session
        .close()
        .catch(() => {}) // the database closing under it (stop): nothing left to end
        .finally(() => turns.leave(conn));
    };
    socket.on('close', end);
    socket.on('error', end);
  });
  await new Promise<void>((resolve) => outer.listen(0, '127.0.0.1', resolve));
  const url = `postgres://postgres@127.0.0.1:${(outer.address() as AddressInfo).port}/postgres?fcdevops_serial=1`;
  const urlFile = join(stateDir, 'state.url');
  // The pid tells the CLI whether the runtime that owns these files is still alive.
  writeFileSync(urlFile, `${url}\n${process.pid}\n`);
  return {
    url,
    async stop() {
      // Only our own file: another process's runtime may have written it since.
      const [, pid] = existsSync(urlFile) ? readFileSync(urlFile, 'utf8').trim().split('\n') : [];
      if (Number(pid) === process.pid) rmSync(urlFile, { force: true });
      await new Promise<void>((resolve) => {
        outer.close(() => resolve());
        // Connections are kept open by their clients: close them, or this waits for the clients.
        for (const socket of open) socket.destroy();
        outer.unref();
      });
      await client.close();
    },
  };
}
