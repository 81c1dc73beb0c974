import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { SANDBOX_CREDENTIALS } from '../../local/sandbox/keys.ts';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { signRequest } from '../../shared/auth/signing.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { invokeJob, type System, startSystem } from '../system.ts';

const CONFIG = `region: cn-hangzhou
backups:
  policies:
    orders:
      instances: [rm-two-years]
      schedule: "0 0 2 * * *"
      retention: { daily: 7, weekly: 4, monthly: 12, yearly: 2, minKeep: 3, minAgeHours: 24, timeZone: UTC }
      deleteForeign: true
      drill: { schedule: "0 0 5 * * SUN", deadlineMinutes: 60, check: "select 1" }
    legacy:
      instances: [rm-legacy, rm-missing]
      schedule: "0 0 2 * * *"
access:
  keys:
    ops: { secret: "\${env:T_OPS}", roles: [{ targets: ["*"], actions: [run] }] }
`;

const DAY = 86_400_000;

/** What GFS should keep of one backup a day for two years, worked out the plain way (UTC). */
function expectedKeep(starts: { id: string; start: number }[], now: number): Set<string> {
  const newestFirst = [...starts].sort((a, b) => b.start - a.start);
  const keep = new Set<string>(newestFirst.slice(0, 3).map((b) => b.id));
  for (const b of newestFirst) if (now - b.start < DAY) keep.add(b.id);
  const pick = (count: number, bucket: (t: number) => string) => {
    const seen = new Set<string>();
    for (const b of newestFirst) {
      const k = bucket(b.start);
      if (seen.size < count && !seen.has(k)) {
        seen.add(k);
        keep.add(b.id);
      }
    }
  };
  const iso = (t: number) => new Date(t).toISOString();
  pick(7, (t) => iso(t).slice(0, 10));
  pick(4, (t) => {
    const d = new Date(
      Date.UTC(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth(), new Date(t).getUTCDate()),
    );
    d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    return iso(d.getTime()).slice(0, 10);
  });
  pick(12, (t) => iso(t).slice(0, 7));
  pick(2, (t) => iso(t).slice(0, 4));
  return keep;
}

describe('backup-rotate against the sandbox', () => {
  let system: System;
  let sandbox: Sandbox;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    system = await startSystem({
      config: CONFIG,
      timeScale: 600,
      env: () => ({ T_OPS: 'ops-secret' }),
      seed: {
        rds: {
          instances: [
            {
              id: 'rm-two-years',
              engine: 'MySQL',
              category: 'HighAvailability',
              backupHistory: { days: 730, manualEvery: 1 },
            },
            {
              id: 'rm-legacy',
              engine: 'SQLServer',
              category: 'Basic',
              backupHistory: { days: 30, manualEvery: 1 },
            },
          ],
        },
      },
    });
    ({ sandbox, runtime } = system);
  });
  afterAll(async () => {
    await system?.stop();
  });

  const cloud = () =>
    createCloud({
      region: 'cn-hangzhou',
      accountId: '1',
      baseUrl: sandbox.url,
      credentials: async () => SANDBOX_CREDENTIALS,
      retry: { attempts: 6, baseMs: 10, maxMs: 50 },
    });
  // Jobs run synchronously through the invoke API here, so the whole answer comes back.
  const job = (kind: string, key: string, payload: unknown) =>
    invokeJob(runtime.url, 'backup-rotate', kind, key, payload);
  const all = async (id: string) =>
    cloud().rds.listBackups(id, {
      start: new Date(Date.now() - 3 * 366 * DAY),
      end: new Date(Date.now() + 2 * DAY),
    });

  it('answers a dry run over HTTP with the plan, deleting nothing', async () => {
    const body = JSON.stringify({ dryRun: true });
    const headers = signRequest({
      method: 'POST',
      path: '/policies/orders/run',
      body,
      keyId: 'ops',
      secret: 'ops-secret',
    });
    const response = await fetch(`${runtime.url}/backup-rotate/policies/orders/run`, {
      method: 'POST',
      headers,
      body,
    });
    const result = (await response.json()) as { reports: { deleted: string[]; kept: number }[] };
    expect(response.status).toBe(200);
    expect(result.reports[0]!.deleted.length).toBeGreaterThan(600);
    expect(await all('rm-two-years')).toHaveLength(730);
    const unsigned = await fetch(`${runtime.url}/backup-rotate/policies/orders/run`, {
      method: 'POST',
      body,
    });
    expect(unsigned.status).toBe(401);
  });

  it('rotates two years of daily backups to exactly the expected set, through injected throttling', async () => {
    const before = await all('rm-two-years');
    sandbox.faults.set('DescribeBackups', { failNext: 3, failWith: 'throttle' });
    sandbox.faults.set('DeleteBackup', { failNext: 2, failWith: 'unavailable' });
    const result = await job('backup.rotate', 'rotate:orders:rm-two-years:t1', {
      policy: 'orders',
      instanceId: 'rm-two-years',
    });
    sandbox.faults.clear();
    expect(result.status).toBe('done');
    const report = result.result;
    expect(report).toMatchObject({ status: 'rotated', created: expect.any(String), deletable: true });
    const after = await all('rm-two-years');
    const now = Date.now();
    const expected = expectedKeep(
      [...before, after.find((b) => b.BackupId === report.created)!].map((b) => ({
        id: b.BackupId,
        start: Date.parse(b.BackupStartTime),
      })),
      now,
    );
    expect(new Set(after.map((b) => b.BackupId))).toEqual(expected);
    expect(sandbox.calls.filter((c) => c.action === 'DeleteBackup' && c.status === 200).length).toBe(
      Math.ceil(report.deleted.length / 100),
    );
  });

  it('does one backup when the same job is delivered twice', async () => {
    const count = () => sandbox.calls.filter((c) => c.action === 'CreateBackup' && c.status === 200).length;
    const before = count();
    const first = await job('backup.rotate', 'rotate:orders:rm-two-years:t2', {
      policy: 'orders',
      instanceId: 'rm-two-years',
    });
    const second = await job('backup.rotate', 'rotate:orders:rm-two-years:t2', {
      policy: 'orders',
      instanceId: 'rm-two-years',
    });
    expect(second).toEqual({ status: 'duplicate', result: first.result });
    expect(count() - before).toBeLessThanOrEqual(1);
  });

  it('starts a scheduled rotation once, however often the timer event is delivered', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const tick = () =>
      fetch(`${runtime.url}/2023-03-30/functions/backup-rotate/invocations`, {
        method: 'POST',
        body: JSON.stringify({ triggerTime: `${today}T02:00:30Z`, triggerName: 'schedule', payload: '' }),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const enqueued = () => sandbox.calls.filter((c) => c.action === 'InvokeFunction').length;
    const before = enqueued();
    const first = await tick();
    const second = await tick();
    const due = `${today}T02:00:00.000Z`;
    expect(first).toEqual({
      started: [
        `rotate:orders:rm-two-years:${due}`,
        `rotate:legacy:rm-legacy:${due}`,
        `rotate:legacy:rm-missing:${due}`,
      ],
    });
    // Each policy's firing is done: the redelivered tick finds nothing due and enqueues nothing.
    expect(second).toEqual({ started: [] });
    expect(enqueued() - before).toBe(3);
  });

  it('reports an instance that does not allow deletion and deletes nothing; an unknown instance fails alone', async () => {
    const legacy = await job('backup.rotate', 'rotate:legacy:rm-legacy', {
      policy: 'legacy',
      instanceId: 'rm-legacy',
    });
    expect(legacy.result).toMatchObject({
      status: 'rotated',
      deletable: false,
      deleted: [],
      reason: expect.stringContaining('do not allow deleting backups'),
    });
    const missing = await job('backup.rotate', 'rotate:legacy:rm-missing', {
      policy: 'legacy',
      instanceId: 'rm-missing',
    });
    expect(missing).toMatchObject({
      status: 'failed',
      message: expect.stringContaining('InvalidDBInstanceId.NotFound'),
    });
  });

  it('runs a restore drill: clones the newest backup, waits for Running, deletes the clone, reports the time', async () => {
    const result = await job('backup.drill', 'drill:orders:1', {
      policy: 'orders',
      instanceId: 'rm-two-years',
    });
    expect(result.result).toMatchObject({
      status: 'passed',
      cloneId: expect.stringMatching(/^rm-clone/),
      secondsToRestore: expect.any(Number),
      check: expect.stringContaining('skipped'),
    });
    const clones = sandbox.calls
      .filter((c) => c.action === 'CloneDBInstance' || c.action === 'DeleteDBInstance')
      .map((c) => c.action);
    expect(clones).toEqual(['CloneDBInstance', 'DeleteDBInstance']);
    expect(Object.keys(sandbox.state.rds.instances).filter((id) => id.startsWith('rm-clone'))).toEqual([]);
  });
});
