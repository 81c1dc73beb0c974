import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
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
  // PGlite is one session: two client connections interleaving extended-protocol messages would
  // bind each other's parameters. The inner server speaks the wire protocol; the outer one lets one
  // client connection through at a time and queues the rest (clients keep connections short:
  // `fcdevops_serial=1` in the URL tells connectPostgres to close idle connections at once).
  const inner = new PGLiteSocketServer({ db: client.db, port: 0, host: '127.0.0.1', maxConnections: 4 });
  await inner.start();
  const innerPort = Number(inner.getServerConn().split(':').pop());
  const waiting: (() => void)[] = [];
  let busy = false;
  const outer = createServer((socket) => {
    socket.pause();
    const start = () => {
      busy = true;
      const upstream = connect(innerPort, '127.0.0.1');
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        socket.destroy();
        upstream.destroy();
        // The next client starts once the inner server has let this connection go (on one of the
        // next turns), not after a fixed pause: a delivery opens two connections, and a 5 ms pause
        // each capped the whole local system near 100 deliveries a second.
        let turns = 0;
        const handOver = () => {
          if (inner.getStats().activeConnections > 0 && turns++ < 200) return void setImmediate(handOver);
          busy = false;
          waiting.shift()?.();
        };
        setImmediate(handOver);
      };
      for (const s of [socket, upstream]) {
        s.on('close', finish);
        s.on('error', finish);
      }
      socket.pipe(upstream);
      upstream.pipe(socket);
      socket.resume();
    };
    if (busy) waiting.push(start);
    else start();
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
        outer.unref();
      });
      await inner.stop();
      await client.close();
    },
  };
}
