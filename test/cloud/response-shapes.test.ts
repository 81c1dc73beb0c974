import * as cs from '@alicloud/cs20151215';
import * as dm from '@alicloud/dm20151123';
import * as ecs from '@alicloud/ecs20140526';
import * as rds from '@alicloud/rds20140815';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { RoaClient } from '../../shared/cloud/roa.ts';
import { RpcClient } from '../../shared/cloud/rpc.ts';
import { KEY, officialOss, startSandbox } from './harness.ts';

/** A model class of an official SDK: its fields' wire names and their types. */
interface Model {
  names(): Record<string, string>;
  types(): Record<string, unknown>;
}

/**
 * Every field the sandbox answers is one the official SDK's model has, with the model's type
 * (strings as strings, numbers as numbers, booleans as booleans), and the fields `required` are there.
 */
function expectShape(item: Record<string, unknown>, model: Model, required: string[]) {
  const names = model.names();
  const types = model.types();
  const typeOf = Object.fromEntries(Object.entries(names).map(([camel, wire]) => [wire, types[camel]]));
  const unknown = Object.keys(item).filter((k) => !(k in typeOf));
  expect({ unknown }).toEqual({ unknown: [] });
  const wrong = Object.entries(item)
    .filter(
      ([k, v]) => ['string', 'number', 'boolean'].includes(typeOf[k] as string) && typeof v !== typeOf[k],
    )
    .map(([k, v]) => `${k}: ${typeof v}, model says ${typeOf[k]}`);
  expect({ wrong }).toEqual({ wrong: [] });
  expect(required.filter((k) => !(k in item))).toEqual([]);
}

/** A model written out as wire name -> type, in the shape of the SDKs' model classes. */
const model = (fields: Record<string, 'string' | 'number' | 'boolean' | 'object'>): Model => ({
  names: () => Object.fromEntries(Object.keys(fields).map((k) => [k, k])),
  types: () => fields,
});

/**
 * ESS 2014-08-28 has no Node.js SDK on npm. These are the fields of the official Go SDK's models
 * (aliyun/alibabacloud-go-sdk, ess-20140828/client/client.go at e022711; int32 -> number, nested
 * structs -> object) for the parts the functions read. A ScalingGroup's fields are that SDK's older
 * model, plus DesiredCapacity, which the DescribeScalingGroups API reference documents.
 */
const ESS = {
  DescribeScalingGroupsResponseBody: model({
    RequestId: 'string',
    PageNumber: 'number',
    PageSize: 'number',
    TotalCount: 'number',
    ScalingGroups: 'object',
  }),
  ScalingGroup: model({
    ActiveCapacity: 'number',
    ActiveScalingConfigurationId: 'string',
    CreationTime: 'string',
    DBInstanceIds: 'object',
    DefaultCooldown: 'number',
    DesiredCapacity: 'number',
    LifecycleState: 'string',
    LoadBalancerIds: 'object',
    MaxSize: 'number',
    MinSize: 'number',
    PendingCapacity: 'number',
    RegionId: 'string',
    RemovalPolicies: 'object',
    RemovingCapacity: 'number',
    ScalingGroupId: 'string',
    ScalingGroupName: 'string',
    TotalCapacity: 'number',
    VSwitchId: 'string',
  }),
  DescribeScalingActivitiesResponseBody: model({
    RequestId: 'string',
    PageNumber: 'number',
    PageSize: 'number',
    TotalCount: 'number',
    ScalingActivities: 'object',
  }),
  ScalingActivity: model({
    Progress: 'number',
    ScalingInstanceNumber: 'number',
    AttachedCapacity: 'string',
    TotalCapacity: 'string',
    ScalingGroupId: 'string',
    AutoCreatedCapacity: 'string',
    EndTime: 'string',
    StartTime: 'string',
    Description: 'string',
    StatusCode: 'string',
    Cause: 'string',
    ScalingActivityId: 'string',
    StatusMessage: 'string',
  }),
  DescribeScalingInstancesResponseBody: model({
    RequestId: 'string',
    PageSize: 'number',
    PageNumber: 'number',
    TotalSpotCount: 'number',
    TotalCount: 'number',
    ScalingInstances: 'object',
  }),
  ScalingInstance: model({
    CreationTime: 'string',
    LoadBalancerWeight: 'number',
    LaunchTemplateId: 'string',
    InstanceId: 'string',
    SpotStrategy: 'string',
    LaunchTemplateVersion: 'string',
    HealthStatus: 'string',
    ScalingGroupId: 'string',
    WarmupState: 'string',
    LifecycleState: 'string',
    CreationType: 'string',
    ZoneId: 'string',
    ScalingConfigurationId: 'string',
    Entrusted: 'boolean',
    WeightedCapacity: 'number',
    CreatedTime: 'string',
    ScalingActivityId: 'string',
  }),
  DescribeScalingConfigurationsResponseBody: model({
    RequestId: 'string',
    PageNumber: 'number',
    PageSize: 'number',
    TotalCount: 'number',
    ScalingConfigurations: 'object',
  }),
  // The fields of the model the functions (and this sandbox) use; the model has about fifty more.
  ScalingConfiguration: model({
    ScalingConfigurationId: 'string',
    ScalingConfigurationName: 'string',
    ScalingGroupId: 'string',
    ImageId: 'string',
    ImageName: 'string',
    InstanceType: 'string',
    LifecycleState: 'string',
    CreationTime: 'string',
  }),
  ExecuteScalingRuleResponseBody: model({ ScalingActivityId: 'string', RequestId: 'string' }),
  RequestIdOnly: model({ RequestId: 'string' }),
};

describe('sandbox responses have the official SDK models’ fields and types', () => {
  let sandbox: Sandbox;
  const call = (service: string, version: string, action: string, params: Record<string, unknown>) =>
    new RpcClient({
      service,
      endpoint: `${sandbox.url}/${service}`,
      apiVersion: version,
      credentials: async () => KEY,
    }).call<Record<string, unknown>>(action, params);
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => sandbox?.stop());

  it('RDS: DescribeDBInstances, DescribeDBInstanceAttribute, DescribeBackups', async () => {
    const list = (await call('rds', '2014-08-15', 'DescribeDBInstances', { RegionId: 'cn-hangzhou' })) as {
      Items: { DBInstance: Record<string, unknown>[] };
    };
    expect(list.Items.DBInstance.length).toBeGreaterThan(0);
    for (const i of list.Items.DBInstance)
      expectShape(i, rds.DescribeDBInstancesResponseBodyItemsDBInstance, [
        'CreateTime',
        'DBInstanceType',
        'RegionId',
      ]);
    const attr = (await call('rds', '2014-08-15', 'DescribeDBInstanceAttribute', {
      DBInstanceId: 'rm-bp1sandbox0001',
    })) as {
      Items: { DBInstanceAttribute: Record<string, unknown>[] };
    };
    expectShape(
      attr.Items.DBInstanceAttribute[0]!,
      rds.DescribeDBInstanceAttributeResponseBodyItemsDBInstanceAttribute,
      ['CreationTime', 'DBInstanceType'],
    );
    const backups = (await call('rds', '2014-08-15', 'DescribeBackups', {
      DBInstanceId: 'rm-bp1sandbox0001',
      StartTime: '2020-01-01T00:00Z',
      EndTime: '2030-01-01T00:00Z',
    })) as { Items: { Backup: Record<string, unknown>[] } };
    for (const b of backups.Items.Backup)
      expectShape(b, rds.DescribeBackupsResponseBodyItemsBackup, [
        'BackupId',
        'BackupStartTime',
        'BackupStatus',
      ]);
  });

  it('ECS: DescribeImages', async () => {
    const images = (await call('ecs', '2014-05-26', 'DescribeImages', {
      RegionId: 'cn-hangzhou',
      ImageOwnerAlias: 'self',
    })) as {
      Images: { Image: Record<string, unknown>[] };
    };
    expect(images.Images.Image.length).toBeGreaterThan(0);
    for (const i of images.Images.Image)
      expectShape(i, ecs.DescribeImagesResponseBodyImagesImage, [
        'ImageOwnerAlias',
        'OSType',
        'Architecture',
        'Size',
      ]);
  });

  it('RDS: CreateBackup, DescribeBackupTasks, DescribeDBInstanceNetInfo', async () => {
    const made = await call('rds', '2014-08-15', 'CreateBackup', {
      DBInstanceId: 'rm-bp1sandbox0001',
      BackupMethod: 'Physical',
    });
    expectShape(made, rds.CreateBackupResponseBody, ['BackupJobId', 'RequestId']);
    const tasks = (await call('rds', '2014-08-15', 'DescribeBackupTasks', {
      DBInstanceId: 'rm-bp1sandbox0001',
      BackupJobId: String(made.BackupJobId),
    })) as { Items: { BackupJob: Record<string, unknown>[] } };
    expect(tasks.Items.BackupJob).toHaveLength(1);
    expectShape(tasks.Items.BackupJob[0]!, rds.DescribeBackupTasksResponseBodyItemsBackupJob, [
      'BackupJobId',
      'BackupStatus',
      'Process',
    ]);
    const net = (await call('rds', '2014-08-15', 'DescribeDBInstanceNetInfo', {
      DBInstanceId: 'rm-bp1sandbox0001',
    })) as { DBInstanceNetInfos: { DBInstanceNetInfo: Record<string, unknown>[] } };
    for (const n of net.DBInstanceNetInfos.DBInstanceNetInfo)
      expectShape(n, rds.DescribeDBInstanceNetInfoResponseBodyDBInstanceNetInfosDBInstanceNetInfo, [
        'ConnectionString',
        'Port',
        'IPType',
      ]);
  });

  it('ECS: DescribeInstances, RunInstances, launch templates, Cloud Assistant', async () => {
    const listed = (await call('ecs', '2014-05-26', 'DescribeInstances', { RegionId: 'cn-hangzhou' })) as {
      Instances: { Instance: Record<string, unknown>[] };
    };
    expect(listed.Instances.Instance.length).toBeGreaterThan(0);
    for (const i of listed.Instances.Instance)
      expectShape(i, ecs.DescribeInstancesResponseBodyInstancesInstance, ['InstanceId', 'ImageId', 'Status']);
    const run = await call('ecs', '2014-05-26', 'RunInstances', {
      RegionId: 'cn-hangzhou',
      ImageId: 'm-bp1sandboxweb02',
      InstanceType: 'ecs.g7.large',
    });
    expectShape(run, ecs.RunInstancesResponseBody, ['InstanceIdSets', 'RequestId']);
    const templates = (await call('ecs', '2014-05-26', 'DescribeLaunchTemplates', {
      RegionId: 'cn-hangzhou',
    })) as {
      LaunchTemplateSets: { LaunchTemplateSet: Record<string, unknown>[] };
    };
    for (const t of templates.LaunchTemplateSets.LaunchTemplateSet)
      expectShape(t, ecs.DescribeLaunchTemplatesResponseBodyLaunchTemplateSetsLaunchTemplateSet, [
        'LaunchTemplateId',
        'DefaultVersionNumber',
        'LatestVersionNumber',
      ]);
    const versions = (await call('ecs', '2014-05-26', 'DescribeLaunchTemplateVersions', {
      RegionId: 'cn-hangzhou',
      LaunchTemplateId: 'lt-bp1sandbox0001',
    })) as { LaunchTemplateVersionSets: { LaunchTemplateVersionSet: Record<string, unknown>[] } };
    for (const v of versions.LaunchTemplateVersionSets.LaunchTemplateVersionSet)
      expectShape(
        v,
        ecs.DescribeLaunchTemplateVersionsResponseBodyLaunchTemplateVersionSetsLaunchTemplateVersionSet,
        ['VersionNumber', 'DefaultVersion', 'LaunchTemplateData'],
      );
    const invoked = await call('ecs', '2014-05-26', 'RunCommand', {
      RegionId: 'cn-hangzhou',
      Type: 'RunShellScript',
      CommandContent: 'echo ok',
      'InstanceId.1': 'i-bp1sandbox0001',
    });
    expectShape(invoked, ecs.RunCommandResponseBody, ['InvokeId', 'CommandId']);
    const results = (await call('ecs', '2014-05-26', 'DescribeInvocationResults', {
      RegionId: 'cn-hangzhou',
      InvokeId: String(invoked.InvokeId),
    })) as { Invocation: { InvocationResults: { InvocationResult: Record<string, unknown>[] } } };
    for (const r of results.Invocation.InvocationResults.InvocationResult)
      expectShape(r, ecs.DescribeInvocationResultsResponseBodyInvocationInvocationResultsInvocationResult, [
        'InvokeRecordStatus',
        'InstanceId',
      ]);
  });

  it('RDS and ECS: every other action the functions call answers its model’s fields', async () => {
    // RDS: a restore drill's clone and its deletion; rotation's deletion of a backup.
    const backups = (await call('rds', '2014-08-15', 'DescribeBackups', {
      DBInstanceId: 'rm-bp1sandbox0001',
      StartTime: '2020-01-01T00:00Z',
      EndTime: '2030-01-01T00:00Z',
    })) as { Items: { Backup: { BackupId: string; BackupStatus: string; StoreStatus?: string }[] } };
    const restorable = backups.Items.Backup.find((b) => b.BackupStatus === 'Success')!;
    const clone = await call('rds', '2014-08-15', 'CloneDBInstance', {
      DBInstanceId: 'rm-bp1sandbox0001',
      BackupId: restorable.BackupId,
      PayType: 'Postpaid',
    });
    expectShape(clone, rds.CloneDBInstanceResponseBody, ['DBInstanceId', 'RequestId']);
    expectShape(
      await call('rds', '2014-08-15', 'DeleteDBInstance', { DBInstanceId: String(clone.DBInstanceId) }),
      rds.DeleteDBInstanceResponseBody,
      ['RequestId'],
    );
    const deletable = backups.Items.Backup.find((b) => b.StoreStatus === 'Enabled')!;
    expectShape(
      await call('rds', '2014-08-15', 'DeleteBackup', {
        DBInstanceId: 'rm-bp1sandbox0001',
        BackupId: deletable.BackupId,
      }),
      rds.DeleteBackupResponseBody,
      ['RequestId'],
    );

    // ECS: an image imported from OSS, tagged, put in a launch template, and pruned with its snapshot.
    await officialOss(sandbox).put('images/web.raw', Buffer.alloc(4096, 1));
    const imported = await call('ecs', '2014-05-26', 'ImportImage', {
      RegionId: 'cn-hangzhou',
      ImageName: 'shape-check',
      'DiskDeviceMapping.1.OSSBucket': 'fc-devops-artifacts',
      'DiskDeviceMapping.1.OSSObject': 'images/web.raw',
    });
    expectShape(imported, ecs.ImportImageResponseBody, ['ImageId', 'TaskId', 'RequestId']);
    expectShape(
      await call('ecs', '2014-05-26', 'TagResources', {
        RegionId: 'cn-hangzhou',
        ResourceType: 'image',
        'ResourceId.1': String(imported.ImageId),
        'Tag.1.Key': 'fc-devops:pipeline',
        'Tag.1.Value': 'web',
      }),
      ecs.TagResourcesResponseBody,
      ['RequestId'],
    );
    const version = await call('ecs', '2014-05-26', 'CreateLaunchTemplateVersion', {
      RegionId: 'cn-hangzhou',
      LaunchTemplateId: 'lt-bp1sandbox0001',
      ImageId: 'm-bp1sandboxweb03',
    });
    expectShape(version, ecs.CreateLaunchTemplateVersionResponseBody, [
      'LaunchTemplateVersionNumber',
      'RequestId',
    ]);
    expectShape(
      await call('ecs', '2014-05-26', 'ModifyLaunchTemplateDefaultVersion', {
        RegionId: 'cn-hangzhou',
        LaunchTemplateId: 'lt-bp1sandbox0001',
        DefaultVersionNumber: String(version.LaunchTemplateVersionNumber),
      }),
      ecs.ModifyLaunchTemplateDefaultVersionResponseBody,
      ['RequestId'],
    );
    const image = (
      (await call('ecs', '2014-05-26', 'DescribeImages', {
        RegionId: 'cn-hangzhou',
        ImageId: 'm-bp1sandboxweb01',
      })) as {
        Images: { Image: { DiskDeviceMappings: { DiskDeviceMapping: { SnapshotId: string }[] } }[] };
      }
    ).Images.Image[0]!;
    const snapshot = image.DiskDeviceMappings.DiskDeviceMapping[0]!.SnapshotId;
    expectShape(
      await call('ecs', '2014-05-26', 'DeleteImage', {
        RegionId: 'cn-hangzhou',
        ImageId: 'm-bp1sandboxweb01',
        Force: 'true',
      }),
      ecs.DeleteImageResponseBody,
      ['RequestId'],
    );
    expectShape(
      await call('ecs', '2014-05-26', 'DeleteSnapshot', { SnapshotId: snapshot }),
      ecs.DeleteSnapshotResponseBody,
      ['RequestId'],
    );
    const run = (await call('ecs', '2014-05-26', 'RunInstances', {
      RegionId: 'cn-hangzhou',
      ImageId: 'm-bp1sandboxweb02',
      InstanceType: 'ecs.g7.large',
    })) as { InstanceIdSets: { InstanceIdSet: string[] } };
    expectShape(
      await call('ecs', '2014-05-26', 'DeleteInstance', {
        InstanceId: run.InstanceIdSets.InstanceIdSet[0]!,
        Force: 'true',
      }),
      ecs.DeleteInstanceResponseBody,
      ['RequestId'],
    );
  });

  it('RDS cross-region backup and ECS CopyImage answer their models’ fields', async () => {
    const rdsCall = (action: string, params: Record<string, unknown>) =>
      call('rds', '2014-08-15', action, params);
    const offered = await rdsCall('DescribeAvailableCrossRegion', { RegionId: 'cn-hangzhou' });
    expectShape(offered, rds.DescribeAvailableCrossRegionResponseBody, ['Regions', 'RequestId']);
    expect((offered.Regions as { Region: string[] }).Region).toContain('cn-shanghai');
    const set = await rdsCall('ModifyInstanceCrossBackupPolicy', {
      RegionId: 'cn-hangzhou',
      DBInstanceId: 'rm-bp1sandbox0001',
      BackupEnabled: '1',
      CrossBackupRegion: 'cn-shanghai',
      CrossBackupType: '1',
      RetentType: 1,
      Retention: 30,
    });
    expectShape(set, rds.ModifyInstanceCrossBackupPolicyResponseBody, ['DBInstanceId', 'RequestId']);
    const policy = await rdsCall('DescribeInstanceCrossBackupPolicy', {
      RegionId: 'cn-hangzhou',
      DBInstanceId: 'rm-bp1sandbox0001',
    });
    expectShape(policy, rds.DescribeInstanceCrossBackupPolicyResponseBody, [
      'BackupEnabled',
      'CrossBackupRegion',
      'Retention',
    ]);
    expect(policy).toMatchObject({
      BackupEnabled: 'Enable',
      CrossBackupRegion: 'cn-shanghai',
      Retention: 30,
    });
    // A backup made now (once an earlier test's task is done) is copied when it has finished and the copy has arrived.
    sandbox.clock.advance(30 * 60_000);
    await rdsCall('CreateBackup', { DBInstanceId: 'rm-bp1sandbox0001', BackupMethod: 'Physical' });
    const window = { StartTime: '2020-01-01T00:00:00Z', EndTime: '2040-01-01T00:00:00Z' };
    const list = () =>
      rdsCall('DescribeCrossRegionBackups', {
        RegionId: 'cn-hangzhou',
        DBInstanceId: 'rm-bp1sandbox0001',
        ...window,
      });
    expect(((await list()).Items as { Item: unknown[] }).Item).toEqual([]);
    sandbox.clock.advance(60 * 60_000);
    const copies = await list();
    expectShape(copies, rds.DescribeCrossRegionBackupsResponseBody, ['Items', 'TotalRecordCount']);
    const [copy] = (copies.Items as { Item: Record<string, unknown>[] }).Item;
    expectShape(copy!, rds.DescribeCrossRegionBackupsResponseBodyItemsItem, [
      'CrossBackupId',
      'BackupStartTime',
      'BackupSetStatus',
      'Engine',
    ]);
    const restored = await rdsCall('CreateDdrInstance', {
      RegionId: 'cn-shanghai',
      RestoreType: 'BackupSet',
      BackupSetId: String(copy!.CrossBackupId),
      BackupSetRegion: 'cn-shanghai',
      Engine: copy!.Engine,
      EngineVersion: copy!.EngineVersion,
      PayType: 'Postpaid',
      DBInstanceNetType: 'Intranet',
      SecurityIPList: '127.0.0.1',
    });
    expectShape(restored, rds.CreateDdrInstanceResponseBody, ['DBInstanceId', 'RequestId']);
    // A restore of a copy that is not in the region asked is refused, naming it.
    await expect(
      rdsCall('CreateDdrInstance', {
        RegionId: 'cn-beijing',
        RestoreType: 'BackupSet',
        BackupSetId: String(copy!.CrossBackupId),
        Engine: copy!.Engine,
        EngineVersion: copy!.EngineVersion,
        PayType: 'Postpaid',
        DBInstanceNetType: 'Intranet',
        SecurityIPList: '127.0.0.1',
      }),
    ).rejects.toThrow(/InvalidBackupSetID.NotFound/);

    const copied = await call('ecs', '2014-05-26', 'CopyImage', {
      RegionId: 'cn-hangzhou',
      ImageId: 'm-bp1sandboxweb02',
      DestinationRegionId: 'cn-shanghai',
    });
    expectShape(copied, ecs.CopyImageResponseBody, ['ImageId', 'RequestId']);
  });

  it('DirectMail: SingleSendMail answers its model’s fields', async () => {
    const sent = await call('dm', '2015-11-23', 'SingleSendMail', {
      AccountName: 'noreply@mail.example.com',
      AddressType: '1',
      ReplyToAddress: 'false',
      ToAddress: 'ops@example.com',
      Subject: 'shape check',
      TextBody: 'hello',
    });
    expectShape(sent, dm.SingleSendMailResponseBody, ['EnvId', 'RequestId']);
  });

  it('ACK: node pools, their resize task and the kubeconfig answer their models’ fields (snake_case on the wire)', async () => {
    const roa = new RoaClient({
      service: 'cs',
      endpoint: `${sandbox.url}/cs`,
      apiVersion: '2015-12-15',
      credentials: async () => KEY,
    });
    const pools = await roa.request<{ nodepools: Record<string, Record<string, unknown>>[] }>(
      'GET',
      '/clusters/c-sandbox0001/nodepools',
      { action: 'DescribeClusterNodePools' },
    );
    expectShape(pools, cs.DescribeClusterNodePoolsResponseBody, ['nodepools']);
    expect(pools.nodepools.length).toBeGreaterThan(0);
    for (const pool of pools.nodepools) {
      expectShape(pool, cs.DescribeClusterNodePoolsResponseBodyNodepools, ['nodepool_info', 'scaling_group']);
      expectShape(pool.nodepool_info!, cs.DescribeClusterNodePoolsResponseBodyNodepoolsNodepoolInfo, [
        'nodepool_id',
      ]);
      expectShape(pool.scaling_group!, cs.DescribeClusterNodePoolsResponseBodyNodepoolsScalingGroup, [
        'desired_size',
      ]);
      if (pool.status)
        expectShape(pool.status, cs.DescribeClusterNodePoolsResponseBodyNodepoolsStatus, ['state']);
      if (pool.auto_scaling)
        expectShape(pool.auto_scaling, cs.DescribeClusterNodePoolsResponseBodyNodepoolsAutoScaling, [
          'enable',
        ]);
    }
    const resized = await roa.request<Record<string, unknown>>(
      'PUT',
      '/clusters/c-sandbox0001/nodepools/np-sandbox0001',
      {
        action: 'ModifyClusterNodePool',
        body: { scaling_group: { desired_size: 4 } },
      },
    );
    expectShape(resized, cs.ModifyClusterNodePoolResponseBody, ['task_id']);
    const task = await roa.request<Record<string, unknown>>('GET', `/tasks/${resized.task_id}`, {
      action: 'DescribeTaskInfo',
    });
    expectShape(task, cs.DescribeTaskInfoResponseBody, ['task_id', 'state']);
    const kubeconfig = await roa.request<Record<string, unknown>>('GET', '/k8s/c-sandbox0001/user_config', {
      action: 'DescribeClusterUserKubeconfig',
      query: { TemporaryDurationMinutes: '60' },
    });
    expectShape(kubeconfig, cs.DescribeClusterUserKubeconfigResponseBody, ['config', 'expiration']);
  });

  it('ESS: every action the functions call answers its model’s fields', async () => {
    const ess = (action: string, params: Record<string, unknown>) =>
      call('ess', '2014-08-28', action, params);
    const group = 'asg-bp1sandbox0001';
    const groups = (await ess('DescribeScalingGroups', { RegionId: 'cn-hangzhou' })) as Record<
      string,
      unknown
    > & {
      ScalingGroups: { ScalingGroup: Record<string, unknown>[] };
    };
    expectShape(groups, ESS.DescribeScalingGroupsResponseBody, ['RequestId', 'TotalCount']);
    expect(groups.ScalingGroups.ScalingGroup.length).toBeGreaterThan(0);
    for (const g of groups.ScalingGroups.ScalingGroup) {
      expectShape(g, ESS.ScalingGroup, [
        'ScalingGroupId',
        'MinSize',
        'MaxSize',
        'DesiredCapacity',
        'RegionId',
      ]);
      expect(g.RegionId).toBe('cn-hangzhou');
      // ESS writes minutes, UTC.
      expect(g.CreationTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
    }
    const rule = await ess('ExecuteScalingRule', {
      ScalingRuleAri: 'ari:acs:ess:cn-hangzhou:1234567890123456:scalingrule/asr-bp1sandboxout',
    });
    expectShape(rule, ESS.ExecuteScalingRuleResponseBody, ['ScalingActivityId', 'RequestId']);
    const activities = (await ess('DescribeScalingActivities', {
      RegionId: 'cn-hangzhou',
      ScalingGroupId: group,
    })) as Record<string, unknown> & { ScalingActivities: { ScalingActivity: Record<string, unknown>[] } };
    expectShape(activities, ESS.DescribeScalingActivitiesResponseBody, ['RequestId', 'TotalCount']);
    expect(activities.ScalingActivities.ScalingActivity.length).toBeGreaterThan(0);
    for (const a of activities.ScalingActivities.ScalingActivity)
      expectShape(a, ESS.ScalingActivity, ['ScalingActivityId', 'StatusCode', 'Progress', 'StartTime']);
    const instances = (await ess('DescribeScalingInstances', {
      RegionId: 'cn-hangzhou',
      ScalingGroupId: group,
    })) as Record<string, unknown> & { ScalingInstances: { ScalingInstance: Record<string, unknown>[] } };
    expectShape(instances, ESS.DescribeScalingInstancesResponseBody, ['RequestId', 'TotalCount']);
    for (const i of instances.ScalingInstances.ScalingInstance)
      expectShape(i, ESS.ScalingInstance, ['InstanceId', 'LifecycleState', 'HealthStatus']);
    const configurations = (await ess('DescribeScalingConfigurations', {
      RegionId: 'cn-hangzhou',
      ScalingGroupId: group,
    })) as Record<string, unknown> & {
      ScalingConfigurations: { ScalingConfiguration: Record<string, unknown>[] };
    };
    expectShape(configurations, ESS.DescribeScalingConfigurationsResponseBody, ['RequestId', 'TotalCount']);
    for (const c of configurations.ScalingConfigurations.ScalingConfiguration)
      expectShape(c, ESS.ScalingConfiguration, ['ScalingConfigurationId', 'ImageId', 'LifecycleState']);
    for (const [action, params] of [
      ['ModifyScalingGroup', { ScalingGroupId: group, MaxSize: '21' }],
      [
        'ModifyScalingConfiguration',
        { ScalingConfigurationId: 'asc-bp1sandbox0001', ImageId: 'm-bp1sandboxweb03' },
      ],
      [
        'SetInstancesProtection',
        {
          ScalingGroupId: group,
          'InstanceId.1': instances.ScalingInstances.ScalingInstance[0]!.InstanceId,
          ProtectedFromScaleIn: 'true',
        },
      ],
    ] as const)
      expectShape(await ess(action, params), ESS.RequestIdOnly, ['RequestId']);
  });
});
