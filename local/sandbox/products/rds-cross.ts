// RDS cross-region backup, as @alicloud/rds20140815 models it: the instance's cross-region policy
// (Describe/ModifyInstanceCrossBackupPolicy), the destinations a region offers
// (DescribeAvailableCrossRegion), the copies (DescribeCrossRegionBackups) and the restore of a copy
// into a new instance in the destination region (CreateDdrInstance). The service copies each backup
// that finishes after the policy is enabled, and deletes copies older than the policy's retention:
// it has no call that deletes one copy.
import { ApiError, enumParam, intParam, notFound, optional, param } from '../api-error.ts';
import { iso } from '../clock.ts';
import {
  nextId,
  type RdsBackupState,
  type RdsCrossCopyState,
  type RdsInstanceState,
  type SandboxState,
} from '../state.ts';
import { type Action, type ActionContext, idempotent, page } from './context.ts';
import { settle } from './rds-settle.ts';

/** How long a copy takes to reach its region (sandbox time): a copy is not there the moment its backup is. */
export const COPY_MS = 20 * 60_000;
/** A restore from a copy into a new instance. */
const DDR_MS = 25 * 60_000;
const DAY = 86_400_000;
const ENGINES = ['MySQL', 'PostgreSQL', 'SQLServer'];

/**
 * The sandbox's own list of regions that take cross-region backups. The real list depends on the
 * source region and changes; callers ask DescribeAvailableCrossRegion, as fc-devops does.
 */
const CROSS_REGIONS = [
  'cn-hangzhou',
  'cn-shanghai',
  'cn-qingdao',
  'cn-beijing',
  'cn-zhangjiakou',
  'cn-huhehaote',
  'cn-wulanchabu',
  'cn-shenzhen',
  'cn-heyuan',
  'cn-guangzhou',
  'cn-chengdu',
  'cn-hongkong',
  'ap-southeast-1',
  'ap-southeast-5',
  'ap-northeast-1',
  'us-west-1',
  'us-east-1',
  'eu-central-1',
  'eu-west-1',
];

export const availableFrom = (region: string) => CROSS_REGIONS.filter((r) => r !== region);

function copies(ctx: ActionContext): Record<string, RdsCrossCopyState> {
  ctx.state.rdsCross ??= {};
  return ctx.state.rdsCross;
}

/** Called as a backup set is written: the instance's policy sends a copy on its way from `sourceRegion`. */
export function copyBackup(
  state: SandboxState,
  sourceRegion: string,
  db: RdsInstanceState,
  backup: RdsBackupState,
  arrivesAt: number,
): void {
  const cross = db.cross;
  if (!cross || backup.status !== 'Success' || backup.start < cross.enabledAt) return;
  state.seq += 1;
  const id = String(state.seq);
  state.rdsCross ??= {};
  state.rdsCross[id] = {
    id,
    region: cross.region,
    sourceRegion,
    instanceId: db.id,
    backupId: backup.id,
    start: backup.start,
    end: backup.end,
    readyAt: arrivesAt,
    method: backup.method,
    size: backup.size,
    engine: db.engine,
    engineVersion: db.engineVersion,
    category: db.category,
    instanceClass: db.instanceClass,
    storageGB: db.storageGB,
    ...(db.endpoint ? { endpoint: db.endpoint } : {}),
  };
}

/** The service deletes copies older than the source instance's cross-region retention. */
function expire(ctx: ActionContext): void {
  const all = copies(ctx);
  for (const c of Object.values(all)) {
    if (c.sourceRegion !== ctx.region) continue;
    const days = ctx.state.rds.instances[c.instanceId]?.cross?.retentionDays;
    if (days !== undefined && c.start < ctx.now - days * DAY) delete all[c.id];
  }
}

function instance(ctx: ActionContext): RdsInstanceState {
  const id = param(ctx.params, 'DBInstanceId');
  const found = ctx.state.rds.instances[id];
  if (!found) throw notFound('InvalidDBInstanceId.NotFound', `DBInstanceId ${id}`);
  return found;
}

function seconds(ctx: ActionContext, name: string): number | undefined {
  const raw = optional(ctx.params, name);
  if (raw === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/.test(raw))
    throw new ApiError(
      400,
      'InvalidParameter',
      `The specified parameter "${name}" is not valid: ${raw}; expected yyyy-MM-ddTHH:mm:ssZ.`,
    );
  return Date.parse(raw);
}

export const rdsCrossActions: Record<string, Action> = {
  DescribeAvailableCrossRegion(ctx) {
    param(ctx.params, 'RegionId');
    return { Regions: { Region: availableFrom(ctx.region) } };
  },

  DescribeInstanceCrossBackupPolicy(ctx) {
    param(ctx.params, 'RegionId');
    const db = instance(ctx);
    const c = db.cross;
    return {
      DBInstanceId: db.id,
      DBInstanceDescription: db.id,
      DBInstanceStatus: 'Running',
      Engine: db.engine,
      EngineVersion: db.engineVersion,
      RegionId: ctx.region,
      LockMode: 'Unlock',
      BackupEnabled: c ? 'Enable' : 'Disable',
      LogBackupEnabled: c?.logBackup ? 'Enable' : 'Disable',
      ...(c
        ? {
            CrossBackupRegion: c.region,
            CrossBackupType: '1',
            RetentType: 1,
            Retention: c.retentionDays,
            BackupEnabledTime: iso(c.enabledAt),
            ...(c.logBackup ? { LogBackupEnabledTime: iso(c.enabledAt) } : {}),
          }
        : {}),
    };
  },

  ModifyInstanceCrossBackupPolicy(ctx) {
    param(ctx.params, 'RegionId');
    const db = instance(ctx);
    const enabled = enumParam(ctx.params, 'BackupEnabled', ['0', '1'] as const, db.cross ? '1' : '0');
    if (enabled === '0') {
      delete db.cross;
      return { DBInstanceId: db.id, RegionId: ctx.region, BackupEnabled: 'Disable' };
    }
    if (!ENGINES.includes(db.engine))
      throw new ApiError(
        403,
        'InvalidDBInstanceType.NotSupport',
        `Cross-region backup is not supported for ${db.engine} instances.`,
      );
    const region = optional(ctx.params, 'CrossBackupRegion') ?? db.cross?.region;
    if (!region || !availableFrom(ctx.region).includes(region))
      throw new ApiError(
        400,
        'InvalidCrossBackupRegion',
        `The specified parameter "CrossBackupRegion" is not valid: ${region ?? ''} does not take cross-region backups from ${ctx.region}.`,
      );
    enumParam(ctx.params, 'CrossBackupType', ['1'] as const, '1');
    enumParam(ctx.params, 'RetentType', ['1'] as const, '1');
    const retentionDays = intParam(ctx.params, 'Retention', {
      min: 7,
      max: 1825,
      fallback: db.cross?.retentionDays ?? 7,
    });
    const log = enumParam(
      ctx.params,
      'LogBackupEnabled',
      ['0', '1'] as const,
      db.cross?.logBackup ? '1' : '0',
    );
    // A new destination starts copying anew; a retention change keeps the time it was enabled.
    const enabledAt = db.cross && db.cross.region === region ? db.cross.enabledAt : ctx.now;
    db.cross = { region, retentionDays, logBackup: log === '1', enabledAt };
    return {
      DBInstanceId: db.id,
      RegionId: ctx.region,
      BackupEnabled: 'Enable',
      CrossBackupRegion: region,
      CrossBackupType: '1',
      LogBackupEnabled: log === '1' ? 'Enable' : 'Disable',
      RetentType: 1,
      Retention: retentionDays,
    };
  },

  DescribeCrossRegionBackups(ctx) {
    param(ctx.params, 'RegionId');
    const id = param(ctx.params, 'DBInstanceId');
    settle(ctx);
    expire(ctx);
    const start = seconds(ctx, 'StartTime');
    const end = seconds(ctx, 'EndTime');
    const region = optional(ctx.params, 'CrossBackupRegion');
    const crossId = optional(ctx.params, 'CrossBackupId');
    const pageSize = intParam(ctx.params, 'PageSize', { min: 1, max: 100, fallback: 30 });
    const pageNumber = intParam(ctx.params, 'PageNumber', { min: 1, fallback: 1 });
    const all = Object.values(copies(ctx))
      .filter(
        (c) =>
          c.instanceId === id &&
          c.sourceRegion === ctx.region &&
          c.readyAt <= ctx.now &&
          (!region || c.region === region) &&
          (!crossId || c.id === crossId) &&
          (start === undefined || c.start >= start) &&
          (end === undefined || c.start <= end),
      )
      .sort((a, b) => b.start - a.start);
    const items = page(all, pageNumber, pageSize);
    return {
      RegionId: ctx.region,
      ...(start !== undefined ? { StartTime: iso(start) } : {}),
      ...(end !== undefined ? { EndTime: iso(end) } : {}),
      Items: {
        Item: items.map((c) => ({
          CrossBackupId: Number(c.id),
          CrossBackupRegion: c.region,
          BackupStartTime: iso(c.start),
          BackupEndTime: iso(c.end),
          ConsistentTime: iso(c.end),
          BackupMethod: c.method === 'Logical' ? 'L' : 'P',
          BackupType: 'F',
          BackupSetScale: 0,
          BackupSetStatus: 0,
          Category: c.category,
          CrossBackupSetFile: `${c.sourceRegion}_${c.instanceId}_data_${iso(c.start).replace(/\D/g, '').slice(0, 14)}_qp.xb`,
          CrossBackupSetLocation: 'oss',
          CrossBackupSetSize: c.size,
          CrossBackupDownloadLink: `http://rdsddrbak-${c.region}.oss-${c.region}.aliyuncs.com/${c.id}`,
          DBInstanceStorageType: 'local_ssd',
          Engine: c.engine,
          EngineVersion: c.engineVersion,
          InstanceId: Number(c.id) + 7_000_000,
          RestoreRegions: { RestoreRegion: [c.region] },
        })),
      },
      PageNumber: pageNumber,
      PageRecordCount: items.length,
      TotalRecordCount: all.length,
    };
  },

  /** Restore a copy into a new instance in the region that holds it (RegionId). */
  CreateDdrInstance(ctx) {
    param(ctx.params, 'RegionId');
    for (const p of ['Engine', 'EngineVersion', 'DBInstanceNetType', 'SecurityIPList']) param(ctx.params, p);
    enumParam(ctx.params, 'PayType', ['Postpaid', 'Prepaid'] as const);
    const type = enumParam(ctx.params, 'RestoreType', ['BackupSet', 'BackupTime'] as const);
    if (type !== 'BackupSet')
      throw new ApiError(
        400,
        'InvalidRestoreType',
        'The sandbox restores cross-region backup sets only (RestoreType=BackupSet).',
      );
    const setId = param(ctx.params, 'BackupSetId');
    const copy = copies(ctx)[setId];
    if (!copy || copy.readyAt > ctx.now || copy.region !== ctx.region)
      throw notFound('InvalidBackupSetID.NotFound', `BackupSetId ${setId} in ${ctx.region}`);
    const setRegion = optional(ctx.params, 'BackupSetRegion');
    if (setRegion && setRegion !== copy.region)
      throw new ApiError(
        400,
        'InvalidParameter',
        `The specified parameter "BackupSetRegion" is not valid: backup set ${setId} is in ${copy.region}.`,
      );
    if (ctx.params.Engine !== copy.engine)
      throw new ApiError(
        400,
        'InvalidEngine',
        `The specified parameter "Engine" is not valid: ${ctx.params.Engine}; the backup set is ${copy.engine}.`,
      );
    return idempotent(ctx, 'CreateDdrInstance', () => {
      const id = nextId(ctx.state, 'rm-ddr');
      ctx.state.rds.instances[id] = {
        id,
        engine: copy.engine,
        engineVersion: ctx.params.EngineVersion ?? copy.engineVersion,
        category: copy.category,
        instanceClass: optional(ctx.params, 'DBInstanceClass') ?? copy.instanceClass,
        storageGB: Number(optional(ctx.params, 'DBInstanceStorage') ?? copy.storageGB),
        createdAt: ctx.now,
        readyAt: ctx.now + DDR_MS,
        tags: {},
        clonedFrom: { instanceId: copy.instanceId, backupId: copy.backupId },
        ...(copy.endpoint ? { endpoint: copy.endpoint } : {}),
      };
      return {
        DBInstanceId: id,
        OrderId: String(ctx.state.seq),
        ConnectionString: `${id}.mysql.rds.aliyuncs.com`,
        Port: copy.engine === 'PostgreSQL' ? '5432' : '3306',
      };
    });
  },
};
