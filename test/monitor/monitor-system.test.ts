import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createTcp, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../local/sandbox/keys.ts';
import { signRequest } from '../../shared/auth/signing.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { openStore } from '../../shared/store/open.ts';
import { until } from '../helpers.ts';
import { type System, startSystem } from '../system.ts';

const KEYS = { 'ops-alice': 'alice-secret', 'ops-carol': 'carol-secret' } as const;
const ALARM_SECRET = 'test-monitor-alarm-secret';

/** An HTTP server whose answers the test switches: up (200 "ok", after `delayMs`), or down (503). */
function app() {
  const s = { up: true, delayMs: 0, server: undefined as Server | undefined, port: 0 };
  s.server = createHttp((req, res) => {
    setTimeout(() => {
      if (req.url === '/broken') return res.writeHead(500).end('broken');
      res
        .writeHead(s.up ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: s.up ? 'ok' : 'down' }));
    }, s.delayMs);
  });
  return s;
}

describe('monitor: probes, alerts and alarms through the running system', () => {
  let system: System;
  const web = app();
  let tcp: TcpServer | undefined;
  let tcpPort = 0;
  // Ticks run in whole minutes from now: silences are checked against real time at the endpoint.
  const t0 = Math.floor(Date.now() / 60_000) * 60_000;
  let tickAt = t0;

  const startTcp = () =>
    new Promise<void>((resolve) => {
      tcp = createTcp((socket) => socket.end());
      tcp.listen(tcpPort, '127.0.0.1', () => {
        tcpPort = (tcp!.address() as { port: number }).port;
        resolve();
      });
    });
  const stopTcp = () => new Promise<void>((resolve) => tcp!.close(() => resolve()));

  beforeAll(async () => {
    await new Promise<void>((r) => web.server!.listen(0, '127.0.0.1', r));
    web.port = (web.server!.address() as { port: number }).port;
    await startTcp();
    const base = `http://127.0.0.1:${web.port}`;
    system = await startSystem({
      sinks: { dingtalk: {}, lark: {}, wecom: [], slack: [], webhook: { audit: 'hook-secret' } },
      config: `region: cn-hangzhou
notifications:
  channels:
    hook: { type: webhook, url: "\${env:T_HOOK_URL}", secret: "\${env:T_HOOK_SECRET}" }
  routes:
    - match: { kinds: ["monitor.**"] }
      channels: [hook]
      groupWindowSeconds: 0
monitoring:
  checks:
    web: { kind: http, url: "${base}/health", json: { path: "$.status", equals: "ok" }, failuresBeforeDown: 3, successesBeforeUp: 2, severity: critical }
    db: { kind: tcp, host: 127.0.0.1, port: ${tcpPort}, failuresBeforeDown: 2 }
    batch: { kind: http, url: "${base}/health", interval: "@every 5m", failuresBeforeDown: 1 }
    nightly: { kind: http, url: "${base}/broken", failuresBeforeDown: 1 }
    guarded: { kind: http, url: "${base}/broken", failuresBeforeDown: 2, action: { rollback: api } }
  maintenance:
    - { checks: [nightly], from: "${new Date(t0 - 60_000).toISOString()}", to: "${new Date(t0 + 90 * 60_000).toISOString()}", reason: nightly batch }
  alarms:
    secret: "\${env:T_ALARM}"
    actions: { web-cpu-high: { scale: { target: web-asg, step: 2 } } }
scaling:
  targets:
    web-asg: { kind: ess, scalingGroupId: asg-web, min: 1, max: 5, maxStep: 10, cooldownOutSeconds: 0, cooldownInSeconds: 0 }
releases:
  targets:
    api: { kind: fc-alias, function: demo-api, alias: prod }
access:
  keys:
    ops-alice: { secret: "\${env:T_ALICE}", roles: [{ targets: ["*"], actions: [view, silence] }] }
    ops-carol: { secret: "\${env:T_CAROL}", roles: [{ targets: ["*"], actions: [view] }] }
`,
      env: (sandboxUrl) => ({
        T_ALICE: KEYS['ops-alice'],
        T_CAROL: KEYS['ops-carol'],
        T_ALARM: ALARM_SECRET,
        T_HOOK_URL: `${sandboxUrl}/sinks/webhook/audit`,
        T_HOOK_SECRET: 'hook-secret',
      }),
      seed: {
        ess: {
          groups: [
            {
              id: 'asg-web',
              name: 'web',
              min: 1,
              max: 5,
              desired: 2,
              configurationId: 'asc-web',
              imageId: 'm-web',
            },
          ],
        },
        fc: { functions: [{ name: 'demo-api', versions: 2, aliases: { prod: '2' } }] },
      },
    });
    const store = await openStore({ databaseUrl: system.runtime.databaseUrl });
    try {
      await store.appendHistory('release:history:api', {
        value: { action: 'promote', from: '1', to: '2' },
        actor: 'ops-alice',
      });
    } finally {
      await store.close();
    }
  });
  afterAll(async () => {
    // The scaling activity the alarm started ends now, so its follower does not hold the stop up.
    if (system)
      await fetch(`${system.sandbox.url}/_sandbox/time`, {
        method: 'POST',
        body: JSON.stringify({ advanceMs: 3_600_000 }),
      });
    await system?.stop();
    web.server?.close();
    tcp?.close();
  });

  const call = async (key: keyof typeof KEYS | null, method: string, path: string, body?: unknown) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const url = new URL(path, 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const headers = key
      ? signRequest({ method, path: url.pathname, query, body: text, keyId: key, secret: KEYS[key] })
      : {};
    const response = await fetch(`${system.runtime.url}/monitor${path}`, {
      method,
      headers: { ...headers, 'content-type': 'application/json' },
      ...(text ? { body: text } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  /** Fire the probe timer at the next minute (or again at the same one). */
  const tick = async (again = false) => {
    if (!again) tickAt += 60_000;
    const r = await fetch(`${system.runtime.url}/2023-03-30/functions/monitor/invocations`, {
      method: 'POST',
      body: JSON.stringify({
        triggerTime: new Date(tickAt).toISOString().replace(/\.\d+Z$/, 'Z'),
        triggerName: 'probe',
        payload: '',
      }),
    });
    const answer = (await r.json()) as Record<string, string>;
    if (process.env.DEBUG_MONITOR) console.log(JSON.stringify(answer));
    return answer;
  };
  const events = (kind: string, subject: string) =>
    system.sandbox.calls.filter(
      (c) =>
        c.action === 'InvokeFunction' &&
        (c.params as { event?: string }).event === kind &&
        (c.params as { subject?: string }).subject === subject,
    );
  /** Wait until notify has delivered what it was given (other functions' jobs may run on). */
  const settle = () =>
    until(() => !system.runtime.queue.list().some((j) => j.functionName === 'notify') || undefined, 20_000);

  it('raises one alert per incident after N failures, and one recovery with the outage length', async () => {
    expect((await tick()).web).toBe('up');
    web.up = false;
    expect((await tick()).web).toBe('down (status)');
    expect((await tick()).web).toBe('down (status)');
    // A redelivered timer event probes nothing twice.
    expect(await tick(true)).toEqual({ status: 'not-due' });
    expect((await tick()).web).toBe('down (status); down');
    expect((await tick()).web).toBe('down (status)');
    await settle();
    expect(events('monitor.down', 'web')).toHaveLength(1);
    expect((events('monitor.down', 'web')[0]!.params as { severity: string }).severity).toBe('critical');
    web.up = true;
    expect((await tick()).web).toBe('up');
    expect((await tick()).web).toBe('up; up');
    expect((await tick()).web).toBe('up');
    await settle();
    expect(events('monitor.up', 'web')).toHaveLength(1);
    // Down since the first failed probe (minute 2), up at the second good one (minute 7): 5 minutes.
    const detail = (await call('ops-carol', 'GET', '/checks/web')).body;
    expect(detail).toMatchObject({ status: 'up', state: { down: false, incident: null } });
    const history = (await call('ops-carol', 'GET', '/checks/web/history?limit=8')).body.samples;
    expect(history.map((s: { up: boolean }) => s.up)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(history[3]).toMatchObject({ status: 503, error: 'status', detail: 'answered 503, expected 200' });
  });

  it('probes a TCP port, and stays quiet inside a silence, announcing an outage still open when it ends', async () => {
    const silenced = await call('ops-alice', 'POST', '/silences', {
      checks: ['db'],
      until: new Date(Date.now() + 2 * 3_600_000).toISOString(),
      reason: 'moving the database',
    });
    expect(silenced.status).toBe(201);
    await stopTcp();
    expect((await tick()).db).toBe('down (refused), quiet');
    expect((await tick()).db).toBe('down (refused), quiet');
    expect((await tick()).db).toBe('down (refused), quiet');
    await settle();
    expect(events('monitor.down', 'db')).toHaveLength(0);
    expect((await call('ops-carol', 'GET', '/checks/db')).body).toMatchObject({
      status: 'down',
      silences: [{ reason: 'moving the database' }],
    });
    const ended = await call('ops-alice', 'POST', `/silences/${silenced.body.silence.id}/end`);
    expect(ended.status).toBe(200);
    expect((await tick()).db).toBe('down (refused); down');
    await startTcp();
    expect((await tick()).db).toBe('up; up');
    await settle();
    expect(events('monitor.down', 'db')).toHaveLength(1);
    expect(events('monitor.up', 'db')).toHaveLength(1);
    // The recovery says how long: from the first refused connection (3 quiet minutes and the one
    // that announced it) to the first good one.
    const recovery = await until(() =>
      system.sandbox.messages.find(
        (m) => m.channel === 'webhook' && JSON.stringify(m.body).includes('db is up again'),
      ),
    );
    expect(JSON.stringify(recovery.body)).toContain('db is up again after 4 min');
  });

  it('refuses silences without an end, for unknown checks, or by a key without the role', async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const cases: [keyof typeof KEYS, unknown, number, RegExp][] = [
      ['ops-alice', { checks: ['web'], reason: 'r' }, 400, /until/],
      ['ops-alice', { checks: ['nope'], until, reason: 'r' }, 400, /no monitoring check named nope/],
      [
        'ops-alice',
        { checks: ['web'], until: '2020-01-01T00:00:00Z', reason: 'r' },
        400,
        /body.until is in the past/,
      ],
      ['ops-carol', { checks: ['web'], until, reason: 'r' }, 403, /./],
    ];
    for (const [key, body, status, message] of cases) {
      const r = await call(key, 'POST', '/silences', body);
      expect({ body, status: r.status }).toEqual({ body, status });
      expect(JSON.stringify(r.body)).toMatch(message);
    }
    expect((await call('ops-carol', 'GET', '/silences')).body.silences).toEqual([]);
  });

  it('keeps latency history whose percentiles are exact on the recorded samples', async () => {
    for (const delayMs of [5, 40, 10, 80, 20, 160, 15, 30, 60, 25]) {
      web.delayMs = delayMs;
      await tick();
    }
    web.delayMs = 0;
    const samples = (await call('ops-carol', 'GET', '/checks/web/history?limit=1000')).body.samples as {
      at: string;
      up: boolean;
      latencyMs: number;
    }[];
    const hourAgo = tickAt - 3_600_000;
    const latencies = samples
      .filter((s) => s.up && Date.parse(s.at) > hourAgo)
      .map((s) => s.latencyMs)
      .sort((a, b) => a - b);
    const rank = (p: number) => latencies[Math.ceil(p * latencies.length) - 1];
    const { windows } = (await call('ops-carol', 'GET', '/checks/web')).body;
    // The endpoint counts windows back from now (real time); every sample here is within its hour.
    expect(windows['30d']).toMatchObject({ p50: rank(0.5), p95: rank(0.95), p99: rank(0.99) });
    expect(windows['30d'].probes).toBe(samples.length);
    expect(windows['30d'].availability).toBe(
      Math.round((samples.filter((s) => s.up).length / samples.length) * 100_000) / 1000,
    );
  });

  it('probes a check with a longer interval only when it is due', async () => {
    const before = (await call('ops-carol', 'GET', '/checks/batch/history')).body.samples.length;
    for (let i = 0; i < 5; i++) await tick();
    const after = (await call('ops-carol', 'GET', '/checks/batch/history')).body.samples.length;
    expect(after - before).toBe(1);
  });

  it('says nothing inside a maintenance window, and alerts once it is over', async () => {
    // The config's window covers nightly from before the first tick to t0 + 90 min for nightly; jump into it, then past it.
    tickAt = t0 + 60 * 60_000;
    expect((await tick()).nightly).toBe('down (status), quiet');
    tickAt = t0 + 90 * 60_000;
    expect((await tick()).nightly).toBe('down (status); down');
    await settle();
    expect(events('monitor.down', 'nightly')).toHaveLength(1);
  });

  it('turns an alarm callback delivered five times into one event and one scaling change, within the guard rails', async () => {
    const body = (timestamp: string) =>
      JSON.stringify({
        alertName: 'web-cpu-high',
        alertState: 'ALERT',
        timestamp,
        metricName: 'CPUUtilization',
        metricProject: 'acs_ecs_dashboard',
        curValue: '93',
        dimensions: [{ instanceId: 'i-1' }],
      });
    const post = (secret: string, text: string) =>
      fetch(`${system.runtime.url}/monitor/alarms/${secret}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
    expect((await post('wrong-secret', body('1900000000'))).status).toBe(401);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await post(ALARM_SECRET, body('1900000000'))).status);
    expect(answers).toEqual([202, 200, 200, 200, 200]);
    await settle();
    expect(events('monitor.alarm', 'web-cpu-high')).toHaveLength(1);
    await until(() => (system.sandbox.state.ess.groups['asg-web']!.desired === 4 ? true : undefined));
    // Another firing while the first one's scaling activity runs: the scaling guard rails refuse it.
    expect((await post(ALARM_SECRET, body('1900000300'))).status).toBe(202);
    await until(() => events('scale.refused', 'web-asg').length === 1 || undefined);
    expect(system.sandbox.state.ess.groups['asg-web']!.desired).toBe(4);
    expect(
      system.sandbox.calls.filter((c) => c.action === 'ModifyScalingGroup' && c.status === 200),
    ).toHaveLength(1);
    await settle();
    expect(events('monitor.alarm', 'web-cpu-high')).toHaveLength(2);
  });

  it("runs a check's action once per incident: a rollback through release, under its lock", async () => {
    const fc = createCloud({
      region: 'cn-hangzhou',
      accountId: '1',
      baseUrl: system.sandbox.url,
      credentials: async () => SANDBOX_CREDENTIALS,
    }).fc;
    for (let i = 0; i < 4; i++) await tick();
    await settle();
    await until(async () => ((await fc.getAlias('demo-api', 'prod')).versionId === '1' ? true : undefined));
    const store = await openStore({ databaseUrl: system.runtime.databaseUrl });
    try {
      const history = await store.readHistory<{ action: string; automatic: boolean }>('release:history:api', {
        limit: 5,
      });
      expect(history.filter((h) => h.value.action === 'rollback')).toHaveLength(1);
      expect(history[0]).toMatchObject({
        actor: 'monitor:guarded',
        value: { action: 'rollback', from: '2', to: '1', automatic: true },
      });
    } finally {
      await store.close();
    }
  });
});
