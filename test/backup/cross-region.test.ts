import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { SANDBOX_CREDENTIALS } from '../../local/sandbox/keys.ts';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { signRequest } from '../../shared/auth/signing.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { runCli, until } from '../helpers.ts';
import { invokeJob, type System, startSystem } from '../system.ts';

// The drill's check connects to the local PostgreSQL: the sandbox's instances answer there.
const PG = process.env.FC_DEVOPS_TEST_PG_ENDPOINT ?? '127.0.0.1:5432';
const RETENTION =
  '{ daily: 7, weekly: 4, monthly: 3, yearly: 0, minKeep: 3, minAgeHours: 24, timeZone: UTC }';
const CONFIG = `region: cn-hangzhou
backups:
  policies:
    orders:
      instances: [rm-orders]
      schedule: "0 0 2 * * *"
      retention: ${RETENTION}
      deleteForeign: true
      drill: { schedule: "0 0 5 * * SUN", deadlineMinutes: 60, check: "select 41 + 1", user: postgres, database: postgres }
      crossRegion: { region: cn-shanghai, maxLagHours: 6 }
    stale:
      instances: [rm-stale]
      schedule: "0 0 2 * * *"
      retention: ${RETENTION}
      crossRegion: { region: cn-shanghai, maxLagHours: 6 }
    legacy:
      instances: [rm-maria]
      schedule: "0 0 2 * * *"
      crossRegion: { region: cn-shanghai }
access:
  keys:
    ops-carol: { secret: "\${env:T_CAROL}", roles: [{ targets: ["*"], actions: [view] }] }
`;
const DAY = 86_400_000;
/** What RDS is asked to keep the copies for: the longest the plan above keeps a backup, (3 + 1) months of 31 days. */
const WANT_DAYS = 124;

describe('cross-region RDS backups through the running system', () => {
  let system: System;
  let sandbox: Sandbox;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    system = await startSystem({
      config: CONFIG,
      timeScale: 600,
      env: () => ({ T_CAROL: 'carol-secret' }),
      seed: {
        rds: {
          instances: [
            {
              id: 'rm-orders',
              engine: 'PostgreSQL',
              engineVersion: '15.0',
              endpoint: PG,
              backupHistory: { days: 200, manualEvery: 1 },
              crossBackup: { region: 'cn-shanghai', retentionDays: 200 },
            },
            {
              id: 'rm-stale',
              backupHistory: { days: 30, manualEvery: 1 },
              crossBackup: { region: 'cn-shanghai', retentionDays: WANT_DAYS, stoppedDaysAgo: 3 },
            },
            { id: 'rm-maria', engine: 'MariaDB', backupHistory: { days: 3, manualEvery: 1 } },
          ],
        },
      },
    });
    ({ sandbox, runtime } = system);
  });
  afterAll(async () => {
    await system?.stop();
  });

  const cloud = (region = 'cn-hangzhou') =>
    createCloud({
      region,
      accountId: '1',
      baseUrl: sandbox.url,
      credentials: async () => SANDBOX_CREDENTIALS,
      retry: { attempts: 2, baseMs: 10, maxMs: 50 },
    });
  const job = (kind: string, key: string, payload: unknown) =>
    invokeJob(runtime.url, 'backup-rotate', kind, key, payload);
  const window = () => ({ start: new Date(Date.now() - 400 * DAY), end: new Date(Date.now() + 30 * DAY) });
  const homeBackups = (id: string) => cloud().rds.listBackups(id, window());
  const copies = (id: string) => cloud().rds.listCrossBackups(id, 'cn-shanghai', window());
  const events = (kind: string) =>
    sandbox.calls.filter(
      (c) => c.action === 'InvokeFunction' && (c.params as { event?: string }).event === kind,
    );

  it('sets the instance to copy to the second region, and keeps the same backups in both by one plan', async () => {
    const first = await job('backup.rotate', 'x:orders:1', { policy: 'orders', instanceId: 'rm-orders' });
    expect(first.status).toBe('done');
    const report = first.result;
    expect(report.status).toBe('rotated');
    // The seed kept copies 200 days; the policy's longest keep is 124.
    expect(report.crossRegion.policy).toEqual({
      status: 'fixed',
      detail: `copies are kept 200 days, not ${WANT_DAYS}: now copies to cn-shanghai, kept ${WANT_DAYS} days`,
    });
    expect(await cloud().rds.crossBackupPolicy('rm-orders')).toMatchObject({
      BackupEnabled: 'Enable',
      CrossBackupRegion: 'cn-shanghai',
      Retention: WANT_DAYS,
      LogBackupEnabled: 'Disable',
    });
    // RDS expired the copies past the new retention: none older than 124 days is left.
    const listed = await copies('rm-orders');
    expect(report.crossRegion.copies).toBe(listed.length);
    // The seed's copies of 200 days are cut to 124 (the copies RDS keeps until they expire).
    expect(listed.length).toBeGreaterThanOrEqual(WANT_DAYS - 1);
    expect(listed.length).toBeLessThanOrEqual(WANT_DAYS);

    // The backup this rotation made is copied once it has finished and the copy has travelled.
    const created = (await homeBackups('rm-orders')).find((b) => b.BackupId === report.created)!;
    await until(
      async () => (await copies('rm-orders')).some((c) => c.BackupStartTime === created.BackupStartTime),
      20_000,
    );
    const second = await job('backup.rotate', 'x:orders:2', { policy: 'orders', instanceId: 'rm-orders' });
    const again = second.result;
    expect(again.created).toBeUndefined();
    expect(again.crossRegion.policy.status).toBe('ok');
    expect(again.crossRegion.behind).toBeUndefined();
    // One plan: the copies it keeps are the very backups kept at home (a copy is named by its start).
    const home = (await homeBackups('rm-orders')).map((b) => b.BackupStartTime).sort();
    const expiring = new Set<string>(again.crossRegion.expiring);
    const keptCopies = (await copies('rm-orders'))
      .filter((c) => !expiring.has(String(c.CrossBackupId)))
      .map((c) => c.BackupStartTime)
      .sort();
    if (home.length > 20) console.log(JSON.stringify(first.result).slice(0, 3000));
    expect(home.length).toBeGreaterThanOrEqual(7 + 3);
    // Backups older than any bucket reaches (the seed's reach 200 days back) are deleted too.
    expect(home.length).toBeLessThan(20);
    expect(keptCopies).toEqual(home);
    expect(again.crossRegion.kept).toBe(home.length);
  });

  it('flags a region that is behind as a warning event, and a MariaDB instance as not copyable', async () => {
    const stale = await job('backup.rotate', 'x:stale:1', {
      policy: 'stale',
      instanceId: 'rm-stale',
      dryRun: true,
    });
    expect(stale.result.crossRegion).toMatchObject({
      region: 'cn-shanghai',
      policy: { status: 'ok' },
      behind: expect.stringMatching(/^backup \w+ \(.+\) has no copy in cn-shanghai after 6 h$/),
    });
    await until(() => events('backup.region.behind').length > 0 || undefined, 20_000);
    expect(events('backup.region.behind')[0]!.params).toMatchObject({
      severity: 'warning',
      subject: 'stale (rm-stale) in cn-shanghai',
    });
    const maria = await job('backup.rotate', 'x:maria:1', { policy: 'legacy', instanceId: 'rm-maria' });
    expect(maria.result.status).toBe('rotated');
    expect(maria.result.crossRegion).toMatchObject({
      policy: { status: 'unsupported' },
      error: 'RDS does not copy MariaDB backups across regions (only MySQL, PostgreSQL, SQLServer)',
    });
    expect(
      sandbox.calls.filter((c) => c.action === 'ModifyInstanceCrossBackupPolicy' && c.status === 200),
    ).toHaveLength(1);
  });

  it('drills from the other region beside the home one, and from the copy alone while the home region is down', async () => {
    const home = await job('backup.drill', 'x:drill:home', { policy: 'orders', instanceId: 'rm-orders' });
    const other = await job('backup.drill', 'x:drill:sh', {
      policy: 'orders',
      instanceId: 'rm-orders',
      region: 'cn-shanghai',
    });
    expect(home.result).toMatchObject({
      status: 'passed',
      region: 'cn-hangzhou',
      cloneId: expect.stringMatching(/^rm-clone/),
    });
    expect(other.result).toMatchObject({
      status: 'passed',
      region: 'cn-shanghai',
      cloneId: expect.stringMatching(/^rm-ddr/),
      check: 'select 41 + 1 → 42',
      secondsToRestore: expect.any(Number),
    });
    // The restore ran in Shanghai, from a copy there; its instance is gone again.
    const ddr = sandbox.calls.find((c) => c.action === 'CreateDdrInstance' && c.status === 200)!;
    expect(ddr.params).toMatchObject({
      RegionId: 'cn-shanghai',
      RestoreType: 'BackupSet',
      BackupSetRegion: 'cn-shanghai',
      Engine: 'PostgreSQL',
    });
    expect(Object.keys(sandbox.stateIn('cn-shanghai').rds.instances)).toEqual([]);

    const report = async () => {
      const path = '/policies/orders/regions';
      const headers = signRequest({
        method: 'GET',
        path,
        body: '',
        keyId: 'ops-carol',
        secret: 'carol-secret',
      });
      const r = await fetch(`${runtime.url}/backup-rotate${path}`, { headers });
      return { status: r.status, body: (await r.json()) as Record<string, any> };
    };
    const both = await report();
    expect(both.status).toBe(200);
    const [hz, sh] = both.body.regions;
    expect(hz).toMatchObject({ region: 'cn-hangzhou', role: 'home', behind: [] });
    expect(sh).toMatchObject({ region: 'cn-shanghai', role: 'copy', behind: [] });
    // The newest copy is the newest backup; RDS keeps more copies than the plan (it expires them by age).
    expect(sh.holds[0]).toMatchObject({
      instanceId: 'rm-orders',
      newest: hz.holds[0].newest,
      source: 'listed',
    });
    expect(sh.holds[0].count).toBeGreaterThan(hz.holds[0].count);
    // The drills' restore times, side by side.
    expect(hz.drills).toEqual([
      { instanceId: 'rm-orders', secondsToRestore: home.result.secondsToRestore, at: expect.any(String) },
    ]);
    expect(sh.drills).toEqual([
      { instanceId: 'rm-orders', secondsToRestore: other.result.secondsToRestore, at: expect.any(String) },
    ]);
    expect(both.body.warnings).toEqual([]);

    sandbox.faults.setRegion('cn-hangzhou', true);
    try {
      // Without the home region the report says so, and shows the copies the last rotation saw.
      const without = await report();
      expect(without.status).toBe(200);
      expect(without.body.regions[0].holds[0].error).toMatch(/ServiceUnavailable/);
      expect(without.body.regions[1].holds[0]).toMatchObject({
        instanceId: 'rm-orders',
        count: expect.any(Number),
        source: expect.stringMatching(/^recorded \d{4}-/),
        error: expect.stringMatching(/^not listed \(.*ServiceUnavailable/),
      });
      expect(without.body.warnings).toEqual([
        expect.stringMatching(/^cn-hangzhou: rm-orders: rds: DescribeBackups failed with ServiceUnavailable/),
        expect.stringMatching(
          /^cn-shanghai: rm-orders: not listed \(rds: DescribeCrossRegionBackups failed with ServiceUnavailable/,
        ),
      ]);
      const down = await job('backup.drill', 'x:drill:sh:down', {
        policy: 'orders',
        instanceId: 'rm-orders',
        region: 'cn-shanghai',
      });
      if (!down.result) console.log(JSON.stringify(down));
      expect(down.result).toMatchObject({
        status: 'passed',
        region: 'cn-shanghai',
        check: 'select 41 + 1 → 42',
        note: expect.stringContaining('cn-hangzhou did not answer'),
      });
      const homeDown = await job('backup.drill', 'x:drill:home:down', {
        policy: 'orders',
        instanceId: 'rm-orders',
      });
      expect(homeDown.errorMessage).toMatch(/ServiceUnavailable/);
    } finally {
      sandbox.faults.setRegion('cn-hangzhou', false);
    }
  });

  it("refuses a drill in a region that is not the policy's second one, naming the field", async () => {
    for (const region of ['cn-beijing', '__proto__']) {
      const r = await job('backup.drill', `x:drill:bad:${region}`, {
        policy: 'orders',
        instanceId: 'rm-orders',
        region,
      });
      expect(r).toEqual({
        status: 'rejected',
        error: 'ParseError',
        issues: [
          {
            path: 'payload.region',
            message: `policy orders has its second region in cn-shanghai, not ${region}`,
          },
        ],
      });
    }
    expect(
      sandbox.calls.filter(
        (c) =>
          c.action === 'CreateDdrInstance' && (c.params as { RegionId?: string }).RegionId !== 'cn-shanghai',
      ),
    ).toEqual([]);
  });

  it('config check --cloud names a second region RDS does not copy to from here, and an engine it cannot copy', async () => {
    const file = join(system.dir, 'cloud-check.yaml');
    writeFileSync(
      file,
      `region: cn-hangzhou
backups:
  policies:
    orders:
      instances: [rm-orders]
      schedule: "0 0 2 * * *"
      crossRegion: { region: cn-nanjing }
    legacy:
      instances: [rm-maria]
      schedule: "0 0 2 * * *"
      crossRegion: { region: cn-shanghai }
`,
    );
    const env = { ...process.env, FC_DEVOPS_CLOUD_URL: sandbox.url, ALIBABA_CLOUD_ACCESS_KEY_ID: '' };
    const bad = await runCli(['config', 'check', file, '--cloud'], { env });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^\S+cloud-check\.yaml backups\.policies\.orders\.crossRegion\.region: RDS does not copy backups from cn-hangzhou to cn-nanjing \(it offers cn-shanghai, .*\)$/,
      ),
      `${file} backups.policies.legacy.instances: rm-maria is MariaDB: RDS copies only MySQL, PostgreSQL, SQLServer backups across regions`,
    ]);
    const fine = join(system.dir, 'cloud-fine.yaml');
    writeFileSync(fine, CONFIG.replace(/ {4}legacy:[\s\S]*?(?=access:)/, ''));
    const good = await runCli(['config', 'check', fine, '--cloud'], {
      env: { ...env, T_CAROL: 'carol-secret' },
    });
    expect(good.stderr).toBe('');
    expect(good.stdout).toMatch(/: ok \(region cn-hangzhou; .*; the cloud agrees$/m);
  });
});
