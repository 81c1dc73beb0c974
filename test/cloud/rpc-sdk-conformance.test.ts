import { randomUUID } from 'node:crypto';
import RPCClient from '@alicloud/pop-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RAM_ACTIONS } from '../../local/deploy/ram.ts';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { DirectMailAdapter } from '../../shared/cloud/adapters/directmail.ts';
import { EcsAdapter } from '../../shared/cloud/adapters/ecs.ts';
import { EssAdapter } from '../../shared/cloud/adapters/ess.ts';
import { RdsAdapter } from '../../shared/cloud/adapters/rds.ts';
import type { RpcClient } from '../../shared/cloud/rpc.ts';
import { KEY, officialOss, startSandbox } from './harness.ts';

/**
 * Every RPC action the functions call, sent by the official SDK (@alicloud/pop-core, unmodified) to
 * the sandbox. The requests are the ones the functions make: the adapters build them, and pop-core
 * (instead of fc-devops's own client) signs, sends and reads them. A new action the functions call
 * (RAM_ACTIONS, from the reach analysis) must be added here.
 */
describe('every RPC action the functions use, through the official pop-core client', () => {
  let sandbox: Sandbox;
  const called = new Set<string>();

  /** An RpcClient whose transport is pop-core: flat parameters as strings, POST, ClientToken when asked. */
  const viaPopCore = (product: string, apiVersion: string) => {
    const sdk = new RPCClient({
      endpoint: `${sandbox.url}/${product}`,
      apiVersion,
      accessKeyId: KEY.accessKeyId,
      accessKeySecret: KEY.accessKeySecret,
    });
    return {
      call: async (
        action: string,
        params: Record<string, unknown> = {},
        options: { clientToken?: boolean } = {},
      ) => {
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(params)) if (v !== undefined) flat[k] = String(v);
        if (options.clientToken && !flat.ClientToken) flat.ClientToken = randomUUID();
        const answer = await sdk.request(action, flat, { method: 'POST' });
        called.add(`${product}:${action}`);
        return answer;
      },
    } as unknown as RpcClient;
  };

  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => sandbox?.stop());

  it('RDS: instances, backups, tasks, clones and their network, deletions', async () => {
    const rds = new RdsAdapter(viaPopCore('rds', '2014-08-15'), 'cn-hangzhou');
    expect((await rds.describeInstances()).map((i) => i.DBInstanceId)).toContain('rm-bp1sandbox0001');
    expect((await rds.instanceAttribute('rm-bp1sandbox0001')).Engine).toBe('MySQL');
    const backups = await rds.listBackups('rm-bp1sandbox0001', {
      start: new Date(Date.now() - 30 * 86_400_000),
      end: new Date(Date.now() + 86_400_000),
    });
    expect(backups.length).toBeGreaterThan(10);
    const { jobId } = await rds.createBackup('rm-bp1sandbox0001');
    expect((await rds.backupTask('rm-bp1sandbox0001', jobId))?.BackupJobId).toBe(String(jobId));
    const good = backups.find((b) => b.BackupStatus === 'Success')!;
    const { instanceId } = await rds.cloneInstance({
      sourceId: 'rm-bp1sandbox0001',
      backupId: good.BackupId,
    });
    expect(instanceId).toMatch(/^rm-/);
    expect((await rds.netInfo('rm-bp1sandbox0001'))[0]).toMatchObject({
      ConnectionString: expect.any(String),
    });
    await rds.deleteInstance(instanceId);
    const doomed = backups.filter((b) => b.BackupStatus === 'Success' && b.StoreStatus === 'Enabled').at(-1)!;
    await rds.deleteBackups('rm-bp1sandbox0001', [doomed.BackupId]);
  });

  it('RDS: cross-region backup settings, copies, and a restore in the other region', async () => {
    const rds = new RdsAdapter(viaPopCore('rds', '2014-08-15'), 'cn-hangzhou');
    expect(await rds.crossRegions()).toContain('cn-shanghai');
    await rds.setCrossBackupPolicy('rm-bp1sandbox0001', {
      region: 'cn-shanghai',
      retentionDays: 30,
      logBackup: false,
    });
    expect(await rds.crossBackupPolicy('rm-bp1sandbox0001')).toMatchObject({
      BackupEnabled: 'Enable',
      CrossBackupRegion: 'cn-shanghai',
      Retention: 30,
    });
    // Once the RDS test's backup task is done, a new backup finishes and its copy arrives in Shanghai.
    sandbox.clock.advance(60 * 60_000);
    await rds.createBackup('rm-bp1sandbox0001');
    sandbox.clock.advance(60 * 60_000);
    const window = { start: new Date(0), end: new Date(Date.now() + 30 * 86_400_000) };
    const [copy] = await rds.listCrossBackups('rm-bp1sandbox0001', 'cn-shanghai', window);
    expect(copy).toMatchObject({ CrossBackupRegion: 'cn-shanghai', BackupSetStatus: 0 });
    const there = new RdsAdapter(viaPopCore('rds', '2014-08-15'), 'cn-shanghai');
    const { instanceId } = await there.restoreCrossBackup({
      backupSetId: String(copy!.CrossBackupId),
      sourceInstanceId: 'rm-bp1sandbox0001',
      sourceRegion: 'cn-hangzhou',
      engine: copy!.Engine,
      engineVersion: copy!.EngineVersion,
    });
    expect(instanceId).toMatch(/^rm-ddr/);
  });

  it('ECS: images (import, tag, delete, snapshots), instances, Cloud Assistant, launch templates', async () => {
    const ecs = new EcsAdapter(viaPopCore('ecs', '2014-05-26'), 'cn-hangzhou');
    expect((await ecs.describeImages()).map((i) => i.ImageId)).toContain('m-bp1sandboxweb03');
    await officialOss(sandbox).put('images/disk.raw', Buffer.alloc(4096));
    const { imageId } = await ecs.importImage({
      bucket: 'fc-devops-artifacts',
      key: 'images/disk.raw',
      format: 'RAW',
      name: 'web-sdk',
      platform: 'Others Linux',
      osType: 'linux',
      architecture: 'x86_64',
    });
    await ecs.tagImages([imageId], { 'fc-devops:pipeline': 'web' });
    expect((await ecs.describeInstances()).map((i) => i.InstanceId)).toContain('i-bp1sandbox0001');
    const { instanceId } = await ecs.runInstance({
      imageId: 'm-bp1sandboxweb03',
      instanceType: 'ecs.g7.large',
      vSwitchId: 'vsw-sandbox',
      securityGroupId: 'sg-sandbox',
      autoReleaseTime: new Date(Date.now() + 3_600_000),
    });
    const { invokeId } = await ecs.runCommand({ instanceIds: ['i-bp1sandbox0001'], script: 'echo ok' });
    expect((await ecs.invocationResults(invokeId))[0]).toMatchObject({ InstanceId: 'i-bp1sandbox0001' });
    await ecs.deleteInstance(instanceId);
    expect((await ecs.launchTemplates()).map((t) => t.LaunchTemplateId)).toEqual(['lt-bp1sandbox0001']);
    const { versionNumber } = await ecs.createLaunchTemplateVersion(
      'lt-bp1sandbox0001',
      { ImageId: 'm-bp1sandboxweb03' },
      'by pop-core',
    );
    await ecs.setDefaultLaunchTemplateVersion('lt-bp1sandbox0001', versionNumber);
    const versions = await ecs.launchTemplateVersions('lt-bp1sandbox0001');
    expect(versions.find((v) => v.DefaultVersion)?.VersionNumber).toBe(versionNumber);
    const copy = await ecs.copyImage('m-bp1sandboxweb03', 'cn-shanghai', {
      tags: { 'fc-devops:pipeline': 'web' },
    });
    expect(sandbox.stateIn('cn-shanghai').ecs.images[copy]).toMatchObject({
      copiedFrom: { region: 'cn-hangzhou', imageId: 'm-bp1sandboxweb03' },
    });
    await ecs.deleteImage('m-bp1sandboxweb01', { force: true });
    await ecs.deleteSnapshot('s-bp1sandboxweb01');
  });

  it('ESS: groups, configurations, activities, instances, rules', async () => {
    const ess = new EssAdapter(viaPopCore('ess', '2014-08-28'), 'cn-hangzhou');
    const [group] = await ess.scalingGroups();
    expect(group).toMatchObject({ ScalingGroupId: 'asg-bp1sandbox0001' });
    const configurations = await ess.scalingConfigurations('asg-bp1sandbox0001');
    await ess.modifyScalingConfiguration(configurations[0]!.ScalingConfigurationId, {
      imageId: 'm-bp1sandboxweb03',
    });
    const { activityId } = await ess.executeScalingRule(
      'ari:acs:ess:cn-hangzhou:1234567890123456:scalingrule/asr-bp1sandboxout',
    );
    expect((await ess.scalingActivities('asg-bp1sandbox0001', { ids: [activityId] }))[0]).toMatchObject({
      ScalingActivityId: activityId,
    });
    expect((await ess.scalingInstances('asg-bp1sandbox0001')).length).toBeGreaterThan(0);
    // Once that activity is done, the group takes a change of its bounds.
    sandbox.clock.advance(10 * 60_000);
    await ess.modifyScalingGroup('asg-bp1sandbox0001', { maxSize: 25 });
  });

  it('DirectMail: SingleSendMail', async () => {
    const mail = new DirectMailAdapter(viaPopCore('dm', '2015-11-23'));
    const { envIds } = await mail.send({
      account: 'fc-devops@mail.example.com',
      to: ['platform@example.com'],
      subject: 'from pop-core',
      text: 'hello',
    });
    expect(envIds).toHaveLength(1);
  });

  it('covered every RPC action the functions can call', () => {
    const rpcActions = Object.keys(RAM_ACTIONS).filter((a) => /^(rds|ecs|ess|dm):/.test(a));
    expect([...called].sort()).toEqual(rpcActions.sort());
  });
});
