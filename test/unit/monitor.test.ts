import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import {
  breachOf,
  certStep,
  initialState,
  inMaintenance,
  isDue,
  objectiveStep,
  step,
} from '../../functions/monitor/incident.ts';
import { at, probe } from '../../functions/monitor/probe.ts';
import { monitorCheck } from '../../shared/config/schema/monitoring.ts';

const T = Date.parse('2026-11-30T10:00:00Z');
const minute = (n: number) => new Date(T + n * 60_000);
const policy = { failuresBeforeDown: 3, successesBeforeUp: 2 };

function run(pattern: string, quietAt: (i: number) => boolean = () => false) {
  let state = initialState();
  const notices: string[] = [];
  [...pattern].forEach((c, i) => {
    const r = step(
      state,
      { at: minute(i), up: c === '+', error: c === '+' ? null : 'status', detail: null },
      policy,
      quietAt(i),
    );
    state = r.state;
    for (const n of r.notices)
      notices.push(`${i}:${n.kind}${n.kind === 'up' ? `:${n.outageMs / 60_000}` : ''}`);
  });
  return { state, notices };
}

describe('alert decisions', () => {
  it('goes down after N failures in a row (the incident starting at the first), up after M good probes', () => {
    expect(run('+--+---+-++').notices).toEqual(['6:down', '10:up:6']);
    expect(run('+--+---+-++').state).toMatchObject({
      down: false,
      incident: null,
      failures: 0,
      successes: 2,
    });
  });
  it('makes one alert per incident however long it lasts, and none for blips', () => {
    expect(run('-'.repeat(50)).notices).toEqual(['2:down']);
    expect(run('--+--+--+').notices).toEqual([]);
  });
  it('stays quiet inside a window, announces an incident still open after it, and no recovery for one never announced', () => {
    expect(run('----++', (i) => i < 3).notices).toEqual(['3:down', '5:up:5']);
    expect(run('---++', (i) => i < 10).notices).toEqual([]);
  });
  it('breaches an objective once, and says when it is met again', () => {
    let s = initialState();
    const seen: string[] = [];
    for (const [i, breach] of [undefined, 'slow', 'slow', undefined].entries()) {
      const r = objectiveStep(s, minute(i), breach, false);
      s = r.state;
      seen.push(...r.notices.map((n) => n.kind));
    }
    expect(seen).toEqual(['objective-breached', 'objective-met']);
    const objective = { availabilityPercent: 99, latencyMs: 500, percentile: 95 as const, windowMinutes: 60 };
    expect(breachOf(objective, { probes: 100, availability: 98.5, p50: 1, p95: 1, p99: 1 })).toBe(
      'availability 98.5% over 60 min, objective 99%',
    );
    expect(breachOf(objective, { probes: 100, availability: 100, p50: 1, p95: 501, p99: 900 })).toBe(
      'p95 latency 501 ms over 60 min, objective 500 ms',
    );
    expect(
      breachOf(objective, { probes: 0, availability: null, p50: null, p95: null, p99: null }),
    ).toBeUndefined();
  });
  it('warns about a certificate once per certificate', () => {
    const soon = new Date(T + 10 * 86_400_000).toISOString();
    const first = certStep(initialState(), soon, 14, minute(0));
    expect(first.notices).toEqual([{ kind: 'certificate', expiresAt: soon, days: 10 }]);
    expect(certStep(first.state, soon, 14, minute(1)).notices).toEqual([]);
    expect(certStep(initialState(), soon, 7, minute(0)).notices).toEqual([]);
  });
  it('knows when a check is due, and what a maintenance window covers', () => {
    expect(isDue('@every 5m', null, minute(0))).toBe(true);
    expect(isDue('@every 5m', minute(0).toISOString(), minute(4))).toBe(false);
    expect(isDue('@every 5m', minute(0).toISOString(), minute(5))).toBe(true);
    expect(isDue('@every 1m', minute(3).toISOString(), minute(3))).toBe(false);
    const windows = [
      { checks: ['api'], from: minute(10).toISOString(), to: minute(20).toISOString() },
      { checks: ['*'], schedule: 'CRON_TZ=Asia/Shanghai 0 0 2 * * *', durationMinutes: 60 },
    ];
    expect(inMaintenance(windows, 'api', minute(10))).toBe(true);
    expect(inMaintenance(windows, 'api', minute(20))).toBe(false);
    expect(inMaintenance(windows, 'db', minute(15))).toBe(false);
    // 02:00-03:00 Beijing is 18:00-19:00 UTC.
    expect(inMaintenance(windows, 'db', new Date('2026-11-30T18:30:00Z'))).toBe(true);
    expect(inMaintenance(windows, 'db', new Date('2026-11-30T19:00:00Z'))).toBe(false);
  });
});

describe('probes', () => {
  it('reads a JSON path', () => {
    const doc = { a: { b: [{ c: 'x' }] }, constructor: 1 };
    expect(at(doc, '$.a.b[0].c')).toBe('x');
    expect(at(doc, '$.a.z')).toBeUndefined();
    expect(at({}, '$.constructor')).toBeUndefined();
  });
  it('resolves DNS against a resolver and checks the answer', async () => {
    const server = createSocket('udp4');
    server.on('message', (q, peer) => {
      // The question ends after the name's zero byte plus type and class.
      const end = q.indexOf(0, 12) + 5;
      const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7]);
      const header = Buffer.from(q.subarray(0, 12));
      header.writeUInt16BE(0x8180, 2);
      header.writeUInt16BE(1, 6);
      server.send(Buffer.concat([header, q.subarray(12, end), answer]), peer.port, peer.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    const port = server.address().port;
    try {
      const check = (expect: string[]) =>
        monitorCheck.parse({
          kind: 'dns',
          name: 'api.example.com',
          server: `127.0.0.1:${port}`,
          expect,
          timeoutMs: 2000,
        });
      expect(await probe(check(['10.0.0.7']))).toMatchObject({ up: true, error: null, detail: '10.0.0.7' });
      expect(await probe(check(['10.0.0.8']))).toMatchObject({
        up: false,
        error: 'dns',
        detail: 'the answer (10.0.0.7) lacks 10.0.0.8',
      });
    } finally {
      server.close();
    }
  });
  it('classifies a refused connection and a timeout', async () => {
    expect(await probe(monitorCheck.parse({ kind: 'tcp', host: '127.0.0.1', port: 1 }))).toMatchObject({
      up: false,
      error: 'refused',
    });
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    try {
      const check = monitorCheck.parse({
        kind: 'dns',
        name: 'x.example.com',
        server: `127.0.0.1:${silent.address().port}`,
        timeoutMs: 300,
      });
      expect(await probe(check)).toMatchObject({ up: false, error: 'timeout' });
    } finally {
      silent.close();
    }
  });
});
