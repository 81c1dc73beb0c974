import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../local/sandbox/keys.ts';
import { signRequest } from '../../shared/auth/signing.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { until } from '../helpers.ts';
import { type System, startSystem } from '../system.ts';

const KEYS = {
  'ops-alice': 'alice-secret',
  'ops-bob': 'bob-secret',
  'ops-dave': 'dave-secret',
} as const;

const config = (health: string) => `region: cn-hangzhou
releases:
  targets:
    api-gated:
      kind: fc-alias
      function: demo-api
      alias: gated
      steps: [10, 100]
      stepWaitSeconds: 3600
      requireApproval: true
    api-race:
      kind: fc-alias
      function: demo-api
      alias: race
      steps: [10, 50, 100]
      stepWaitSeconds: 0
      healthChecks: [{ url: "${health}/slow", passes: 1, maxLatencyMs: 60000 }]
    api-lost:
      kind: fc-alias
      function: demo-api
      alias: lost
access:
  keys:
    ops-alice: { secret: "\${env:T_ALICE}", roles: [{ targets: ["*"], actions: [view, promote, rollback] }] }
    ops-bob: { secret: "\${env:T_BOB}", roles: [{ targets: ["*"], actions: [view, approve] }] }
    ops-dave: { secret: "\${env:T_DAVE}", roles: [{ targets: ["*"], actions: [view, approve] }] }
`;

describe('release: one operation per target, and a record that tells the truth', () => {
  let system: System;
  let store: Store;
  let health: Server;
  // Health probes of /slow wait here until the test lets them answer.
  const waiting: ServerResponse[] = [];

  beforeAll(async () => {
    health = createServer((req, res) => {
      if (req.url === '/slow') waiting.push(res);
      else res.writeHead(200).end();
    });
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
    system = await startSystem({
      config: config(`http://127.0.0.1:${(health.address() as { port: number }).port}`),
      env: () => ({ T_ALICE: KEYS['ops-alice'], T_BOB: KEYS['ops-bob'], T_DAVE: KEYS['ops-dave'] }),
      seed: {
        fc: {
          functions: [{ name: 'demo-api', versions: 3, aliases: { gated: '1', race: '1', lost: '1' } }],
        },
      },
    });
    store = await openStore({ databaseUrl: system.runtime.databaseUrl });
  });
  afterAll(async () => {
    for (const res of waiting) res.writeHead(200).end();
    await store?.close();
    await system?.stop();
    health?.close();
  });

  const fc = () =>
    createCloud({
      region: 'cn-hangzhou',
      accountId: '1',
      baseUrl: system.sandbox.url,
      credentials: async () => SANDBOX_CREDENTIALS,
    }).fc;
  const call = async (key: keyof typeof KEYS, method: string, path: string, body?: unknown) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const response = await fetch(`${system.runtime.url}/release${path}`, {
      method,
      headers: { ...signRequest({ method, path, body: text, keyId: key, secret: KEYS[key] }) },
      ...(text ? { body: text } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const tick = async () => {
    const r = await fetch(`${system.runtime.url}/2023-03-30/functions/release/invocations`, {
      method: 'POST',
      body: JSON.stringify({
        triggerTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        triggerName: 'advance',
        payload: '',
      }),
    });
    return (await r.json()) as Record<string, string>;
  };
  /** The notices `release` handed to notify, by event kind and subject. */
  const notices = (kind: string, subject: string) =>
    system.sandbox.calls.filter(
      (c) =>
        (c.params as { event?: string })?.event === kind &&
        (c.params as { subject?: string }).subject === subject,
    ).length;

  it('decides one of two approvals given at the same moment; the other stays pending and unannounced', async () => {
    const asked = [
      await call('ops-alice', 'POST', '/targets/api-gated/promote', { version: '2' }),
      await call('ops-alice', 'POST', '/targets/api-gated/promote', { version: '3' }),
    ];
    expect(asked.map((a) => a.status)).toEqual([202, 202]);
    const [a, b] = asked.map((x) => x.body.approval as { id: string; token: string });
    // A dry run says that a real promote waits for approval, in the one plan shape.
    const plan = await call('ops-alice', 'POST', '/targets/api-gated/promote', {
      version: '2',
      dryRun: true,
    });
    expect(plan.body).toMatchObject({
      dryRun: true,
      plan: { operation: 'promote', target: 'api-gated', kind: 'fc-alias', requiresApproval: true },
      message: expect.stringContaining('waits until another key with the approve role approves it'),
    });
    const answers = await Promise.all([
      call('ops-bob', 'POST', `/approvals/${a!.id}/approve`, { token: a!.token }),
      call('ops-dave', 'POST', `/approvals/${b!.id}/approve`, { token: b!.token }),
    ]);
    expect(answers.map((x) => x.status).sort()).toEqual([202, 409]);
    const won = answers[0]!.status === 202 ? 0 : 1;
    const [winner, loser] = won === 0 ? [a!, b!] : [b!, a!];
    expect(answers[1 - won]!.body.error).toBe('InProgress');
    // The refused approval is not decided: it can still be approved once the target is free.
    expect((await store.getApproval(loser.id))?.status).toBe('pending');
    expect((await store.getApproval(winner.id))?.status).toBe('approved');
    expect(notices('release.approval.approved', 'api-gated')).toBe(1);
    // The alias and the stored release agree on what runs.
    const version = won === 0 ? '2' : '3';
    expect(await fc().getAlias('demo-api', 'gated')).toMatchObject({
      versionId: '1',
      additionalVersionWeight: { [version]: 0.1 },
    });
    const status = await call('ops-bob', 'GET', '/targets/api-gated');
    expect(status.body.release).toMatchObject({ status: 'running', from: '1', to: version });
    expect(status.body.applying).toBeNull();
    // The refusal is in the audit log as a refusal, with its reason.
    const loserKey = won === 0 ? 'ops-dave' : 'ops-bob';
    const [refused] = (await store.listAudit({ target: 'api-gated', actor: loserKey, limit: 1 })).filter(
      (r) => r.action === 'approve',
    );
    expect(refused).toMatchObject({ decision: 'refused' });
    expect(refused?.reason).toMatch(/api-gated/);
  });

  it('records refused approvals as refused, with the reason they were refused', async () => {
    // The target is busy with the canary above; roll it back first, then ask again.
    expect((await call('ops-alice', 'POST', '/targets/api-gated/rollback', {})).status).toBe(200);
    const asked = await call('ops-alice', 'POST', '/targets/api-gated/promote', { version: '2' });
    const { id, token } = asked.body.approval as { id: string; token: string };
    expect((await call('ops-alice', 'POST', `/approvals/${id}/approve`, { token })).status).toBe(403);
    expect((await call('ops-bob', 'POST', `/approvals/${id}/approve`, { token: 'wrong' })).status).toBe(403);
    const records = await store.listAudit({ target: 'api-gated', limit: 2 });
    expect(records.map((r) => [r.actor, r.action, r.decision, r.reason])).toEqual([
      ['ops-bob', 'approve', 'refused', 'the approval token does not match'],
      ['ops-alice', 'approve', 'refused', 'key ops-alice may not approve api-gated'],
    ]);
    expect((await store.getApproval(id))?.status).toBe('pending');
  });

  it('skips a target an operator is working on, and refuses an operator while a step is in flight', async () => {
    expect((await call('ops-alice', 'POST', '/targets/api-race/promote', { version: '2' })).status).toBe(202);
    // An operator's request holds the target: the timer leaves it alone this tick.
    const held = await store.acquireLock('release:api-race', { owner: 'req-operator', ttlMs: 60_000 });
    if (!held.acquired) throw new Error('lock not taken');
    expect((await tick())['api-race']).toBe('skipped: req-operator holds the target');
    expect(await fc().getAlias('demo-api', 'race')).toMatchObject({ additionalVersionWeight: { '2': 0.1 } });
    await store.releaseLock({ lock: 'release:api-race', owner: 'req-operator', token: held.token });

    // The timer holds the target while its health check is in flight: an operator's rollback waits its turn.
    const stepping = tick();
    await until(() => waiting.length > 0 || undefined);
    const refused = await call('ops-alice', 'POST', '/targets/api-race/rollback', { reason: 'bad metrics' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'InProgress', state: { holder: expect.any(String) } });
    waiting.shift()!.writeHead(200).end();
    expect((await stepping)['api-race']).toBe('step 1');
    expect(await fc().getAlias('demo-api', 'race')).toMatchObject({ additionalVersionWeight: { '2': 0.5 } });

    const back = await call('ops-alice', 'POST', '/targets/api-race/rollback', { reason: 'bad metrics' });
    expect(back).toMatchObject({ status: 200, body: { rolledBack: { from: '2', to: '1' } } });
    expect(await fc().getAlias('demo-api', 'race')).toMatchObject({
      versionId: '1',
      additionalVersionWeight: {},
    });
    const status = await call('ops-alice', 'GET', '/targets/api-race');
    expect(status.body.release).toMatchObject({ status: 'rolled-back', reason: 'bad metrics' });
    expect(await tick()).toEqual({});
  });

  it('refuses a NUL in a reason before anything changes', async () => {
    expect((await call('ops-alice', 'POST', '/targets/api-race/promote', { version: '3' })).status).toBe(202);
    const before = await call('ops-alice', 'GET', '/targets/api-race');
    const bad = await call('ops-alice', 'POST', '/targets/api-race/rollback', { reason: 'x\u0000y' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([
      { path: 'body.reason', message: expect.stringContaining('control characters') },
    ]);
    expect(await fc().getAlias('demo-api', 'race')).toMatchObject({ additionalVersionWeight: { '3': 0.1 } });
    expect((await call('ops-alice', 'GET', '/targets/api-race')).body.release).toEqual(before.body.release);
    expect((await call('ops-alice', 'POST', '/targets/api-race/rollback', {})).status).toBe(200);
  });

  it('finishes a change whose answer was lost: the alias moved, so the promote is recorded as done', async () => {
    // Every answer to UpdateAlias is lost (the client retries, then gives up); the alias did move.
    system.sandbox.faults.set('UpdateAlias', { loseResponseNext: 5 });
    const promoted = await call('ops-alice', 'POST', '/targets/api-lost/promote', { version: '2' });
    system.sandbox.faults.clear();
    expect(promoted).toMatchObject({ status: 200, body: { promoted: { from: '1', to: '2' } } });
    expect((await fc().getAlias('demo-api', 'lost')).versionId).toBe('2');
    const status = await call('ops-alice', 'GET', '/targets/api-lost');
    expect(status.body).toMatchObject({ applying: null, release: { status: 'succeeded', to: '2' } });
    expect((await call('ops-alice', 'GET', '/targets/api-lost/history')).body.entries[0]).toMatchObject({
      action: 'promote',
      from: '1',
      to: '2',
    });
  });

  it('settles a change left applying when its store write never came, on the next tick', async () => {
    // As if the function died after the cloud call: the state still says applying, the alias moved.
    const [state] = await store.readHistory<Record<string, unknown>>('release:state:api-lost', { limit: 1 });
    const release = { ...state!.value, from: '2', to: '3', status: 'succeeded' };
    await store.appendHistory('release:state:api-lost', {
      value: {
        ...release,
        applying: {
          alias: { versionId: '3', additionalVersionWeight: {} },
          previous: state!.value,
          record: { action: 'promote', from: '2', to: '3' },
          since: new Date().toISOString(),
        },
      },
    });
    await fc().updateAlias('demo-api', 'lost', { versionId: '3', additionalVersionWeight: {} });
    expect((await call('ops-alice', 'GET', '/targets/api-lost')).body.applying).not.toBeNull();
    expect((await tick())['api-lost']).toBe('completed an interrupted change');
    const status = await call('ops-alice', 'GET', '/targets/api-lost');
    expect(status.body).toMatchObject({ applying: null, release: { to: '3' } });
    expect(notices('release.reconciled', 'api-lost')).toBe(1);

    // A change that never reached the alias is dropped: the state goes back to what it was.
    const [now] = await store.readHistory<Record<string, unknown>>('release:state:api-lost', { limit: 1 });
    await store.appendHistory('release:state:api-lost', {
      value: {
        ...now!.value,
        to: '1',
        applying: {
          alias: { versionId: '1', additionalVersionWeight: {} },
          previous: now!.value,
          since: new Date().toISOString(),
        },
      },
    });
    expect((await tick())['api-lost']).toBe('abandoned an interrupted change');
    expect((await call('ops-alice', 'GET', '/targets/api-lost')).body.release).toEqual(now!.value);
    expect((await fc().getAlias('demo-api', 'lost')).versionId).toBe('3');
  });
});
