import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import RPCClient from '@alicloud/pop-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Seed } from '../../local/sandbox/seed.ts';
import { Sandbox } from '../../local/sandbox/server.ts';
import { RpcClient } from '../../shared/cloud/rpc.ts';
import { KEY, routeAliyunHostsHere, SEED } from './harness.ts';

// The sandbox's regions are separate, as Alibaba Cloud's are: each has its own RDS instances and
// backups, ECS images and instances, and ESS groups; a region can be made unavailable.

const SHANGHAI: Seed = {
  rds: {
    instances: [
      { id: 'rm-uf6sandbox0001', engine: 'PostgreSQL', engineVersion: '15', backupHistory: { days: 3 } },
    ],
  },
  ecs: {
    images: [{ id: 'm-uf6sandboxweb01', name: 'web-copy', family: 'web', ageDays: 1 }],
    instances: [{ id: 'i-uf6sandbox0001', imageId: 'm-uf6sandboxweb01' }],
  },
  ess: {
    groups: [
      {
        id: 'asg-uf6sandbox0001',
        name: 'web-sh',
        min: 1,
        max: 4,
        desired: 2,
        configurationId: 'asc-uf6sandbox0001',
        imageId: 'm-uf6sandboxweb01',
      },
    ],
  },
};

describe('regions in the sandbox', () => {
  let sandbox: Sandbox;
  let dir: string;
  let restoreDns = () => {};
  const start = () =>
    Sandbox.start({
      port: 0,
      dir,
      seed: { ...SEED, regions: { 'cn-shanghai': SHANGHAI } },
      keys: { [KEY.accessKeyId]: KEY.accessKeySecret },
    });
  const rpc = (service: string, version: string) =>
    new RpcClient({
      service,
      endpoint: `${sandbox.url}/${service}`,
      apiVersion: version,
      credentials: async () => KEY,
      retry: { attempts: 1, baseMs: 1, maxMs: 1 },
    });
  const images = async (region: string) =>
    (
      (await rpc('ecs', '2014-05-26').call('DescribeImages', {
        RegionId: region,
        ImageOwnerAlias: 'self',
      })) as {
        Images: { Image: { ImageId: string }[] };
      }
    ).Images.Image.map((i) => i.ImageId);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-regions-'));
    sandbox = await start();
    restoreDns = routeAliyunHostsHere();
  });
  afterAll(async () => {
    restoreDns();
    await sandbox?.stop();
  });

  it('keeps each region’s images, instances, databases and scaling groups apart', async () => {
    expect(await images('cn-hangzhou')).toEqual(
      expect.arrayContaining(['m-bp1sandboxweb01', 'm-bp1sandboxweb02', 'm-bp1sandboxweb03']),
    );
    expect(await images('cn-hangzhou')).not.toContain('m-uf6sandboxweb01');
    expect(await images('cn-shanghai')).toEqual(['m-uf6sandboxweb01']);
    expect(await images('cn-beijing')).toEqual([]);

    const dbs = async (region: string) =>
      (
        (await rpc('rds', '2014-08-15').call('DescribeDBInstances', { RegionId: region })) as {
          Items: { DBInstance: { DBInstanceId: string }[] };
        }
      ).Items.DBInstance.map((d) => d.DBInstanceId);
    expect(await dbs('cn-shanghai')).toEqual(['rm-uf6sandbox0001']);
    expect(await dbs('cn-hangzhou')).not.toContain('rm-uf6sandbox0001');

    const groups = (await rpc('ess', '2014-08-28').call('DescribeScalingGroups', {
      RegionId: 'cn-shanghai',
    })) as {
      ScalingGroups: { ScalingGroup: { ScalingGroupId: string; RegionId: string }[] };
    };
    expect(groups.ScalingGroups.ScalingGroup).toMatchObject([
      { ScalingGroupId: 'asg-uf6sandbox0001', RegionId: 'cn-shanghai' },
    ]);

    // An image deleted in one region is gone there only; a resource of another region is not found.
    await rpc('ecs', '2014-05-26').call('DeleteImage', {
      RegionId: 'cn-shanghai',
      ImageId: 'm-uf6sandboxweb01',
      Force: 'true',
    });
    expect(await images('cn-shanghai')).toEqual([]);
    await expect(
      rpc('ecs', '2014-05-26').call('DeleteImage', { RegionId: 'cn-shanghai', ImageId: 'm-bp1sandboxweb03' }),
    ).rejects.toMatchObject({ upstreamCode: 'InvalidImageId.NotFound' });
    expect(await images('cn-hangzhou')).toContain('m-bp1sandboxweb03');
  });

  it('refuses a RegionId that is not a region id with 400, naming it, and keeps no state for it', async () => {
    for (const region of ['__proto__', 'constructor', 'cn-hangzhou\u0000', 'x'.repeat(5000)])
      await expect(images(region)).rejects.toMatchObject({
        upstreamCode: 'InvalidRegionId.Malformed',
        status: 400,
        message: expect.stringContaining('The specified RegionId is not valid'),
      });
    expect(Object.keys(sandbox.state.regions ?? {}).sort()).toEqual(
      expect.not.arrayContaining(['__proto__', 'constructor']),
    );
    expect(Object.hasOwn(sandbox.state.regions ?? {}, '__proto__')).toBe(false);
  });

  it('takes the region from the host when the call names none, as the regional endpoints do', async () => {
    const port = new URL(sandbox.url).port;
    const rds = (region: string) =>
      new RPCClient({
        endpoint: `http://rds.${region}.aliyuncs.com:${port}`,
        apiVersion: '2014-08-15',
        accessKeyId: KEY.accessKeyId,
        accessKeySecret: KEY.accessKeySecret,
      });
    const attribute = (region: string) =>
      rds(region).request(
        'DescribeDBInstanceAttribute',
        { DBInstanceId: 'rm-uf6sandbox0001' },
        { method: 'POST' },
      );
    expect(await attribute('cn-shanghai')).toMatchObject({
      Items: { DBInstanceAttribute: [{ DBInstanceId: 'rm-uf6sandbox0001', Engine: 'PostgreSQL' }] },
    });
    await expect(attribute('cn-hangzhou')).rejects.toMatchObject({ code: 'InvalidDBInstanceId.NotFound' });
  });

  it('makes a region unavailable on demand while the others answer, and keeps regions across a restart', async () => {
    const fault = (body: unknown) =>
      fetch(`${sandbox.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify(body) }).then((r) =>
        r.json(),
      );
    // A region that is not a region id is refused, naming the field.
    for (const region of [{ __proto__: 'x' }, 'Hangzhou', ''])
      expect(await fault({ region })).toEqual({ error: 'region: expected a region id such as cn-shanghai' });
    expect(await fault({ region: 'cn-hangzhou', unavailable: true })).toMatchObject({
      regionsDown: ['cn-hangzhou'],
    });
    await expect(images('cn-hangzhou')).rejects.toMatchObject({
      upstreamCode: 'ServiceUnavailable',
      status: 503,
    });
    expect(await images('cn-shanghai')).toEqual([]);
    const dbs = (await rpc('rds', '2014-08-15').call('DescribeDBInstances', { RegionId: 'cn-shanghai' })) as {
      Items: { DBInstance: unknown[] };
    };
    expect(dbs.Items.DBInstance).toHaveLength(1);
    expect(await fault({ region: 'cn-hangzhou', unavailable: false })).not.toHaveProperty('regionsDown');
    expect(await images('cn-hangzhou')).toContain('m-bp1sandboxweb02');

    // What each region holds is kept in the sandbox's state file.
    await sandbox.stop();
    sandbox = await start();
    expect(await images('cn-shanghai')).toEqual([]);
    const backups = (await rpc('rds', '2014-08-15').call('DescribeBackups', {
      RegionId: 'cn-shanghai',
      DBInstanceId: 'rm-uf6sandbox0001',
      StartTime: '2020-01-01T00:00Z',
      EndTime: '2030-01-01T00:00Z',
    })) as { Items: { Backup: unknown[] } };
    expect(backups.Items.Backup).toHaveLength(3);
  });
});
