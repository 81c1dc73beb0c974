import { collect, pagesByNumber } from '../paging.ts';
import type { RpcClient } from '../rpc.ts';

export interface RdsBackup {
  BackupId: string;
  DBInstanceId: string;
  BackupStatus: 'Success' | 'Failed';
  BackupStartTime: string;
  BackupEndTime: string;
  BackupType: string;
  BackupMode: 'Automated' | 'Manual';
  BackupMethod: string;
  BackupSize: number;
  StoreStatus: 'Enabled' | 'Disabled';
}

export interface RdsBackupTask {
  BackupJobId: string;
  BackupStatus: 'NoStart' | 'Checking' | 'Preparing' | 'Waiting' | 'Uploading' | 'Finished' | 'Failed';
  Process?: string;
  BackupId?: string;
}

export interface RdsInstance {
  DBInstanceId: string;
  DBInstanceStatus: string;
  Engine: string;
  EngineVersion: string;
  DBInstanceClass: string;
  Category?: string;
  RegionId: string;
  /** DescribeDBInstanceAttribute's creation time (UTC); DescribeDBInstances says CreateTime. */
  CreationTime?: string;
}

/** An instance's cross-region backup settings (DescribeInstanceCrossBackupPolicy). */
export interface RdsCrossBackupPolicy {
  BackupEnabled: 'Enable' | 'Disable';
  CrossBackupRegion?: string;
  LogBackupEnabled?: 'Enable' | 'Disable';
  Retention?: number;
  Engine?: string;
}

/** A backup set copied to another region (DescribeCrossRegionBackups). */
export interface RdsCrossBackup {
  CrossBackupId: number;
  CrossBackupRegion: string;
  /** The source backup's times: a copy is the same backup set, so its start names it. */
  BackupStartTime: string;
  BackupEndTime: string;
  /** 0 succeeded, 1 failed. */
  BackupSetStatus: number;
  BackupMethod: string;
  Engine: string;
  EngineVersion: string;
  Category?: string;
  CrossBackupSetSize?: number;
}

/** ApsaraDB RDS (2014-08-15): backups, their tasks, instances and clones. */
export class RdsAdapter {
  constructor(
    private readonly rpc: RpcClient,
    private readonly region: string,
  ) {}

  async createBackup(
    instanceId: string,
    method: 'Physical' | 'Logical' | 'Snapshot' = 'Physical',
  ): Promise<{ jobId: string }> {
    const r = await this.rpc.call<{ BackupJobId: string }>('CreateBackup', {
      DBInstanceId: instanceId,
      BackupMethod: method,
    });
    return { jobId: String(r.BackupJobId) };
  }

  /** Poll with the job id: only then does a Finished task carry its BackupId. */
  async backupTask(instanceId: string, jobId: string): Promise<RdsBackupTask | undefined> {
    const r = await this.rpc.call<{ Items: { BackupJob: RdsBackupTask[] } }>('DescribeBackupTasks', {
      DBInstanceId: instanceId,
      BackupJobId: jobId,
    });
    return r.Items?.BackupJob?.[0];
  }

  /** Every backup in a time window (UTC, minutes), 100 a page. */
  async listBackups(instanceId: string, window: { start: Date; end: Date }): Promise<RdsBackup[]> {
    const fmt = (d: Date) => `${d.toISOString().slice(0, 16)}Z`;
    return collect(
      pagesByNumber(async (page) => {
        const r = await this.rpc.call<{ Items: { Backup: RdsBackup[] }; TotalRecordCount: string }>(
          'DescribeBackups',
          {
            DBInstanceId: instanceId,
            StartTime: fmt(window.start),
            EndTime: fmt(window.end),
            PageSize: 100,
            PageNumber: page,
          },
        );
        return { items: r.Items?.Backup ?? [], total: Number(r.TotalRecordCount) };
      }),
    );
  }

  /** DeleteBackup takes at most 100 ids per call. */
  async deleteBackups(instanceId: string, backupIds: string[]): Promise<void> {
    for (let i = 0; i < backupIds.length; i += 100) {
      await this.rpc.call('DeleteBackup', {
        DBInstanceId: instanceId,
        BackupId: backupIds.slice(i, i + 100).join(','),
      });
    }
  }

  async describeInstances(
    filter: { ids?: string[]; tags?: Record<string, string> } = {},
  ): Promise<RdsInstance[]> {
    const tags =
      filter.tags && Object.keys(filter.tags).length
        ? JSON.stringify(Object.entries(filter.tags).map(([Key, Value]) => ({ Key, Value })))
        : undefined;
    return collect(
      pagesByNumber(async (page) => {
        const r = await this.rpc.call<{ Items: { DBInstance: RdsInstance[] }; TotalRecordCount: number }>(
          'DescribeDBInstances',
          {
            RegionId: this.region,
            DBInstanceId: filter.ids?.join(','),
            Tags: tags,
            PageSize: 100,
            PageNumber: page,
          },
        );
        return { items: r.Items?.DBInstance ?? [], total: Number(r.TotalRecordCount) };
      }),
    );
  }

  async instanceAttribute(instanceId: string): Promise<RdsInstance> {
    const r = await this.rpc.call<{ Items: { DBInstanceAttribute: RdsInstance[] } }>(
      'DescribeDBInstanceAttribute',
      { DBInstanceId: instanceId },
    );
    const item = r.Items?.DBInstanceAttribute?.[0];
    if (!item) throw new Error(`DescribeDBInstanceAttribute returned no instance for ${instanceId}`);
    return item;
  }

  /** Restore a backup into a new pay-as-you-go instance. ClientToken makes a retried clone one clone. */
  async cloneInstance(input: {
    sourceId: string;
    backupId: string;
    instanceClass?: string;
    storageGB?: number;
    vpcId?: string;
    vSwitchId?: string;
    clientToken?: string;
  }): Promise<{ instanceId: string }> {
    const r = await this.rpc.call<{ DBInstanceId: string }>(
      'CloneDBInstance',
      {
        DBInstanceId: input.sourceId,
        BackupId: input.backupId,
        PayType: 'Postpaid',
        DBInstanceClass: input.instanceClass,
        DBInstanceStorage: input.storageGB,
        VPCId: input.vpcId,
        VSwitchId: input.vSwitchId,
        InstanceNetworkType: input.vpcId ? 'VPC' : undefined,
        ClientToken: input.clientToken,
      },
      { clientToken: true },
    );
    return { instanceId: r.DBInstanceId };
  }

  /** Where the instance answers: connection strings and ports, private and public. */
  async netInfo(instanceId: string): Promise<{ ConnectionString: string; Port: string; IPType: string }[]> {
    const r = await this.rpc.call<{
      DBInstanceNetInfos: { DBInstanceNetInfo: { ConnectionString: string; Port: string; IPType: string }[] };
    }>('DescribeDBInstanceNetInfo', { DBInstanceId: instanceId });
    return r.DBInstanceNetInfos?.DBInstanceNetInfo ?? [];
  }

  async deleteInstance(instanceId: string): Promise<void> {
    await this.rpc.call('DeleteDBInstance', { DBInstanceId: instanceId });
  }

  /** The regions this region's instances may copy their backups to. */
  async crossRegions(): Promise<string[]> {
    const r = await this.rpc.call<{ Regions?: { Region?: string[] } }>('DescribeAvailableCrossRegion', {
      RegionId: this.region,
    });
    return r.Regions?.Region ?? [];
  }

  async crossBackupPolicy(instanceId: string): Promise<RdsCrossBackupPolicy> {
    return this.rpc.call<RdsCrossBackupPolicy>('DescribeInstanceCrossBackupPolicy', {
      RegionId: this.region,
      DBInstanceId: instanceId,
    });
  }

  /** Copy every backup to `region` and keep the copies `retentionDays` (RDS's own expiry: 7 to 1825). */
  async setCrossBackupPolicy(
    instanceId: string,
    want: { region: string; retentionDays: number; logBackup: boolean },
  ): Promise<void> {
    await this.rpc.call('ModifyInstanceCrossBackupPolicy', {
      RegionId: this.region,
      DBInstanceId: instanceId,
      BackupEnabled: '1',
      CrossBackupRegion: want.region,
      CrossBackupType: '1',
      RetentType: 1,
      Retention: want.retentionDays,
      LogBackupEnabled: want.logBackup ? '1' : '0',
    });
  }

  /** The instance's backup sets that have arrived in `region`, newest first, 100 a page. */
  async listCrossBackups(
    instanceId: string,
    region: string,
    window: { start: Date; end: Date },
  ): Promise<RdsCrossBackup[]> {
    const fmt = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return collect(
      pagesByNumber(async (page) => {
        const r = await this.rpc.call<{ Items?: { Item?: RdsCrossBackup[] }; TotalRecordCount: number }>(
          'DescribeCrossRegionBackups',
          {
            RegionId: this.region,
            DBInstanceId: instanceId,
            CrossBackupRegion: region,
            StartTime: fmt(window.start),
            EndTime: fmt(window.end),
            PageSize: 100,
            PageNumber: page,
          },
        );
        return { items: r.Items?.Item ?? [], total: Number(r.TotalRecordCount) };
      }),
    );
  }

  /**
   * Restore a cross-region backup set into a new pay-as-you-go instance in the region that holds it
   * (this adapter's region). ClientToken makes a retried restore one instance.
   */
  async restoreCrossBackup(input: {
    backupSetId: string;
    sourceInstanceId: string;
    sourceRegion: string;
    engine: string;
    engineVersion: string;
    instanceClass?: string;
    storageGB?: number;
    vpcId?: string;
    vSwitchId?: string;
    allowIps?: string;
    clientToken?: string;
  }): Promise<{ instanceId: string }> {
    const r = await this.rpc.call<{ DBInstanceId: string }>(
      'CreateDdrInstance',
      {
        RegionId: this.region,
        RestoreType: 'BackupSet',
        BackupSetId: input.backupSetId,
        BackupSetRegion: this.region,
        SourceRegion: input.sourceRegion,
        SourceDBInstanceName: input.sourceInstanceId,
        Engine: input.engine,
        EngineVersion: input.engineVersion,
        PayType: 'Postpaid',
        DBInstanceNetType: 'Intranet',
        // Who may connect: by default no one (the drill's check is then skipped, saying why).
        SecurityIPList: input.allowIps ?? '127.0.0.1',
        DBInstanceClass: input.instanceClass,
        DBInstanceStorage: input.storageGB,
        InstanceNetworkType: input.vpcId ? 'VPC' : undefined,
        VPCId: input.vpcId,
        VSwitchId: input.vSwitchId,
        ClientToken: input.clientToken,
      },
      { clientToken: true },
    );
    return { instanceId: r.DBInstanceId };
  }
}
