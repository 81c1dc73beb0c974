import { ApiError, enumParam, intParam, notFound, optional, param } from '../api-error.ts';
import { iso } from '../clock.ts';
import { nextId, type RdsInstanceState } from '../state.ts';
import { type Action, type ActionContext, idempotent, page } from './context.ts';
import { rdsCrossActions } from './rds-cross.ts';
import { settle } from './rds-settle.ts';

const TASK_MS = 10 * 60_000;
const CLONE_MS = 15 * 60_000;
const DAY = 86_400_000;

function instance(ctx: ActionContext): RdsInstanceState {
  const id = param(ctx.params, 'DBInstanceId');
  const found = ctx.state.rds.instances[id];
  if (!found) throw notFound('InvalidDBInstanceId.NotFound', `DBInstanceId ${id}`);
  return found;
}

const status = (i: RdsInstanceState, now: number) => (i.readyAt > now ? 'Creating' : 'Running');

function taskStatus(createdAt: number, durationMs: number, fails: boolean, now: number): string {
  const f = (now - createdAt) / durationMs;
  if (f < 0.05) return 'NoStart';
  if (f < 0.2) return 'Preparing';
  if (f < 1) return 'Uploading';
  return fails ? 'Failed' : 'Finished';
}

function parseMinute(ctx: ActionContext, name: string): number | undefined {
  const raw = optional(ctx.params, name);
  if (raw === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/.test(raw))
    throw new ApiError(
      400,
      'InvalidParameter',
      `The specified parameter "${name}" is not valid: ${raw}; expected yyyy-MM-ddTHH:mmZ.`,
    );
  return Date.parse(raw);
}

export const rdsActions: Record<string, Action> = {
  ...rdsCrossActions,
  CreateBackup(ctx) {
    settle(ctx);
    const db = instance(ctx);
    const method = enumParam(
      ctx.params,
      'BackupMethod',
      ['Logical', 'Physical', 'Snapshot'] as const,
      'Physical',
    );
    if (status(db, ctx.now) !== 'Running')
      throw new ApiError(
        403,
        'IncorrectDBInstanceState',
        'Current DB instance state does not support this operation.',
      );
    const running = Object.values(ctx.state.rds.tasks).some(
      (t) => t.instanceId === db.id && t.createdAt + t.durationMs > ctx.now,
    );
    if (running)
      throw new ApiError(403, 'BackupJobExists', 'A backup task is already running on this instance.');
    const dayStart = Math.floor(ctx.now / DAY) * DAY;
    const today = Object.values(ctx.state.rds.backups).filter(
      (b) => b.instanceId === db.id && b.start >= dayStart,
    ).length;
    if (today >= 20)
      throw new ApiError(
        403,
        'QuotaExceeded.BackupCount',
        'At most 20 backup sets can be created for an instance per day.',
      );
    const jobId = String(ctx.state.seq + 1);
    nextId(ctx.state, '');
    const backupId = String(ctx.state.seq + 100_000);
    ctx.state.rds.tasks[jobId] = {
      jobId,
      instanceId: db.id,
      createdAt: ctx.now,
      durationMs: TASK_MS,
      method,
      fails: db.tags['sandbox:backup'] === 'fail',
      backupId,
    };
    return { BackupJobId: jobId };
  },

  DescribeBackupTasks(ctx) {
    settle(ctx);
    const db = instance(ctx);
    const jobId = optional(ctx.params, 'BackupJobId');
    const tasks = Object.values(ctx.state.rds.tasks).filter(
      (t) => t.instanceId === db.id && (!jobId || t.jobId === jobId),
    );
    return {
      Items: {
        BackupJob: tasks.map((t) => {
          const s = taskStatus(t.createdAt, t.durationMs, t.fails, ctx.now);
          return {
            BackupJobId: t.jobId,
            BackupStatus: s,
            BackupProgressStatus: s,
            Process: `${Math.min(100, Math.floor(((ctx.now - t.createdAt) / t.durationMs) * 100))}%`,
            JobMode: 'Manual',
            TaskAction: 'TempBackupTask',
            ...(jobId && s === 'Finished' ? { BackupId: t.backupId } : {}),
          };
        }),
      },
    };
  },

  DescribeBackups(ctx) {
    settle(ctx);
    const db = instance(ctx);
    const pageSize = intParam(ctx.params, 'PageSize', { allowed: [30, 50, 100], fallback: 30 });
    const pageNumber = intParam(ctx.params, 'PageNumber', { min: 1, fallback: 1 });
    const start = parseMinute(ctx, 'StartTime');
    const end = parseMinute(ctx, 'EndTime');
    const backupId = optional(ctx.params, 'BackupId');
    const wantStatus = optional(ctx.params, 'BackupStatus');
    const all = Object.values(ctx.state.rds.backups)
      .filter(
        (b) =>
          b.instanceId === db.id &&
          (!backupId || b.id === backupId) &&
          (!wantStatus || b.status === wantStatus),
      )
      .filter((b) => (start === undefined || b.start >= start) && (end === undefined || b.start <= end))
      .sort((a, b) => b.start - a.start);
    const items = page(all, pageNumber, pageSize);
    return {
      Items: {
        Backup: items.map((b) => ({
          BackupId: b.id,
          DBInstanceId: b.instanceId,
          BackupStatus: b.status,
          BackupStartTime: iso(b.start),
          BackupEndTime: iso(b.end),
          BackupType: 'FullBackup',
          BackupMode: b.mode,
          BackupMethod: b.method,
          BackupInitiator: b.mode === 'Manual' ? 'User' : 'System',
          BackupSize: b.size,
          StoreStatus: b.storeStatus,
          Engine: db.engine,
          EngineVersion: db.engineVersion,
          IsAvail: b.status === 'Success' ? 1 : 0,
        })),
      },
      PageNumber: String(pageNumber),
      PageRecordCount: String(items.length),
      TotalRecordCount: String(all.length),
    };
  },

  DeleteBackup(ctx) {
    settle(ctx);
    const db = instance(ctx);
    const ids = param(ctx.params, 'BackupId').split(',').filter(Boolean);
    if (ids.length > 100)
      throw new ApiError(
        400,
        'InvalidParameter',
        `The specified parameter "BackupId" is not valid: ${ids.length} ids; at most 100.`,
      );
    if (!['MySQL', 'PostgreSQL'].includes(db.engine) || db.category !== 'HighAvailability') {
      throw new ApiError(
        403,
        'OperationDenied.DBInstanceType',
        `Backups of ${db.engine} ${db.category} instances cannot be deleted.`,
      );
    }
    for (const id of ids) {
      const b = ctx.state.rds.backups[id];
      if (!b || b.instanceId !== db.id) throw notFound('InvalidBackupId.NotFound', `BackupId ${id}`);
      if (b.storeStatus !== 'Enabled')
        throw new ApiError(
          403,
          'OperationDenied.BackupStoreStatus',
          `Backup ${id} has StoreStatus Disabled and cannot be deleted.`,
        );
    }
    for (const id of ids) delete ctx.state.rds.backups[id];
    return {};
  },

  DescribeDBInstances(ctx) {
    const pageSize = intParam(ctx.params, 'PageSize', { min: 1, max: 100, fallback: 30 });
    const pageNumber = intParam(ctx.params, 'PageNumber', { min: 1, fallback: 1 });
    const ids = optional(ctx.params, 'DBInstanceId')?.split(',');
    const tags = optional(ctx.params, 'Tags');
    let wanted: { Key: string; Value: string }[] = [];
    if (tags) {
      try {
        wanted = JSON.parse(tags);
      } catch {
        throw new ApiError(400, 'InvalidParameter', 'The specified parameter "Tags" is not valid JSON.');
      }
    }
    const all = Object.values(ctx.state.rds.instances).filter(
      (i) => (!ids || ids.includes(i.id)) && wanted.every((t) => i.tags[t.Key] === t.Value),
    );
    return {
      Items: { DBInstance: page(all, pageNumber, pageSize).map((i) => describe(i, ctx, 'list')) },
      PageNumber: pageNumber,
      PageRecordCount: Math.min(pageSize, all.length),
      TotalRecordCount: all.length,
    };
  },

  DescribeDBInstanceAttribute(ctx) {
    return { Items: { DBInstanceAttribute: [describe(instance(ctx), ctx, 'attribute')] } };
  },

  CloneDBInstance(ctx) {
    settle(ctx);
    const source = instance(ctx);
    enumParam(ctx.params, 'PayType', ['Postpaid', 'Prepaid', 'Serverless'] as const);
    const backupId = optional(ctx.params, 'BackupId');
    if (!backupId && !optional(ctx.params, 'RestoreTime')) {
      throw new ApiError(
        400,
        'MissingParameter',
        'The input parameter "BackupId" or "RestoreTime" that is mandatory for processing this request is not supplied.',
      );
    }
    if (backupId) {
      const b = ctx.state.rds.backups[backupId];
      if (!b || b.instanceId !== source.id)
        throw notFound('InvalidBackupId.NotFound', `BackupId ${backupId}`);
      if (b.status !== 'Success')
        throw new ApiError(
          403,
          'InvalidBackupStatus',
          `Backup ${backupId} did not succeed and cannot be restored.`,
        );
    }
    return idempotent(ctx, 'CloneDBInstance', () => {
      const id = nextId(ctx.state, 'rm-clone');
      ctx.state.rds.instances[id] = {
        ...source,
        id,
        instanceClass: optional(ctx.params, 'DBInstanceClass') ?? source.instanceClass,
        storageGB: Number(optional(ctx.params, 'DBInstanceStorage') ?? source.storageGB),
        createdAt: ctx.now,
        readyAt: ctx.now + CLONE_MS,
        tags: {},
        clonedFrom: { instanceId: source.id, backupId: backupId ?? '' },
      };
      return { DBInstanceId: id, OrderId: String(ctx.state.seq) };
    });
  },

  DescribeDBInstanceNetInfo(ctx) {
    const db = instance(ctx);
    // Without a seeded endpoint nothing answers for the instance: a closed loopback port says so
    // without sending anyone a DNS query.
    const [host = '127.0.0.1', port = '1'] = (db.endpoint ?? '').split(':').filter(Boolean);
    return {
      DBInstanceNetInfos: {
        DBInstanceNetInfo: [{ ConnectionString: host, Port: port, IPType: 'Private', IPAddress: host }],
      },
      InstanceNetworkType: 'VPC',
    };
  },

  DeleteDBInstance(ctx) {
    const db = instance(ctx);
    delete ctx.state.rds.instances[db.id];
    for (const [id, b] of Object.entries(ctx.state.rds.backups))
      if (b.instanceId === db.id) delete ctx.state.rds.backups[id];
    return {};
  },
};

/**
 * An instance as DescribeDBInstances (`list`) and DescribeDBInstanceAttribute (`attribute`) give it,
 * in the fields of the official SDK's models (@alicloud/rds20140815): the list says `CreateTime`,
 * the attribute `CreationTime`; a clone is a `Primary` instance like any other.
 */
function describe(i: RdsInstanceState, ctx: ActionContext, shape: 'list' | 'attribute') {
  const common = {
    DBInstanceId: i.id,
    DBInstanceStatus: status(i, ctx.now),
    DBInstanceType: 'Primary',
    Engine: i.engine,
    EngineVersion: i.engineVersion,
    Category: i.category,
    DBInstanceClass: i.instanceClass,
    DBInstanceNetType: 'Intranet',
    InstanceNetworkType: 'VPC',
    PayType: 'Postpaid',
    RegionId: ctx.region,
    ZoneId: `${ctx.region}-h`,
  };
  return shape === 'list'
    ? { ...common, CreateTime: iso(i.createdAt) }
    : { ...common, DBInstanceStorage: i.storageGB, CreationTime: iso(i.createdAt) };
}
