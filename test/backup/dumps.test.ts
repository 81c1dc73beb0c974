import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { SANDBOX_CREDENTIALS } from '../../local/sandbox/keys.ts';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { signRequest } from '../../shared/auth/signing.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { sha256Hex } from '../../shared/util/hash.ts';
import { until } from '../helpers.ts';
import { invokeJob, type System, startSystem } from '../system.ts';

/** Real servers on this machine (CI starts them): PostgreSQL on 5432, MariaDB on 3306. */
const PG = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MY = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const DB = `fcd_dump_${process.pid}`;

const psql = (db: string, sql: string) =>
  execFileSync('psql', ['-X', '-q', '-tA', '-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-c', sql], {
    encoding: 'utf8',
  }).trim();
const mysql = (sql: string) =>
  execFileSync('mysql', ['-h', '127.0.0.1', '-u', 'root', '-N', '-e', sql], { encoding: 'utf8' }).trim();

const CONFIG = `region: cn-hangzhou
backups:
  policies:
    pg-orders:
      engine: postgres
      database: { url: "\${env:T_PG_URL}", bucket: fc-devops-dumps, prefix: dumps/ }
      schedule: "0 0 3 * * *"
      retention: { daily: 2, weekly: 0, monthly: 0, yearly: 0, minKeep: 2, minAgeHours: 0, timeZone: UTC }
      drill: { schedule: "0 0 4 * * SUN", check: "select count(*) from orders" }
    my-orders:
      engine: mysql
      database: { url: "\${env:T_MY_URL}", bucket: fc-devops-dumps, prefix: dumps/ }
      schedule: "0 0 3 * * *"
      retention: { daily: 2, weekly: 0, monthly: 0, yearly: 0, minKeep: 2, minAgeHours: 0, timeZone: UTC }
      drill: { schedule: "0 0 4 * * SUN", check: "select count(*) from orders" }
    pg-geo:
      engine: postgres
      database: { url: "\${env:T_PG_URL}", bucket: fc-devops-dumps, prefix: dumps/ }
      schedule: "0 0 3 * * *"
      retention: { daily: 2, weekly: 0, monthly: 0, yearly: 0, minKeep: 2, minAgeHours: 0, timeZone: UTC }
      drill: { schedule: "0 0 4 * * SUN", check: "select count(*) from orders" }
      crossRegion: { region: cn-shanghai, bucket: fc-devops-dumps-sh }
    rds-pg:
      instances: [rm-pg]
      schedule: "0 0 3 * * *"
      drill: { schedule: "0 0 4 * * SUN", check: "select count(*) from orders", user: postgres, database: ${DB} }
    rds-pg-unreachable:
      instances: [rm-pg-far]
      schedule: "0 0 3 * * *"
      drill: { schedule: "0 0 4 * * SUN", check: "select 1", user: postgres, database: postgres }
access:
  keys:
    ops-carol: { secret: "\${env:T_CAROL}", roles: [{ targets: ["*"], actions: [view] }] }
`;

describe('self-managed database dumps on the real PostgreSQL and MariaDB servers', () => {
  let system: System;
  let sandbox: Sandbox;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    psql('postgres', `create database ${DB}`);
    psql(
      DB,
      "create table orders (id serial primary key, item text); insert into orders (item) select 'item ' || g from generate_series(1, 42) g",
    );
    mysql(
      `create database ${DB}; create table ${DB}.orders (id int primary key auto_increment, item text); insert into ${DB}.orders (item) values ('a'),('b'),('c')`,
    );
    const pgUrl = new URL(PG);
    pgUrl.pathname = `/${DB}`;
    const myUrl = new URL(MY);
    myUrl.pathname = `/${DB}`;
    system = await startSystem({
      config: CONFIG,
      env: () => ({ T_PG_URL: pgUrl.toString(), T_MY_URL: myUrl.toString(), T_CAROL: 'carol-secret' }),
      // Clones take 15 sandbox minutes; at 600x a drill waits about a second and a half.
      timeScale: 600,
      seed: {
        ossBuckets: { 'fc-devops-dumps-sh': 'cn-shanghai' },
        rds: {
          instances: [
            // The real PostgreSQL server on this machine answers for rm-pg and its clones.
            {
              id: 'rm-pg',
              engine: 'PostgreSQL',
              engineVersion: '15.0',
              category: 'HighAvailability',
              endpoint: '127.0.0.1:5432',
              backupHistory: { days: 3 },
            },
            {
              id: 'rm-pg-far',
              engine: 'PostgreSQL',
              engineVersion: '15.0',
              category: 'HighAvailability',
              backupHistory: { days: 3 },
            },
          ],
        },
      },
    });
    ({ sandbox, runtime } = system);
  });
  afterAll(async () => {
    await system?.stop();
    psql('postgres', `drop database if exists ${DB} with (force)`);
    mysql(`drop database if exists ${DB}`);
  });

  const oss = (region = 'cn-hangzhou') =>
    createCloud({
      region,
      accountId: '1',
      baseUrl: sandbox.url,
      credentials: async () => SANDBOX_CREDENTIALS,
    }).oss;
  const job = (kind: string, key: string, payload: unknown) =>
    invokeJob(runtime.url, 'backup-rotate', kind, key, payload);

  it('an RDS drill runs its check query on the clone where the network allows, and skips it where not', async () => {
    const near = await job('backup.drill', 'rds-pg:drill', { policy: 'rds-pg', instanceId: 'rm-pg' });
    expect(near.result).toMatchObject({
      status: 'passed',
      check: 'select count(*) from orders → 42',
      cloneId: expect.stringMatching(/^rm-clone/),
    });
    const far = await job('backup.drill', 'rds-pg-unreachable:drill', {
      policy: 'rds-pg-unreachable',
      instanceId: 'rm-pg-far',
    });
    expect(far.result).toMatchObject({ status: 'passed', check: 'skipped: no network path to 127.0.0.1:1' });
    expect(Object.keys(sandbox.state.rds.instances).filter((id) => id.startsWith('rm-clone'))).toEqual([]);
  });

  for (const policy of ['pg-orders', 'my-orders'] as const) {
    it(`${policy}: dumps to OSS with a checksum, rotates the dumps, and a drill restores and checks the newest`, async () => {
      const prefix = `dumps/${policy}/`;
      // Three older dumps from earlier days; retention keeps two days.
      for (const day of ['2026-11-20', '2026-11-21', '2026-11-22']) {
        await oss().put('fc-devops-dumps', `${prefix}${day}T03-00-00Z.sql.gz`, Buffer.from('old'));
        await oss().put('fc-devops-dumps', `${prefix}${day}T03-00-00Z.sql.gz.sha256`, Buffer.from('x\n'));
      }
      const rotated = await job('backup.rotate', `${policy}:1`, { policy, instanceId: 'database' });
      expect(rotated.status).toBe('done');
      expect(rotated.result).toMatchObject({
        status: 'rotated',
        created: expect.stringMatching(
          new RegExp(`^${prefix}\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ\\.sql\\.gz$`),
        ),
      });
      const created = rotated.result.created as string;
      const left = (await oss().list('fc-devops-dumps', { prefix })).objects
        .map((o) => o.key)
        .filter((k) => k.endsWith('.gz'));
      expect(left.sort()).toEqual([`${prefix}2026-11-22T03-00-00Z.sql.gz`, created].sort());
      const sha = (await oss().get('fc-devops-dumps', `${created}.sha256`)).toString().trim();
      expect(sha).toMatch(/^[0-9a-f]{64}$/);

      const drill = await job('backup.drill', `${policy}:drill`, { policy, instanceId: 'database' });
      expect(drill.result).toMatchObject({
        status: 'passed',
        backupId: created,
        check: `select count(*) from orders → ${policy === 'pg-orders' ? 42 : 3}`,
      });
      const scratch = drill.result.cloneId as string;
      if (policy === 'pg-orders')
        expect(psql('postgres', `select count(*) from pg_database where datname = '${scratch}'`)).toBe('0');
      else
        expect(
          mysql(`select count(*) from information_schema.schemata where schema_name = '${scratch}'`),
        ).toBe('0');
    });
  }

  it('pg-geo: copies each dump to the bucket in the other region with its checksum checked, prunes both by one plan, and drills from either', async () => {
    const prefix = 'dumps/pg-geo/';
    const HOME = 'fc-devops-dumps';
    const FAR = 'fc-devops-dumps-sh';
    const sh = () => oss('cn-shanghai');
    const old = Buffer.from('old');
    const seedDump = async (o: ReturnType<typeof oss>, bucket: string, day: string) => {
      await o.put(bucket, `${prefix}${day}T03-00-00Z.sql.gz`, old);
      await o.put(bucket, `${prefix}${day}T03-00-00Z.sql.gz.sha256`, Buffer.from(`${sha256Hex(old)}\n`));
    };
    for (const day of ['2026-11-20', '2026-11-21', '2026-11-22']) await seedDump(oss(), HOME, day);
    // The far bucket has 11-20 and 11-22; 11-21 never made it there.
    for (const day of ['2026-11-20', '2026-11-22']) await seedDump(sh(), FAR, day);
    const dumps = async (o: ReturnType<typeof oss>, bucket: string) =>
      (await o.list(bucket, { prefix })).objects
        .map((x) => x.key)
        .filter((k) => k.endsWith('.gz'))
        .sort();
    // The far bucket is in Shanghai: a request signed for Hangzhou is refused, as OSS does.
    await expect(oss().list(FAR, { prefix })).rejects.toThrow();

    const first = await job('backup.rotate', 'pg-geo:1', { policy: 'pg-geo', instanceId: 'database' });
    expect(first.status).toBe('done');
    const created = first.result.created as string;
    expect(first.result).toMatchObject({
      status: 'rotated',
      crossRegion: {
        region: 'cn-shanghai',
        bucket: FAR,
        copied: [created],
        failed: [],
        deleted: [`${prefix}2026-11-20T03-00-00Z.sql.gz`],
      },
    });
    const kept = [`${prefix}2026-11-22T03-00-00Z.sql.gz`, created].sort();
    expect(await dumps(oss(), HOME)).toEqual(kept);
    expect(await dumps(sh(), FAR)).toEqual(kept);
    expect((await sh().get(FAR, `${created}.sha256`)).toString()).toBe(
      (await oss().get(HOME, `${created}.sha256`)).toString(),
    );
    const far = await job('backup.drill', 'pg-geo:drill:sh', {
      policy: 'pg-geo',
      instanceId: 'database',
      region: 'cn-shanghai',
    });
    expect(far.result).toMatchObject({
      status: 'passed',
      region: 'cn-shanghai',
      backupId: created,
      check: 'select count(*) from orders → 42',
    });
    // The regions report: the same dumps in both buckets, and the Shanghai drill's time there.
    const path = '/policies/pg-geo/regions';
    const answer = await fetch(`${runtime.url}/backup-rotate${path}`, {
      headers: signRequest({ method: 'GET', path, body: '', keyId: 'ops-carol', secret: 'carol-secret' }),
    });
    const regions = ((await answer.json()) as { regions: Record<string, any>[] }).regions;
    expect(regions.map((r) => [r.region, r.holds[0].count, r.holds[0].newest])).toEqual([
      ['cn-hangzhou', 2, created],
      ['cn-shanghai', 2, created],
    ]);
    expect(regions[0]!.drills).toEqual([]);
    expect(regions[1]!.drills).toEqual([
      { instanceId: prefix, secondsToRestore: far.result.secondsToRestore, at: expect.any(String) },
    ]);

    // Dumps are named by the second: the next one must be made in a later second than this one.
    const nextSecond = async () => {
      const t = Math.floor(Date.now() / 1000);
      await until(() => Math.floor(Date.now() / 1000) > t || undefined, 5000);
    };
    await nextSecond();
    // The copy is stored with a byte changed: the run fails for it, keeps the dump at home, and says so.
    sandbox.faults.set(`PutObject:${FAR}`, { corruptNext: 1 });
    const second = await job('backup.rotate', 'pg-geo:2', { policy: 'pg-geo', instanceId: 'database' });
    sandbox.faults.clear();
    const bad = second.result.created as string;
    expect(second.result).toMatchObject({
      status: 'copy-failed',
      crossRegion: {
        copied: [],
        failed: [
          {
            key: bad,
            reason: expect.stringMatching(
              /^checksum mismatch after the copy: [0-9a-f]{64} is not [0-9a-f]{64}$/,
            ),
          },
        ],
      },
      reason: expect.stringContaining(`${bad} not copied to ${FAR}: checksum mismatch`),
    });
    expect(await dumps(oss(), HOME)).toContain(bad);
    expect(await dumps(sh(), FAR)).not.toContain(bad);
    // With Shanghai down the home region still rotates and drills, and says the copy is not made.
    await nextSecond();
    sandbox.faults.setRegion('cn-shanghai', true);
    try {
      const down = await job('backup.rotate', 'pg-geo:3', { policy: 'pg-geo', instanceId: 'database' });
      expect(down.result.status).toBe('rotated');
      expect(down.result.crossRegion.error).toMatch(
        /^fc-devops-dumps-sh in cn-shanghai not listed: .*ServiceUnavailable/,
      );
      const home = await job('backup.drill', 'pg-geo:drill:home', {
        policy: 'pg-geo',
        instanceId: 'database',
      });
      expect(home.result).toMatchObject({
        status: 'passed',
        region: 'cn-hangzhou',
        check: 'select count(*) from orders → 42',
      });
    } finally {
      sandbox.faults.setRegion('cn-shanghai', false);
    }
    // With Hangzhou down, the drill restores from Shanghai's bucket, and the report shows what Shanghai holds.
    sandbox.faults.setRegion('cn-hangzhou', true);
    try {
      const fromFar = await job('backup.drill', 'pg-geo:drill:sh:down', {
        policy: 'pg-geo',
        instanceId: 'database',
        region: 'cn-shanghai',
      });
      expect(fromFar.result).toMatchObject({ status: 'passed', region: 'cn-shanghai', backupId: created });
    } finally {
      sandbox.faults.setRegion('cn-hangzhou', false);
    }
    // The next run copies what the far bucket lacks, and both hold the same dumps again.
    await nextSecond();
    const fourth = await job('backup.rotate', 'pg-geo:4', { policy: 'pg-geo', instanceId: 'database' });
    expect(fourth.result.status).toBe('rotated');
    expect(await dumps(sh(), FAR)).toEqual(await dumps(oss(), HOME));
  });
});
