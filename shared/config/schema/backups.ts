import * as z from 'zod';
import { REGIONS, regionId, schedule, timeZone } from './common.ts';
import { secretRef } from './secret.ts';

export const retention = z.strictObject({
  daily: z.number().int().min(0).default(7),
  weekly: z.number().int().min(0).default(4),
  monthly: z.number().int().min(0).default(12),
  yearly: z.number().int().min(0).default(0),
  /** The newest successful backups always kept, whatever the buckets say. */
  minKeep: z.number().int().min(1).default(3),
  /** Backups younger than this are never deleted. */
  minAgeHours: z.number().min(0).default(24),
  timeZone: timeZone.default('UTC'),
});

export const drill = z.strictObject({
  schedule,
  instanceClass: z.string().optional(),
  storageGB: z.number().int().positive().optional(),
  vpcId: z.string().optional(),
  vSwitchId: z.string().optional(),
  /** SQL the drill runs against the restored database to prove it holds data. */
  check: z.string().optional(),
  /** Account and database the check connects with (RDS clones keep the source's accounts). */
  user: z.string().optional(),
  password: secretRef.optional(),
  database: z.string().optional(),
  deadlineMinutes: z
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(90),
});

/** A second region the policy's backups are copied to, so that losing one region loses no backup. */
export const crossRegion = z.strictObject({
  region: regionId,
  /** Dump policies: the bucket in `region` every dump is copied to (with its checksum checked). */
  bucket: z.string().min(3).max(63).optional(),
  /** RDS: also copy log backups (point-in-time restore in the other region). */
  logBackup: z.boolean().default(false),
  /** The drill also restores from the other region, timed beside the same-region restore. */
  drill: z.boolean().default(true),
  /** The newest backup must have its copy in the other region within this many hours, or the region is behind. */
  maxLagHours: z.number().positive().default(6),
  /** RDS: where the other region's drill restores (that region's VPC) and who may connect to it. */
  vpcId: z.string().optional(),
  vSwitchId: z.string().optional(),
  allowIps: z.string().default('127.0.0.1'),
});

export const backupPolicy = z
  .strictObject({
    engine: z.enum(['rds', 'postgres', 'mysql']).default('rds'),
    instances: z.array(z.string().min(1)).default([]),
    tags: z.record(z.string(), z.string()).default({}),
    /** For self-managed databases: a connection URL and where the dumps go. */
    database: z
      .strictObject({ url: secretRef, bucket: z.string().min(3), prefix: z.string().default('backups/') })
      .optional(),
    schedule,
    method: z.enum(['Physical', 'Logical', 'Snapshot']).default('Physical'),
    /** Skip creating a backup when a successful one is younger than this. */
    intervalHours: z.number().positive().default(20),
    retention: retention.default({
      daily: 7,
      weekly: 4,
      monthly: 12,
      yearly: 0,
      minKeep: 3,
      minAgeHours: 24,
      timeZone: 'UTC',
    }),
    /** Whether backups fc-devops did not make may be deleted. */
    deleteForeign: z.boolean().default(false),
    dryRun: z.boolean().default(false),
    drill: drill.optional(),
    crossRegion: crossRegion.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.engine === 'rds' && p.instances.length === 0 && Object.keys(p.tags).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['instances'], message: 'an rds policy needs instances or tags' });
    }
    if (p.engine !== 'rds' && !p.database) {
      ctx.addIssue({
        code: 'custom',
        path: ['database'],
        message: `a ${p.engine} policy needs database.url and bucket`,
      });
    }
    const cross = p.crossRegion;
    if (cross) {
      if (!(REGIONS as readonly string[]).includes(cross.region))
        ctx.addIssue({
          code: 'custom',
          path: ['crossRegion', 'region'],
          message: `${cross.region} is not an Alibaba Cloud region (known: ${REGIONS.join(', ')})`,
        });
      if (p.engine === 'rds' && cross.bucket)
        ctx.addIssue({
          code: 'custom',
          path: ['crossRegion', 'bucket'],
          message: 'an rds policy copies with RDS cross-region backup, not to a bucket: remove bucket',
        });
      if (p.engine !== 'rds' && !cross.bucket)
        ctx.addIssue({
          code: 'custom',
          path: ['crossRegion', 'bucket'],
          message: `a ${p.engine} policy copies its dumps to a bucket in ${cross.region}: name it`,
        });
      if (p.engine !== 'rds' && cross.bucket && cross.bucket === p.database?.bucket)
        ctx.addIssue({
          code: 'custom',
          path: ['crossRegion', 'bucket'],
          message: `${cross.bucket} is the policy's own bucket: the copy must go to a bucket in another region`,
        });
    }
  });

export const backups = z
  .strictObject({ policies: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/), backupPolicy).default({}) })
  .default({ policies: {} });
