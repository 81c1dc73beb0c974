import type { Cloud } from '../../shared/cloud/cloud.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import { type ChannelEntry, channelKey, TAG } from '../../shared/images/build-job.ts';
import type { Logger } from '../../shared/runtime/logger.ts';
import type { Store } from '../../shared/store/port.ts';
import { own } from '../../shared/util/records.ts';
import { type PipelineRegions, pipelineRegions } from './pipeline-regions.ts';
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
  /** Each region looked at: pruned, or left alone because a listing failed. */
  regions: { region: string; pruned: boolean; error?: string }[];
  /** Each pipeline across its regions: what each holds, and which is behind. */
  pipelines: PipelineRegions[];
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
 * What the channels protect, wherever the images are (an image id names one region's image), and
 * the regions their entries name: where a pipeline's builds have put images.
 */
export async function channelUses(
  store: Store,
  config: Config,
  prune: PruneConfig,
): Promise<{ inUse: InUse; regions: Set<string> }> {
  const inUse = emptyInUse();
  const regions = new Set<string>();
  for (const channel of Object.keys(config.images.channels)) {
    const entries = await store.readHistory<ChannelEntry>(channelKey(channel), {
      limit: prune.protectHistory + 1,
    });
    for (const [i, e] of entries.entries())
      for (const [region, id] of Object.entries(e.value.images ?? {})) {
        regions.add(region);
        addUse(i === 0 ? inUse.channel : inUse.channelHistory, id, channel);
      }
  }
  return { inUse, regions };
}

/**
 * Every place in one region an image can be in use, on top of the channels'. Any listing that fails
 * fails the region: deleting on a partial picture is how cleanup tools delete images a launch
 * template still needs.
 */
export async function observeInUse(cloud: Cloud, channels: InUse): Promise<InUse> {
  const inUse: InUse = {
    ...emptyInUse(),
    channel: new Map(channels.channel),
    channelHistory: new Map(channels.channelHistory),
  };
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

type PruneDeps = {
  /** The cloud in a region: the function's own, and those its pipelines' images were copied to. */
  cloudIn: (region: string) => Cloud;
  store: Store;
  config: Config;
  now: Date;
  log: Logger;
};

async function prunableIn(cloud: Cloud, config: Config): Promise<PrunableImage[]> {
  const listed = await cloud.ecs.describeImages({
    status: 'Creating,Waiting,Available,UnAvailable,CreateFailed',
  });
  const images: PrunableImage[] = [];
  for (const i of listed) {
    const group = groupOf(i, config);
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
  return images;
}

/**
 * Plan the prune of every region where the pipelines' images live (the function's, those its
 * channels name, `prune.regions`), each from what is in use there, and unless it is a dry run,
 * delete. A region whose listings fail is left alone and reported; when none can be listed, the
 * prune fails (FC retries it). The caller holds the `image-prune` lock for a real run.
 */
export async function prune(deps: PruneDeps, options: { dryRun: boolean }): Promise<PruneReport> {
  const policy = deps.config.images.prune;
  const report: PruneReport = {
    dryRun: options.dryRun,
    deleted: [],
    kept: [],
    failed: [],
    snapshotsDeleted: [],
    regions: [],
    pipelines: [],
  };
  if (!policy) return report;
  const channels = await channelUses(deps.store, deps.config, policy);
  const copyRegions = Object.values(deps.config.images.pipelines).flatMap((p) => p.copyRegions);
  const regions = [
    ...new Set([deps.config.region, ...(policy.regions ?? []), ...copyRegions, ...channels.regions]),
  ];
  const listed = new Map<string, PrunableImage[] | { error: string }>();
  let lastError: unknown;
  for (const region of regions) {
    const cloud = deps.cloudIn(region);
    let plan: PruneDecision[];
    try {
      const images = await prunableIn(cloud, deps.config);
      listed.set(region, images);
      plan = planPrune(images, await observeInUse(cloud, channels.inUse), policy, deps.now).map((d) => ({
        ...d,
        region,
      }));
    } catch (error) {
      lastError = error;
      deps.log.warn('region not pruned: a listing failed', { region, error: (error as Error).message });
      report.regions.push({ region, pruned: false, error: (error as Error).message });
      listed.set(region, { error: (error as Error).message });
      continue;
    }
    report.regions.push({ region, pruned: true });
    const deleted = plan.filter((d) => d.action === 'delete');
    report.kept.push(...plan.filter((d) => d.action === 'keep'));
    if (options.dryRun) {
      report.deleted.push(...deleted);
      continue;
    }
    for (const d of deleted) {
      try {
        // Never Force: ECS itself then refuses an image an instance still uses.
        await cloud.ecs.deleteImage(d.id, { force: false });
        deps.log.info('image deleted', { region, imageId: d.id, reasons: d.reasons });
        report.deleted.push(d);
      } catch (error) {
        report.failed.push({ id: d.id, error: (error as Error).message });
        continue;
      }
      if (!policy.deleteSnapshots) continue;
      for (const s of d.snapshotIds) {
        try {
          await cloud.ecs.deleteSnapshot(s);
          report.snapshotsDeleted.push(s);
        } catch (error) {
          report.failed.push({ id: s, error: (error as Error).message });
        }
      }
    }
  }
  if (report.regions.every((r) => !r.pruned)) throw lastError;
  // The view is of what exists now: what this run deleted is gone.
  const gone = new Set(options.dryRun ? [] : report.deleted.map((d) => `${d.region}/${d.id}`));
  for (const [region, images] of listed)
    if (!('error' in images))
      listed.set(
        region,
        images.filter((i) => !gone.has(`${region}/${i.id}`)),
      );
  report.pipelines = pipelineRegions(deps.config, listed, deps.now);
  return report;
}
