import * as z from 'zod';
import { glob, name, repository, schedule } from './common.ts';

export const imageChannel = z.strictObject({
  description: z.string().optional(),
  /** How many earlier images the channel remembers for rollback (and protects from pruning). */
  historyKeep: z.number().int().min(1).max(100).default(10),
});

export const pipeline = z.strictObject({
  repository,
  branches: z.array(glob).min(1).default(['main']),
  tags: z.array(glob).default([]),
  paths: z.array(glob).min(1).default(['**']),
  /** Packer template inside the repository. */
  template: z.string().min(1),
  variables: z.record(z.string(), z.string()).default({}),
  channel: name.optional(),
  family: z.string().optional(),
  timeoutMinutes: z.number().int().min(1).max(1440).default(60),
  /**
   * Disk images the template writes as files (a `file`, `qemu` or `null` + post-processor build) are
   * uploaded to the bucket and imported as ECS images (ImportImage), so they join the channel too.
   */
  import: z
    .strictObject({
      files: z.array(glob).min(1).default(['**/*.raw', '**/*.qcow2', '**/*.vhd']),
      format: z.enum(['RAW', 'QCOW2', 'VHD']).default('RAW'),
      platform: z.string().default('Others Linux'),
      osType: z.enum(['linux', 'windows']).default('linux'),
      architecture: z.enum(['x86_64', 'arm64', 'i386']).default('x86_64'),
      timeoutMinutes: z.number().int().min(1).max(600).default(60),
    })
    .optional(),
  /**
   * Regions each image is copied to (ECS CopyImage) once it has passed its smoke test, so the
   * channel holds a copy per region. Packer's alicloud builder copies with `image_copy_regions`
   * itself; this is for imported images and for builders that do not copy.
   */
  copyRegions: z
    .array(z.string().regex(/^[a-z]{2}(-[a-z0-9]+)+$/, 'expected a region id such as cn-shanghai'))
    .default([]),
  /** How long a copy may take to become Available before the build goes on without it. */
  copyTimeoutMinutes: z.number().int().min(1).max(1440).default(120),
  smokeTest: z
    .strictObject({
      instanceType: z.string(),
      vSwitchId: z.string(),
      securityGroupId: z.string(),
      script: z.string().min(1),
      timeoutMinutes: z.number().int().min(1).max(120).default(15),
    })
    .optional(),
});

export const images = z
  .strictObject({
    /** The packer binary: on PATH locally, `/opt/bin/packer` from an FC layer. */
    packer: z.string().min(1).default('packer'),
    channels: z.record(name, imageChannel).default({}),
    pipelines: z.record(name, pipeline).default({}),
    prune: z
      .strictObject({
        schedule: schedule.default('0 0 3 * * *'),
        keep: z.number().int().min(1).default(5),
        minAgeDays: z.number().min(0).default(7),
        protectHistory: z.number().int().min(0).default(3),
        deleteSnapshots: z.boolean().default(false),
        dryRun: z.boolean().default(true),
        /**
         * Regions to prune besides the function's own and those the channels name: where builds
         * copy images (packer's image_copy_regions) that may never have reached a channel.
         */
        regions: z
          .array(z.string().regex(/^[a-z]{2}(-[a-z0-9]+)+$/, 'expected a region id such as cn-shanghai'))
          .default([]),
      })
      .optional(),
  })
  .default({ packer: 'packer', channels: {}, pipelines: {} });
