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

/** The calls that put an image into what launches instances: the ESS scaling configuration, the launch template. */
function imageCalls(target: ChannelTarget, imageId: string | undefined) {
  if (!imageId) return [];
  return [
    ...(target.scalingConfiguration
      ? [{ action: 'ModifyScalingConfiguration', ...target.scalingConfiguration, imageId }]
      : []),
    ...(target.launchTemplate
      ? [
          {
            action: 'CreateLaunchTemplateVersion',
            launchTemplateId: target.launchTemplate.launchTemplateId,
            from: 'the default version',
            imageId,
          },
          {
            action: 'ModifyLaunchTemplateDefaultVersion',
            launchTemplateId: target.launchTemplate.launchTemplateId,
            version: 'the new one',
          },
        ]
      : []),
  ];
}

/** Where the image is already in place (so a repeated roll-out skips it). */
async function placed(d: Locked, target: ChannelTarget, imageId: string) {
  const ess = target.scalingConfiguration
    ? (await d.cloud.ess.scalingConfigurations(target.scalingConfiguration.scalingGroupId)).find(
        (c) => c.ScalingConfigurationId === target.scalingConfiguration!.scalingConfigurationId,
      )?.ImageId === imageId
    : undefined;
  const template = target.launchTemplate
    ? (await d.cloud.ecs.launchTemplateVersions(target.launchTemplate.launchTemplateId)).find(
        (v) => v.DefaultVersion,
      )?.LaunchTemplateData.ImageId === imageId
    : undefined;
  return { ess, template };
}

/** Roll the image into the scaling configuration and the launch template, skipping what already has it. */
async function rollImage(d: Locked, target: ChannelTarget, imageId: string | undefined, why: string) {
  if (!imageId) return;
  const already = await placed(d, target, imageId);
  if (target.scalingConfiguration && !already.ess) {
    await d.cloud.ess.modifyScalingConfiguration(target.scalingConfiguration.scalingConfigurationId, {
      imageId,
    });
  }
  if (target.launchTemplate && !already.template) {
    // A new version copies the default version with the new image; rolling back does the same with the old one.
    const id = target.launchTemplate.launchTemplateId;
    const current = (await d.cloud.ecs.launchTemplateVersions(id)).find((v) => v.DefaultVersion);
    if (!current) throw new Error(`launch template ${id} has no default version`);
    const { versionNumber } = await d.cloud.ecs.createLaunchTemplateVersion(
      id,
      { ...current.LaunchTemplateData, ImageId: imageId },
      `fc-devops: ${why}`.slice(0, 256),
    );
    await d.cloud.ecs.setDefaultLaunchTemplateVersion(id, versionNumber);
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
    () => rollImage(d, target, applying.imageId, `${applying.note} by ${actorName(actor)}`),
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
  const where = applying.imageId ? await placed(d, target, applying.imageId) : { ess: true, template: true };
  const reached = [where.ess, where.template].some((p) => p === true) || !applying.imageId;
  if (reached) {
    await rollImage(d, target, applying.imageId, `${applying.note} (reconciled)`);
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
          ...imageCalls(target, imageId),
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
          ...imageCalls(target, imageId),
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
