import type { Cloud } from '../../shared/cloud/cloud.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import { type ChannelEntry, channelKey, TAG } from '../../shared/images/build-job.ts';
import type { Logger } from '../../shared/runtime/logger.ts';
import type { Store } from '../../shared/store/port.ts';
import { own } from '../../shared/util/records.ts';
import {
  addUse,
  emptyInUse,
  type InUse,
  type PrunableImage,
  type PruneDecision,
  planPrune,
} from './prune-plan.ts';

export interface PruneReport {
  dryRun: boolean;
  deleted: PruneDecision[];
  kept: PruneDecision[];
  failed: { id: string; error: string }[];
  snapshotsDeleted: string[];
}

type PruneConfig = NonNullable<Config['images']['prune']>;

/** Which group an image belongs to: its pipeline tag, else a configured pipeline's family; else none. */
export function groupOf(
  image: { ImageFamily?: string; Tags?: { Tag: { TagKey: string; TagValue: string }[] } },
  config: Config,
): string | undefined {
  const pipeline = image.Tags?.Tag?.find((t) => t.TagKey === TAG.pipeline)?.TagValue;
  if (pipeline && own(config.images.pipelines, pipeline)) return `pipeline:${pipeline}`;
  const families = new Set(
    Object.values(config.images.pipelines)
      .map((p) => p.family)
      .filter(Boolean),
  );
  if (image.ImageFamily && families.has(image.ImageFamily)) return `family:${image.ImageFamily}`;
  return undefined;
}

/**
 * Every place an image can be in use. Any listing that fails fails the whole prune: deleting on a
 * partial picture is how cleanup tools delete images a launch template still needs.
 */
export async function observeInUse(
  cloud: Cloud,
  store: Store,
  config: Config,
  prune: PruneConfig,
): Promise<InUse> {
  const inUse = emptyInUse();
  for (const channel of Object.keys(config.images.channels)) {
    const entries = await store.readHistory<ChannelEntry>(channelKey(channel), {
      limit: prune.protectHistory + 1,
    });
    for (const [i, e] of entries.entries())
      for (const id of Object.values(e.value.images ?? {}))
        addUse(i === 0 ? inUse.channel : inUse.channelHistory, id, channel);
  }
  for (const inst of await cloud.ecs.describeInstances())
    addUse(inUse.instance, inst.ImageId, inst.InstanceId);
  for (const group of await cloud.ess.scalingGroups()) {
    for (const c of await cloud.ess.scalingConfigurations(group.ScalingGroupId))
      addUse(inUse.scalingConfiguration, c.ImageId, `${c.ScalingConfigurationId} (${group.ScalingGroupId})`);
  }
  for (const lt of await cloud.ecs.launchTemplates()) {
    for (const v of await cloud.ecs.launchTemplateVersions(lt.LaunchTemplateId))
      addUse(
        inUse.launchTemplate,
        v.LaunchTemplateData?.ImageId,
        `${lt.LaunchTemplateId} v${v.VersionNumber}`,
      );
  }
  return inUse;
}

type PruneDeps = { cloud: Cloud; store: Store; config: Config; now: Date; log: Logger };

/**
 * Plan the prune from what is in use, and unless it is a dry run, delete. The caller holds the
 * `image-prune` lock for a real run: the schedule and a manual run may overlap.
 */
export async function prune(deps: PruneDeps, options: { dryRun: boolean }): Promise<PruneReport> {
  const policy = deps.config.images.prune;
  if (!policy) return { dryRun: options.dryRun, deleted: [], kept: [], failed: [], snapshotsDeleted: [] };
  const listed = await deps.cloud.ecs.describeImages({
    status: 'Creating,Waiting,Available,UnAvailable,CreateFailed',
  });
  const images: PrunableImage[] = [];
  for (const i of listed) {
    const group = groupOf(i, deps.config);
    if (!group) continue;
    images.push({
      id: i.ImageId,
      name: i.ImageName,
      group,
      createdAt: new Date(i.CreationTime),
      status: i.Status,
      snapshotIds: (i.DiskDeviceMappings?.DiskDeviceMapping ?? []).map((d) => d.SnapshotId).filter(Boolean),
    });
  }
  const inUse = await observeInUse(deps.cloud, deps.store, deps.config, policy);
  const plan = planPrune(images, inUse, policy, deps.now);
  const report: PruneReport = {
    dryRun: options.dryRun,
    deleted: plan.filter((d) => d.action === 'delete'),
    kept: plan.filter((d) => d.action === 'keep'),
    failed: [],
    snapshotsDeleted: [],
  };
  if (options.dryRun) return report;
  for (const d of report.deleted) {
    try {
      // Never Force: ECS itself then refuses an image an instance still uses.
      await deps.cloud.ecs.deleteImage(d.id, { force: false });
      deps.log.info('image deleted', { imageId: d.id, reasons: d.reasons });
    } catch (error) {
      report.failed.push({ id: d.id, error: (error as Error).message });
      continue;
    }
    if (!policy.deleteSnapshots) continue;
    for (const s of d.snapshotIds) {
      try {
        await deps.cloud.ecs.deleteSnapshot(s);
        report.snapshotsDeleted.push(s);
      } catch (error) {
        report.failed.push({ id: s, error: (error as Error).message });
      }
    }
  }
  report.deleted = report.deleted.filter((d) => !report.failed.some((f) => f.id === d.id));
  return report;
}
