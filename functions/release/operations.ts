import type { Cloud } from '../../shared/cloud/cloud.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import { type ChannelEntry, channelKey } from '../../shared/images/build-job.ts';
import type { EventInput, Events } from '../../shared/notify/publish.ts';
import { type AliasRelease, aliasAt, decide, promoteCalls } from '../../shared/release/canary.ts';
import { runHealthChecks } from '../../shared/release/health.ts';
import type { Logger } from '../../shared/runtime/logger.ts';
import type { Store } from '../../shared/store/port.ts';

export type Target = Config['releases']['targets'][string];
type AliasTarget = Extract<Target, { kind: 'fc-alias' }>;
type ChannelTarget = Extract<Target, { kind: 'image-channel' }>;

export interface ReleaseDeps {
  config: Config;
  store: Store;
  cloud: Cloud;
  events: Events;
  now: () => Date;
  log: Logger;
}

/** An operation's answer: an HTTP status and a body. */
export interface Outcome {
  status: number;
  body: Record<string, unknown>;
}

export const keys = {
  state: (t: string) => `release:state:${t}`,
  history: (t: string) => `release:history:${t}`,
  frozen: (t: string) => `release:frozen:${t}`,
  channel: channelKey,
};

export async function latest<V>(store: Store, key: string): Promise<V | undefined> {
  return (await store.readHistory<V>(key, { limit: 1 }))[0]?.value;
}

async function notify(deps: ReleaseDeps, event: EventInput): Promise<void> {
  try {
    await deps.events.publish(event);
  } catch (error) {
    // People not hearing about a release must not undo the release.
    deps.log.warn('event not published', { kind: event.kind, error: (error as Error).message });
  }
}

export async function status(deps: ReleaseDeps, name: string, target: Target): Promise<Outcome> {
  const frozen = await latest<{ frozen: boolean; reason?: string; by: string }>(
    deps.store,
    keys.frozen(name),
  );
  const state = await latest<AliasRelease>(deps.store, keys.state(name));
  const current =
    target.kind === 'fc-alias'
      ? await deps.cloud.fc.getAlias(target.function, target.alias).catch(() => null)
      : ((await latest<ChannelEntry>(deps.store, keys.channel(target.to))) ?? null);
  return {
    status: 200,
    body: {
      target: name,
      kind: target.kind,
      frozen: frozen?.frozen ?? false,
      frozenReason: frozen?.frozen ? frozen.reason : undefined,
      release: state ?? null,
      current,
    },
  };
}

export async function history(deps: ReleaseDeps, name: string): Promise<Outcome> {
  const entries = await deps.store.readHistory(keys.history(name), { limit: 50 });
  return {
    status: 200,
    body: {
      target: name,
      entries: entries.map((e) => ({ ...(e.value as object), at: e.createdAt.toISOString(), by: e.actor })),
    },
  };
}

export async function freeze(
  deps: ReleaseDeps,
  name: string,
  frozen: boolean,
  reason: string | undefined,
  by: string,
): Promise<Outcome> {
  await deps.store.appendHistory(keys.frozen(name), { value: { frozen, reason, by }, actor: by });
  await notify(deps, {
    kind: frozen ? 'release.frozen' : 'release.unfrozen',
    severity: frozen ? 'warning' : 'info',
    subject: name,
    summary: frozen ? `${by} froze ${name}: ${reason ?? 'no reason given'}` : `${by} unfroze ${name}`,
  });
  return { status: 200, body: { target: name, frozen, reason } };
}

/** Promote: checks, then (unless dry run) the first step; a canary goes on from the timer. */
export async function promote(
  deps: ReleaseDeps,
  name: string,
  target: Target,
  input: { version?: string | undefined; dryRun?: boolean | undefined },
  by: string,
): Promise<Outcome> {
  const frozen = await latest<{ frozen: boolean; reason?: string }>(deps.store, keys.frozen(name));
  if (frozen?.frozen)
    return {
      status: 409,
      body: { error: 'Frozen', message: `${name} is frozen: ${frozen.reason ?? 'no reason given'}` },
    };
  const running = await latest<AliasRelease>(deps.store, keys.state(name));
  if (running?.status === 'running')
    return {
      status: 409,
      body: { error: 'InProgress', message: `${name} is already being promoted`, release: running },
    };
  return target.kind === 'fc-alias'
    ? promoteAlias(deps, name, target, input, by)
    : promoteChannel(deps, name, target, input, by);
}

async function promoteAlias(
  deps: ReleaseDeps,
  name: string,
  target: AliasTarget,
  input: { version?: string | undefined; dryRun?: boolean | undefined },
  by: string,
): Promise<Outcome> {
  const fc = deps.cloud.fc;
  if (input.version) {
    const { versions } = await fc.listVersions(target.function, { limit: 100 });
    if (!versions.some((v) => v.versionId === input.version)) {
      return {
        status: 404,
        body: {
          error: 'VersionNotFound',
          message: `version ${input.version} of ${target.function} does not exist`,
        },
      };
    }
  }
  const alias = await fc.getAlias(target.function, target.alias);
  const plan = {
    target: name,
    publish: input.version ? undefined : { action: 'PublishFunctionVersion', function: target.function },
    calls: promoteCalls(
      {
        functionName: target.function,
        alias: target.alias,
        from: alias.versionId,
        to: input.version ?? '<published>',
        steps: target.steps,
      },
      target.stepWaitSeconds,
    ),
  };
  if (input.dryRun) return { status: 200, body: { dryRun: true, plan } };
  const to =
    input.version ?? (await fc.publishVersion(target.function, `promoted by ${by} via fc-devops`)).versionId;
  if (to === alias.versionId)
    return {
      status: 200,
      body: { target: name, message: `${target.alias} already points at version ${to}` },
    };
  const release: AliasRelease = {
    target: name,
    functionName: target.function,
    alias: target.alias,
    from: alias.versionId,
    to,
    steps: target.steps,
    step: 0,
    status: target.steps.length > 1 ? 'running' : 'succeeded',
    nextAt:
      target.steps.length > 1
        ? new Date(deps.now().getTime() + target.stepWaitSeconds * 1000).toISOString()
        : null,
    by,
  };
  await fc.updateAlias(target.function, target.alias, aliasAt(release, 0));
  await deps.store.appendHistory(keys.state(name), { value: release, actor: by });
  if (release.status === 'succeeded') {
    await deps.store.appendHistory(keys.history(name), {
      value: { action: 'promote', from: release.from, to },
      actor: by,
    });
    await notify(deps, {
      kind: 'release.promoted',
      severity: 'info',
      subject: `${name} v${to}`,
      summary: `${by} promoted ${target.function}:${target.alias} from version ${release.from} to ${to}`,
    });
    return { status: 200, body: { target: name, promoted: { from: release.from, to } } };
  }
  await notify(deps, {
    kind: 'release.step',
    severity: 'info',
    subject: `${name} v${to}`,
    summary: `canary of version ${to} on ${target.function}:${target.alias} at ${target.steps[0]}%`,
  });
  return { status: 202, body: { target: name, release } };
}

async function promoteChannel(
  deps: ReleaseDeps,
  name: string,
  target: ChannelTarget,
  input: { dryRun?: boolean | undefined },
  by: string,
): Promise<Outcome> {
  const source = await latest<ChannelEntry>(deps.store, keys.channel(target.from));
  if (!source)
    return {
      status: 404,
      body: { error: 'ImageNotFound', message: `channel ${target.from} has no image to promote` },
    };
  const current = await latest<ChannelEntry>(deps.store, keys.channel(target.to));
  const imageId = source.images[deps.config.region];
  const plan = [
    { action: 'SetChannel', channel: target.to, images: source.images },
    ...imagePlan(target, imageId),
  ];
  if (input.dryRun) return { status: 200, body: { dryRun: true, plan } };
  await rollImage(deps, target, imageId, `promoted from ${target.from} by ${by}`);
  await deps.store.appendHistory(keys.channel(target.to), {
    value: source,
    actor: by,
    note: `promoted from ${target.from}`,
  });
  await deps.store.appendHistory(keys.history(name), {
    value: { action: 'promote', from: current?.images ?? null, to: source.images },
    actor: by,
  });
  await notify(deps, {
    kind: 'release.promoted',
    severity: 'info',
    subject: `${name} ${imageId ?? ''}`.trim(),
    summary: `${by} promoted ${target.from} to ${target.to}`,
    details: { images: JSON.stringify(source.images) },
  });
  return {
    status: 200,
    body: { target: name, promoted: { from: current?.images ?? null, to: source.images } },
  };
}

/** The calls that put an image into what launches instances: the ESS scaling configuration, the launch template. */
function imagePlan(target: ChannelTarget, imageId: string | undefined) {
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

async function rollImage(
  deps: ReleaseDeps,
  target: ChannelTarget,
  imageId: string | undefined,
  why: string,
): Promise<void> {
  if (!imageId) return;
  if (target.scalingConfiguration) {
    await deps.cloud.ess.modifyScalingConfiguration(target.scalingConfiguration.scalingConfigurationId, {
      imageId,
    });
  }
  if (target.launchTemplate) {
    // A new version copies the default version with the new image; rolling back does the same with the old one.
    const id = target.launchTemplate.launchTemplateId;
    const current = (await deps.cloud.ecs.launchTemplateVersions(id)).find((v) => v.DefaultVersion);
    if (!current) throw new Error(`launch template ${id} has no default version`);
    const { versionNumber } = await deps.cloud.ecs.createLaunchTemplateVersion(
      id,
      { ...current.LaunchTemplateData, ImageId: imageId },
      `fc-devops: ${why}`.slice(0, 256),
    );
    await deps.cloud.ecs.setDefaultLaunchTemplateVersion(id, versionNumber);
  }
}

export async function rollback(
  deps: ReleaseDeps,
  name: string,
  target: Target,
  input: { dryRun?: boolean | undefined },
  by: string,
  reason?: string,
): Promise<Outcome> {
  if (target.kind === 'image-channel') {
    const [current, previous] = await deps.store.readHistory<ChannelEntry>(keys.channel(target.to), {
      limit: 2,
    });
    if (!current || !previous)
      return {
        status: 409,
        body: { error: 'NothingToRollBack', message: `channel ${target.to} has no earlier image` },
      };
    const imageId = previous.value.images[deps.config.region];
    const plan = [
      { action: 'SetChannel', channel: target.to, images: previous.value.images },
      ...imagePlan(target, imageId),
    ];
    if (input.dryRun) return { status: 200, body: { dryRun: true, plan } };
    await rollImage(deps, target, imageId, `rollback by ${by}`);
    await deps.store.appendHistory(keys.channel(target.to), {
      value: previous.value,
      actor: by,
      note: 'rollback',
    });
    await deps.store.appendHistory(keys.history(name), {
      value: { action: 'rollback', from: current.value.images, to: previous.value.images },
      actor: by,
    });
    await notify(deps, {
      kind: 'release.rolled-back',
      severity: 'warning',
      subject: name,
      summary: `${by} rolled ${target.to} back to ${imageId ?? 'the previous image'}`,
    });
    return {
      status: 200,
      body: { target: name, rolledBack: { from: current.value.images, to: previous.value.images } },
    };
  }
  const state = await latest<AliasRelease>(deps.store, keys.state(name));
  const alias = await deps.cloud.fc.getAlias(target.function, target.alias);
  let back: string | undefined;
  if (state?.status === 'running') back = state.from;
  else {
    const last = (
      await deps.store.readHistory<{ action: string; from: string; to: string }>(keys.history(name), {
        limit: 20,
      })
    ).find((e) => e.value.to === alias.versionId);
    back = last?.value.from;
  }
  if (!back)
    return {
      status: 409,
      body: {
        error: 'NothingToRollBack',
        message: `no earlier version of ${target.function}:${target.alias} is known`,
      },
    };
  const plan = [
    {
      action: 'UpdateAlias',
      function: target.function,
      alias: target.alias,
      versionId: back,
      additionalVersionWeight: {},
    },
  ];
  if (input.dryRun) return { status: 200, body: { dryRun: true, plan } };
  await deps.cloud.fc.updateAlias(target.function, target.alias, {
    versionId: back,
    additionalVersionWeight: {},
  });
  if (state?.status === 'running')
    await deps.store.appendHistory(keys.state(name), {
      value: { ...state, status: 'rolled-back', nextAt: null, reason: reason ?? `rolled back by ${by}` },
      actor: by,
    });
  // A canary's main version never moved: what is rolled back is the canary version.
  const from = state?.status === 'running' ? state.to : alias.versionId;
  await deps.store.appendHistory(keys.history(name), {
    value: { action: 'rollback', from, to: back, reason },
    actor: by,
  });
  await notify(deps, {
    kind: 'release.rolled-back',
    severity: by === 'fc-devops' ? 'error' : 'warning',
    subject: `${name} v${back}`,
    summary: `${by === 'fc-devops' ? 'automatic rollback' : `${by} rolled back`} ${target.function}:${target.alias} to version ${back}${reason ? `: ${reason}` : ''}`,
  });
  return { status: 200, body: { target: name, rolledBack: { from, to: back } } };
}

/** Timer: move every running canary that is due one step on, or roll it back if its checks fail. */
export async function advanceCanaries(deps: ReleaseDeps): Promise<Record<string, string>> {
  const done: Record<string, string> = {};
  for (const [name, target] of Object.entries(deps.config.releases.targets)) {
    if (target.kind !== 'fc-alias') continue;
    const state = await latest<AliasRelease>(deps.store, keys.state(name));
    if (!state || decide(state, deps.now(), undefined).kind === 'wait') continue;
    const health = await runHealthChecks(target.healthChecks);
    const next = decide(state, deps.now(), health);
    if (next.kind === 'rollback') {
      await rollback(deps, name, target, {}, 'fc-devops', next.reason);
      done[name] = `rolled back: ${next.reason}`;
      continue;
    }
    if (next.kind !== 'next') continue;
    await deps.cloud.fc.updateAlias(target.function, target.alias, aliasAt(state, next.step));
    const updated: AliasRelease = {
      ...state,
      step: next.step,
      status: next.done ? 'succeeded' : 'running',
      nextAt: next.done ? null : new Date(deps.now().getTime() + target.stepWaitSeconds * 1000).toISOString(),
    };
    await deps.store.appendHistory(keys.state(name), { value: updated, actor: 'fc-devops' });
    if (next.done) {
      await deps.store.appendHistory(keys.history(name), {
        value: { action: 'promote', from: state.from, to: state.to },
        actor: state.by,
      });
      await notify(deps, {
        kind: 'release.promoted',
        severity: 'info',
        subject: `${name} v${state.to}`,
        summary: `canary finished: ${target.function}:${target.alias} now serves version ${state.to}`,
      });
    } else {
      await notify(deps, {
        kind: 'release.step',
        severity: 'info',
        subject: `${name} v${state.to}`,
        summary: `canary of version ${state.to} at ${target.steps[next.step]}%`,
      });
    }
    done[name] = next.done ? 'promoted' : `step ${next.step}`;
  }
  return done;
}
