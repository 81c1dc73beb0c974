import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import type { Cloud } from '../../shared/cloud/cloud.ts';
import { CloudError } from '../../shared/cloud/errors.ts';
import { pollUntil } from '../../shared/cloud/poll.ts';
import { cloudFor, startSandbox } from './harness.ts';

describe('product adapters against the sandbox', () => {
  let sandbox: Sandbox;
  let cloud: Cloud;
  beforeAll(async () => {
    sandbox = await startSandbox();
    cloud = cloudFor(sandbox);
  });
  afterAll(async () => sandbox?.stop());

  const advance = (ms: number) => sandbox.clock.advance(ms);

  describe('RDS', () => {
    it('lists the whole backup history across pages, newest first', async () => {
      const backups = await cloud.rds.listBackups('rm-bp1sandbox0001', {
        start: new Date(Date.now() - 90 * 86_400_000),
        end: new Date(Date.now() + 60_000),
      });
      expect(backups).toHaveLength(60);
      expect(backups[0]!.BackupStartTime > backups[59]!.BackupStartTime).toBe(true);
      expect(new Set(backups.map((b) => b.StoreStatus))).toEqual(new Set(['Enabled', 'Disabled']));
      expect(sandbox.calls.filter((c) => c.action === 'DescribeBackups').length).toBeGreaterThanOrEqual(1);
    });

    it('creates a backup whose task goes NoStart → Finished and yields a deletable backup set', async () => {
      const { jobId } = await cloud.rds.createBackup('rm-bp1sandbox0001');
      expect((await cloud.rds.backupTask('rm-bp1sandbox0001', jobId))?.BackupStatus).toBe('NoStart');
      await expect(cloud.rds.createBackup('rm-bp1sandbox0001')).rejects.toMatchObject({
        upstreamCode: 'BackupJobExists',
      });
      advance(11 * 60_000);
      const task = await cloud.rds.backupTask('rm-bp1sandbox0001', jobId);
      expect(task).toMatchObject({ BackupStatus: 'Finished', BackupId: expect.any(String) });
      const [made] = await cloud.rds.listBackups('rm-bp1sandbox0001', {
        start: new Date(Date.now() - 3_600_000),
        end: new Date(Date.now() + 86_400_000),
      });
      expect(made).toMatchObject({
        BackupId: task!.BackupId,
        StoreStatus: 'Enabled',
        BackupMode: 'Manual',
        BackupStatus: 'Success',
      });
      await cloud.rds.deleteBackups('rm-bp1sandbox0001', [task!.BackupId!]);
      const after = await cloud.rds.listBackups('rm-bp1sandbox0001', {
        start: new Date(Date.now() - 3_600_000),
        end: new Date(Date.now() + 86_400_000),
      });
      expect(after.map((b) => b.BackupId)).not.toContain(task!.BackupId);
    });

    it('refuses to delete a Disabled backup set, and more than 100 ids, with the API codes', async () => {
      const all = await cloud.rds.listBackups('rm-bp1sandbox0001', {
        start: new Date(Date.now() - 90 * 86_400_000),
        end: new Date(),
      });
      const disabled = all.find((b) => b.StoreStatus === 'Disabled')!;
      const error = await cloud.rds.deleteBackups('rm-bp1sandbox0001', [disabled.BackupId]).catch((e) => e);
      expect(error).toBeInstanceOf(CloudError);
      expect(error).toMatchObject({
        upstreamCode: 'OperationDenied.BackupStoreStatus',
        status: 403,
        retryable: false,
      });
      expect(error.requestId).toMatch(/[0-9a-f-]{36}/);
    });

    it('names the unknown instance with InvalidDBInstanceId.NotFound', async () => {
      await expect(cloud.rds.instanceAttribute('rm-nope')).rejects.toMatchObject({
        upstreamCode: 'InvalidDBInstanceId.NotFound',
        status: 404,
      });
    });

    it('clones from a backup (Creating → Running) and deletes the clone', async () => {
      const [good] = (
        await cloud.rds.listBackups('rm-bp1sandbox0001', {
          start: new Date(Date.now() - 90 * 86_400_000),
          end: new Date(),
        })
      ).filter((b) => b.BackupStatus === 'Success');
      const { instanceId } = await cloud.rds.cloneInstance({
        sourceId: 'rm-bp1sandbox0001',
        backupId: good!.BackupId,
        instanceClass: 'mysql.n2.small.1',
      });
      expect((await cloud.rds.instanceAttribute(instanceId)).DBInstanceStatus).toBe('Creating');
      const outcome = await pollUntil(
        async () => {
          advance(5 * 60_000);
          return cloud.rds.instanceAttribute(instanceId);
        },
        (i) => i.DBInstanceStatus === 'Running',
        { deadline: new Date(Date.now() + 5000), intervalMs: 1 },
      );
      expect(outcome).toMatchObject({ status: 'done', value: { DBInstanceClass: 'mysql.n2.small.1' } });
      expect(
        (await cloud.rds.describeInstances({ tags: { team: 'orders' } })).map((i) => i.DBInstanceId),
      ).toEqual(['rm-bp1sandbox0001']);
      await cloud.rds.deleteInstance(instanceId);
      await expect(cloud.rds.instanceAttribute(instanceId)).rejects.toMatchObject({
        upstreamCode: 'InvalidDBInstanceId.NotFound',
      });
    });
  });

  describe('ECS', () => {
    it('finds images by tag and family, tags them, and refuses to delete one in use', async () => {
      const images = await cloud.ecs.describeImages({ tags: { 'fc-devops:pipeline': 'web' } });
      expect(images.map((i) => i.ImageId)).toEqual([
        'm-bp1sandboxweb03',
        'm-bp1sandboxweb02',
        'm-bp1sandboxweb01',
      ]);
      await cloud.ecs.tagImages(['m-bp1sandboxweb03'], { 'fc-devops:channel': 'staging' });
      expect(
        (await cloud.ecs.describeImages({ tags: { 'fc-devops:channel': 'staging' } })).map((i) => i.ImageId),
      ).toEqual(['m-bp1sandboxweb03']);
      expect(
        (await cloud.ecs.describeInstances({ imageId: 'm-bp1sandboxweb02' })).map((i) => i.InstanceId),
      ).toEqual(['i-bp1sandbox0001']);
      await expect(cloud.ecs.deleteImage('m-bp1sandboxweb02')).rejects.toMatchObject({
        upstreamCode: 'ImageUsedByInstance',
      });
      const versions = await cloud.ecs.launchTemplateVersions('lt-bp1sandbox0001');
      expect(versions.map((v) => v.LaunchTemplateData.ImageId)).toEqual([
        'm-bp1sandboxweb01',
        'm-bp1sandboxweb02',
      ]);
    });

    it('runs a smoke-test instance with an auto-release time, runs a command, reads its result, deletes it', async () => {
      const release = new Date(Date.now() + 2 * 3_600_000);
      const { instanceId } = await cloud.ecs.runInstance({
        imageId: 'm-bp1sandboxweb03',
        instanceType: 'ecs.g7.large',
        vSwitchId: 'vsw-1',
        securityGroupId: 'sg-1',
        autoReleaseTime: release,
      });
      advance(2 * 60_000);
      const { invokeId } = await cloud.ecs.runCommand({
        instanceIds: [instanceId],
        script: 'curl -fsS localhost/health',
      });
      expect((await cloud.ecs.invocationResults(invokeId))[0]?.InvocationStatus).toBe('Running');
      advance(60_000);
      expect(await cloud.ecs.invocationResults(invokeId)).toEqual([
        expect.objectContaining({ InstanceId: instanceId, InvocationStatus: 'Success', ExitCode: 0 }),
      ]);
      await cloud.ecs.deleteInstance(instanceId);
      expect(await cloud.ecs.describeInstances({ ids: [instanceId] })).toEqual([]);
      await expect(
        cloud.ecs.runInstance({
          imageId: 'm-bp1sandboxweb03',
          instanceType: 'ecs.g7.large',
          vSwitchId: 'v',
          securityGroupId: 's',
          autoReleaseTime: new Date(Date.now() + 60_000),
        }),
      ).rejects.toMatchObject({ upstreamCode: 'InvalidAutoReleaseTime.Malformed' });
    });
  });

  describe('ESS', () => {
    it('changes desired capacity through an activity that goes InProgress → Successful', async () => {
      const [group] = await cloud.ess.scalingGroups(['asg-bp1sandbox0001']);
      expect(group).toMatchObject({ MinSize: 2, MaxSize: 20, TotalCapacity: 4 });
      await cloud.ess.modifyScalingGroup('asg-bp1sandbox0001', { desiredCapacity: 6 });
      const [activity] = await cloud.ess.scalingActivities('asg-bp1sandbox0001');
      expect(activity).toMatchObject({ StatusCode: 'InProgress' });
      await expect(
        cloud.ess.executeScalingRule(
          'ari:acs:ess:cn-hangzhou:1234567890123456:scalingrule/asr-bp1sandboxout',
        ),
      ).rejects.toMatchObject({ upstreamCode: 'ScalingActivityInProgress' });
      advance(3 * 60_000);
      expect((await cloud.ess.scalingActivities('asg-bp1sandbox0001'))[0]).toMatchObject({
        StatusCode: 'Successful',
        Progress: 100,
      });
      expect((await cloud.ess.scalingGroups(['asg-bp1sandbox0001']))[0]).toMatchObject({
        DesiredCapacity: 6,
        TotalCapacity: 6,
      });
      await expect(
        cloud.ess.modifyScalingGroup('asg-bp1sandbox0001', { desiredCapacity: 50 }),
      ).rejects.toMatchObject({ upstreamCode: 'InvalidParameter.Conflict' });
    });

    it('rolls an image into the scaling configuration', async () => {
      await cloud.ess.modifyScalingConfiguration('asc-bp1sandbox0001', { imageId: 'm-bp1sandboxweb03' });
      expect((await cloud.ess.scalingConfigurations('asg-bp1sandbox0001'))[0]).toMatchObject({
        ImageId: 'm-bp1sandboxweb03',
        LifecycleState: 'Active',
      });
    });
  });

  describe('ACK', () => {
    it("sets a node pool's desired size and follows its task to success", async () => {
      const [pool] = await cloud.ack.nodePools('c-sandbox0001');
      expect(pool).toMatchObject({
        nodepool_info: { nodepool_id: 'np-sandbox0001' },
        scaling_group: { desired_size: 3 },
        status: { state: 'active' },
      });
      const { taskId } = await cloud.ack.setDesiredSize('c-sandbox0001', 'np-sandbox0001', 5);
      expect((await cloud.ack.task(taskId)).state).toBe('running');
      expect((await cloud.ack.nodePools('c-sandbox0001'))[0]?.status.state).toBe('scaling');
      advance(4 * 60_000);
      expect((await cloud.ack.task(taskId)).state).toBe('success');
      await expect(cloud.ack.nodePools('c-nope')).rejects.toMatchObject({
        upstreamCode: 'ErrorClusterNotFound',
        status: 404,
      });
    });
  });

  describe('DirectMail', () => {
    it('sends to up to 100 recipients a call and the sandbox keeps the mail', async () => {
      const to = Array.from({ length: 150 }, (_, i) => `ops${i}@example.com`);
      const { envIds } = await cloud.mail.send({
        account: 'fc-devops@mail.example.com',
        to,
        subject: 'Image built',
        html: '<b>m-1</b>',
        text: 'm-1',
      });
      expect(envIds).toHaveLength(2);
      expect(sandbox.mails.slice(-2).map((m) => m.to.length)).toEqual([100, 50]);
      expect(sandbox.mails.at(-1)).toMatchObject({ subject: 'Image built', html: '<b>m-1</b>' });
    });
  });

  describe('FC 3.0', () => {
    it('publishes versions and moves an alias with canary weights', async () => {
      const version = await cloud.fc.publishVersion('demo-api', 'release 4');
      expect(version.versionId).toBe('4');
      expect((await cloud.fc.listVersions('demo-api')).versions.map((v) => v.versionId)).toEqual([
        '4',
        '3',
        '2',
        '1',
      ]);
      expect(await cloud.fc.getAlias('demo-api', 'prod')).toMatchObject({ versionId: '2' });
      expect(
        await cloud.fc.updateAlias('demo-api', 'prod', {
          versionId: '2',
          additionalVersionWeight: { '4': 0.1 },
        }),
      ).toMatchObject({ additionalVersionWeight: { '4': 0.1 } });
      expect(await cloud.fc.updateAlias('demo-api', 'prod', { versionId: '4' })).toMatchObject({
        versionId: '4',
        additionalVersionWeight: {},
      });
      await cloud.fc.createAlias('demo-api', { aliasName: 'canary', versionId: '4' });
      await expect(
        cloud.fc.createAlias('demo-api', { aliasName: 'canary', versionId: '4' }),
      ).rejects.toMatchObject({ upstreamCode: 'AliasAlreadyExists', status: 409 });
      await expect(cloud.fc.updateAlias('demo-api', 'prod', { versionId: '99' })).rejects.toMatchObject({
        upstreamCode: 'VersionNotFound',
      });
      await expect(cloud.fc.getAlias('nope', 'prod')).rejects.toMatchObject({
        upstreamCode: 'FunctionNotFound',
      });
      expect((await cloud.fc.invokeAsync('demo-api', Buffer.from('{}'))).requestId).toMatch(/^sbx-/);
    });
  });

  describe('OSS', () => {
    it('puts, heads, gets, lists by prefix and deletes objects', async () => {
      const body = Buffer.from('backup bytes');
      const { eTag } = await cloud.oss.put('fc-devops-artifacts', 'dumps/orders/2026-11-27.sql.gz', body);
      expect(eTag).toMatch(/^[0-9A-F]{32}$/);
      await cloud.oss.put('fc-devops-artifacts', 'dumps/orders/2026-11-28.sql.gz', body);
      await cloud.oss.put('fc-devops-artifacts', 'logs/x.txt', body);
      expect(await cloud.oss.head('fc-devops-artifacts', 'dumps/orders/2026-11-27.sql.gz')).toMatchObject({
        size: body.length,
        eTag,
      });
      expect((await cloud.oss.get('fc-devops-artifacts', 'dumps/orders/2026-11-27.sql.gz')).toString()).toBe(
        'backup bytes',
      );
      const first = await cloud.oss.list('fc-devops-artifacts', { prefix: 'dumps/', maxKeys: 1 });
      expect(first.objects.map((o) => o.key)).toEqual(['dumps/orders/2026-11-27.sql.gz']);
      const second = await cloud.oss.list('fc-devops-artifacts', {
        prefix: 'dumps/',
        maxKeys: 1,
        marker: first.nextMarker!,
      });
      expect(second).toMatchObject({
        objects: [{ key: 'dumps/orders/2026-11-28.sql.gz' }],
        nextMarker: undefined,
      });
      await cloud.oss.delete('fc-devops-artifacts', 'logs/x.txt');
      expect(await cloud.oss.head('fc-devops-artifacts', 'logs/x.txt')).toBeUndefined();
    });
  });
});
