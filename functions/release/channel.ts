// Image channel targets: put one channel's image on another, and into what launches instances.
import type { ChannelEntry } from '../../shared/images/build-job.ts';
import type { PromoteResult, Reconciled, RollbackResult } from './outcome.ts';
import {
  type Actor,
  actorName,
  type ChannelTarget,
  callWrittenAhead,
  frozenState,
  type HistoryRecord,
  keys,
  type Locked,
  latest,
  TIMER,
  tell,
  write,
} from './state.ts';

/** What `release:state:<target>` holds for a channel target while a change is being applied. */
interface ChannelState {
  kind: 'image-channel';
  applying?: {
    operation: 'promote' | 'rollback';
    entry: ChannelEntry;
    imageId: string | undefined;
    note: string;
    record: HistoryRecord;
    since: string;
  };
}

/** A region's places an image is rolled into: its scaling configuration and launch template. */
interface Spot {
  region: string;
  scalingConfiguration?: { scalingGroupId: string; scalingConfigurationId: string } | undefined;
  launchTemplate?: { launchTemplateId: string } | undefined;
}

/** The function's own region first, then the other regions the target names. */
function spots(d: Locked, target: ChannelTarget): Spot[] {
  return [
    {
      region: d.config.region,
      scalingConfiguration: target.scalingConfiguration,
      launchTemplate: target.launchTemplate,
    },
    ...Object.entries(target.regions ?? {})
      .filter(([region]) => region !== d.config.region)
      .map(([region, places]) => ({ region, ...places })),
  ];
}

const cloudOf = (d: Locked, region: string) => (region === d.config.region ? d.cloud : d.cloudIn(region));

/** Regions the target rolls into that have no copy of the image: a promote there would leave them behind. */
function missingRegions(d: Locked, target: ChannelTarget, images: Record<string, string>): string[] {
  return spots(d, target)
    .filter((s) => (s.scalingConfiguration || s.launchTemplate) && s.region !== d.config.region)
    .filter((s) => !images[s.region])
    .map((s) => s.region);
}

/** The calls that put an image into what launches instances: the ESS scaling configuration, the launch template. */
function imageCalls(d: Locked, target: ChannelTarget, images: Record<string, string>) {
  return spots(d, target).flatMap((spot) => {
    const imageId = images[spot.region];
    if (!imageId) return [];
    const region = spot.region === d.config.region ? {} : { region: spot.region };
    return [
      ...(spot.scalingConfiguration
        ? [{ action: 'ModifyScalingConfiguration', ...region, ...spot.scalingConfiguration, imageId }]
        : []),
      ...(spot.launchTemplate
        ? [
            {
              action: 'CreateLaunchTemplateVersion',
              ...region,
              launchTemplateId: spot.launchTemplate.launchTemplateId,
              from: 'the default version',
              imageId,
            },
            {
              action: 'ModifyLaunchTemplateDefaultVersion',
              ...region,
              launchTemplateId: spot.launchTemplate.launchTemplateId,
              version: 'the new one',
            },
          ]
        : []),
    ];
  });
}

/** Where the image is already in place in one region (so a repeated roll-out skips it). */
async function placed(d: Locked, spot: Spot, imageId: string) {
  const cloud = cloudOf(d, spot.region);
  const ess = spot.scalingConfiguration
    ? (await cloud.ess.scalingConfigurations(spot.scalingConfiguration.scalingGroupId)).find(
        (c) => c.ScalingConfigurationId === spot.scalingConfiguration!.scalingConfigurationId,
      )?.ImageId === imageId
    : undefined;
  const template = spot.launchTemplate
    ? (await cloud.ecs.launchTemplateVersions(spot.launchTemplate.launchTemplateId)).find(
        (v) => v.DefaultVersion,
      )?.LaunchTemplateData.ImageId === imageId
    : undefined;
  return { ess, template };
}

/** Whether the image reached any place it was going to, in any region. */
async function reachedAny(d: Locked, target: ChannelTarget, images: Record<string, string>) {
  for (const spot of spots(d, target)) {
    const imageId = images[spot.region];
    if (!imageId) continue;
    const where = await placed(d, spot, imageId);
    if (where.ess === true || where.template === true) return true;
  }
  return false;
}

/** Roll each region's copy into its scaling configuration and launch template, skipping what already has it. */
async function rollImage(d: Locked, target: ChannelTarget, images: Record<string, string>, why: string) {
  for (const spot of spots(d, target)) {
    const imageId = images[spot.region];
    if (!imageId) continue;
    const cloud = cloudOf(d, spot.region);
    const already = await placed(d, spot, imageId);
    if (spot.scalingConfiguration && !already.ess) {
      await cloud.ess.modifyScalingConfiguration(spot.scalingConfiguration.scalingConfigurationId, {
        imageId,
      });
    }
    if (spot.launchTemplate && !already.template) {
      // A new version copies the default version with the new image; rolling back does the same with the old one.
      const id = spot.launchTemplate.launchTemplateId;
      const current = (await cloud.ecs.launchTemplateVersions(id)).find((v) => v.DefaultVersion);
      if (!current) throw new Error(`launch template ${id} in ${spot.region} has no default version`);
      const { versionNumber } = await cloud.ecs.createLaunchTemplateVersion(
        id,
        { ...current.LaunchTemplateData, ImageId: imageId },
        `fc-devops: ${why}`.slice(0, 256),
      );
      await cloud.ecs.setDefaultLaunchTemplateVersion(id, versionNumber);
    }
  }
}

/**
 * Carry out a channel change with a write-ahead record (the target's state says `applying`), then
 * record the channel entry and the history. A failure between the cloud and the store is finished
 * by `reconcileChannel` on the next operation or tick.
 */
async function change(
  d: Locked,
  name: string,
  target: ChannelTarget,
  applying: NonNullable<ChannelState['applying']>,
  actor: Actor,
): Promise<void> {
  await write<ChannelState>(d, keys.state(name), { kind: 'image-channel', applying }, actor);
  const outcome = await callWrittenAhead(
    d,
    name,
    () => rollImage(d, target, applying.entry.images, `${applying.note} by ${actorName(actor)}`),
    () => reconcileChannel(d, name, target, { quiet: true }),
  );
  if (outcome === 'settled') return;
  await record(d, name, target, applying, actor);
}

async function record(
  d: Locked,
  name: string,
  target: ChannelTarget,
  applying: NonNullable<ChannelState['applying']>,
  actor: Actor,
) {
  await write(d, keys.channel(target.to), applying.entry, actor, applying.note);
  await write(d, keys.history(name), applying.record, actor);
  await write<ChannelState>(d, keys.state(name), { kind: 'image-channel' }, actor);
}

/**
 * Finish or drop a channel change that was interrupted: if the image reached any place it was
 * going to, complete the roll-out and record it; if it reached none, drop it.
 */
export async function reconcileChannel(
  d: Locked,
  name: string,
  target: ChannelTarget,
  options: { quiet?: boolean } = {},
): Promise<Reconciled> {
  const state = await latest<ChannelState>(d.store, keys.state(name));
  const applying = state?.applying;
  if (!applying) return { kind: 'clean' };
  const what = `${applying.operation} of ${target.to} to ${applying.imageId ?? 'images without one here'}`;
  const images = applying.entry.images;
  const reached = Object.keys(images).length === 0 || (await reachedAny(d, target, images));
  if (reached) {
    await rollImage(d, target, images, `${applying.note} (reconciled)`);
    await record(d, name, target, applying, TIMER);
  } else {
    await write<ChannelState>(d, keys.state(name), { kind: 'image-channel' }, TIMER, 'reconciled: dropped');
  }
  if (!options.quiet)
    await tell(d, {
      kind: 'release.reconciled',
      severity: 'warning',
      subject: name,
      summary: reached
        ? `an interrupted ${what} had partly happened; it is now complete and recorded`
        : `an interrupted ${what} never reached the scaling configuration or launch template; it is dropped`,
    });
  return { kind: reached ? 'completed' : 'abandoned', what };
}

export async function promoteChannel(
  d: Locked,
  name: string,
  target: ChannelTarget,
  input: { dryRun: boolean; requiresApproval: boolean },
  actor: Actor,
): Promise<PromoteResult> {
  const frozen = await frozenState(d.store, name);
  if (frozen) return { kind: 'frozen', reason: frozen.reason ?? 'no reason given' };
  const source = await latest<ChannelEntry>(d.store, keys.channel(target.from));
  if (!source)
    return {
      kind: 'not-found',
      error: 'ImageNotFound',
      message: `channel ${target.from} has no image to promote`,
    };
  const current = await latest<ChannelEntry>(d.store, keys.channel(target.to));
  const imageId = source.images[d.config.region];
  const missing = missingRegions(d, target, source.images);
  if (missing.length)
    return {
      kind: 'refused',
      status: 409,
      error: 'ImageNotInRegion',
      message: `channel ${target.from} has no copy of its image in ${missing.join(', ')} (it has ${Object.keys(source.images).join(', ') || 'none'}): nothing was promoted, so no region is left on another image`,
    };
  if (input.dryRun)
    return {
      kind: 'plan',
      plan: {
        operation: 'promote',
        target: name,
        kind: target.kind,
        requiresApproval: input.requiresApproval,
        calls: [
          { action: 'SetChannel', channel: target.to, images: source.images },
          ...imageCalls(d, target, source.images),
        ],
      },
    };
  const from = current?.images ?? null;
  await change(
    d,
    name,
    target,
    {
      operation: 'promote',
      entry: source,
      imageId,
      note: `promoted from ${target.from}`,
      record: { action: 'promote', from, to: source.images },
      since: d.now().toISOString(),
    },
    actor,
  );
  await tell(d, {
    kind: 'release.promoted',
    severity: 'info',
    subject: `${name} ${imageId ?? ''}`.trim(),
    summary: `${actorName(actor)} promoted ${target.from} to ${target.to}`,
    details: { images: JSON.stringify(source.images) },
  });
  return { kind: 'promoted', from, to: source.images };
}

export async function rollbackChannel(
  d: Locked,
  name: string,
  target: ChannelTarget,
  input: { dryRun: boolean; reason?: string | undefined },
  actor: Actor,
): Promise<RollbackResult> {
  const [current, previous] = await d.store.readHistory<ChannelEntry>(keys.channel(target.to), { limit: 2 });
  if (!current || !previous) return { kind: 'nothing', message: `channel ${target.to} has no earlier image` };
  const imageId = previous.value.images[d.config.region];
  const missing = missingRegions(d, target, previous.value.images);
  if (missing.length)
    return {
      kind: 'refused',
      status: 409,
      error: 'ImageNotInRegion',
      message: `the previous image of ${target.to} has no copy in ${missing.join(', ')}: nothing was rolled back`,
    };
  if (input.dryRun)
    return {
      kind: 'plan',
      plan: {
        operation: 'rollback',
        target: name,
        kind: target.kind,
        requiresApproval: false,
        calls: [
          { action: 'SetChannel', channel: target.to, images: previous.value.images },
          ...imageCalls(d, target, previous.value.images),
        ],
      },
    };
  await change(
    d,
    name,
    target,
    {
      operation: 'rollback',
      entry: previous.value,
      imageId,
      note: 'rollback',
      record: {
        action: 'rollback',
        from: current.value.images,
        to: previous.value.images,
        reason: input.reason,
      },
      since: d.now().toISOString(),
    },
    actor,
  );
  await tell(d, {
    kind: 'release.rolled-back',
    severity: 'warning',
    subject: name,
    summary: `${actorName(actor)} rolled ${target.to} back to ${imageId ?? 'the previous image'}${input.reason ? `: ${input.reason}` : ''}`,
  });
  return { kind: 'rolled-back', from: current.value.images, to: previous.value.images };
}
