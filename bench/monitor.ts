import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcp, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeRound } from '../functions/monitor/round.ts';
import type { Cloud } from '../shared/cloud/cloud.ts';
import { parseConfig } from '../shared/config/load.ts';
import type { NotifyEvent } from '../shared/notify/event.ts';
import { createLogger } from '../shared/runtime/logger.ts';
import { openStore } from '../shared/store/open.ts';

const listen = (s: Server | TcpServer) =>
  new Promise<number>((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)),
  );

/**
 * One probe round of 200 checks (BENCH_MONITOR_CHECKS) against local servers: HTTP checks on ten
 * servers (one answering only after 2 s, one down), TCP checks, and one port that refuses. The
 * round's time should be that of the slowest probe, not the sum: probes run at once. Results are
 * kept in PGlite, as `npm start` keeps them.
 */
export async function runMonitorBench(): Promise<void> {
  const n = Number(process.env.BENCH_MONITOR_CHECKS ?? 200);
  const http = Array.from({ length: 10 }, (_, i) =>
    createServer((_req, res) => {
      const answer = () =>
        res.writeHead(i === 9 ? 503 : 200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      if (i === 8) setTimeout(answer, 2000);
      else answer();
    }),
  );
  const tcp = createTcp((socket) => socket.end());
  const ports = await Promise.all(http.map(listen));
  const tcpPort = await listen(tcp);
  const lines = [];
  for (let i = 0; i < n; i++) {
    if (i % 4 === 3)
      lines.push(
        `    c${i}: { kind: tcp, host: 127.0.0.1, port: ${i % 40 === 39 ? 1 : tcpPort}, timeoutMs: 5000 }`,
      );
    else
      lines.push(
        `    c${i}: { kind: http, url: "http://127.0.0.1:${ports[i % 10]}/health?c=${i}", json: { path: "$.status", equals: "ok" }, timeoutMs: 5000 }`,
      );
  }
  const config = parseConfig(
    `region: cn-hangzhou\nmonitoring:\n  checks:\n${lines.join('\n')}\n`,
    'bench.yaml',
  );
  const dir = mkdtempSync(join(tmpdir(), 'bench-monitor-'));
  const store = await openStore({ dir: join(dir, 'state') });
  const published: NotifyEvent[] = [];
  const ctx = {
    config,
    store,
    events: { publish: async (e: object) => published.push(e as NotifyEvent) as unknown as NotifyEvent },
    cloud: {} as Cloud,
    log: createLogger({ function: 'bench' }, { sink: () => {} }),
    correlationId: 'bench',
  };
  try {
    const rounds: number[] = [];
    let due = Date.parse('2026-11-30T10:00:00Z');
    let outcome: Record<string, string> = {};
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      outcome = await probeRound(ctx, new Date(due));
      rounds.push(performance.now() - t);
      due += 60_000;
    }
    const down = Object.values(outcome).filter((o) => o.startsWith('down')).length;
    console.log(
      `\nmonitor: a probe round of ${n} checks (HTTP on 10 local servers, one answering after 2 s, one down; TCP; a refused port), kept in PGlite: ` +
        `${rounds.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} for 3 rounds; ${n - down} up, ${down} down; ${published.length} alerts (after 3 failures)`,
    );
  } finally {
    await store.close();
    for (const s of [...http, tcp]) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
