// Kubernetes Deployment targets: set the container's image, watch the rollout as `kubectl rollout
// status` does (the timer moves it on), check health for a while, and undo as `kubectl rollout
// undo` does when the rollout misses its deadline or the checks fail.
import type { ChannelEntry } from '../../shared/images/build-job.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import {
  imagesOf,
  pausePatch,
  repositoryOf,
  revisionOf,
  revisions,
  rolloutStatus,
  setImage,
  undo,
} from '../../shared/kube/rollout.ts';
import type { Deployment, JsonPatchOp } from '../../shared/kube/types.ts';
import { runHealthChecks } from './health.ts';
import { type KubeTarget, Refusal, withCluster } from './kube-access.ts';
import { isActive, type KubeRelease } from './kube-state.ts';
import type { PromoteResult, Reconciled, RollbackResult } from './outcome.ts';
import {
  type Actor,
  actorName,
  callWrittenAhead,
  frozenState,
  type HistoryRecord,
  keys,
  type Locked,
  latest,
  operator,
  type ReleaseDeps,
  TIMER,
  tell,
  write,
} from './state.ts';

const refused = (e: unknown) => {
  if (e instanceof Refusal)
    return { kind: 'refused' as const, status: e.status, error: e.error, message: e.message };
  throw e;
};

const describe = (images: Record<string, string>) =>
  Object.entries(images)
    .map(([c, i]) => `${c}=${i}`)
    .join(', ');

function patchCall(t: KubeTarget, patch: JsonPatchOp[]) {
  return {
    action: 'PatchDeployment',
    cluster: t.cluster ?? 'kubeconfig',
    namespace: t.namespace,
    deployment: t.deployment,
    contentType: 'application/json-patch+json',
    patch,
  };
}

/** Which image a promote sets: the one given, the current repository at a tag, or the channel's. */
async function imageToSet(
  d: ReleaseDeps,
  t: KubeTarget,
  input: { image?: string | undefined; tag?: string | undefined },
  current: string,
): Promise<string> {
  if (input.image) return input.image;
  if (input.tag) return `${repositoryOf(current)}${input.tag.startsWith('sha256:') ? '@' : ':'}${input.tag}`;
  const entry = await latest<ChannelEntry>(d.store, keys.channel(t.channel!));
  const image = entry?.images[d.config.region];
  if (!image)
    throw new Refusal(404, 'ImageNotFound', `channel ${t.channel} has no image for ${d.config.region}`);
  return image;
}

/**
 * Send a patch with a write-ahead record: the state says `applying` first, then the Deployment is
 * patched, then the state is written. If the patch fails, the Deployment itself says whether it
 * landed (`reconcileKube`).
 */
async function patchWrittenAhead(
  d: Locked,
  name: string,
  t: KubeTarget,
  client: KubeClient,
  next: KubeRelease,
  patch: JsonPatchOp[],
  actor: Actor,
): Promise<KubeRelease> {
  const previous = (await latest<KubeRelease>(d.store, keys.state(name))) ?? null;
  const applying = { want: next.to.images, previous, since: d.now().toISOString() };
  await write(d, keys.state(name), { ...next, applying }, actor);
  let patched: Deployment | undefined;
  const outcome = await callWrittenAhead(
    d,
    name,
    async () => {
      patched = await client.patchDeployment(t.namespace, t.deployment, patch);
    },
    () => reconcileKube(d, name, t, { quiet: true }),
  );
  if (outcome === 'settled') return (await latest<KubeRelease>(d.store, keys.state(name)))!;
  const recorded = { ...next, generation: patched!.metadata.generation ?? 0 };
  await write(d, keys.state(name), recorded, actor);
  return recorded;
}

export async function promoteKube(
  d: Locked,
  name: string,
  t: KubeTarget,
  input: { image?: string | undefined; tag?: string | undefined; dryRun: boolean; requiresApproval: boolean },
  actor: Actor,
): Promise<PromoteResult> {
  const frozen = await frozenState(d.store, name);
  if (frozen) return { kind: 'frozen', reason: frozen.reason ?? 'no reason given' };
  const state = await latest<KubeRelease>(d.store, keys.state(name));
  if (isActive(state)) return { kind: 'in-progress', release: state! };
  // Said before the cluster is asked anything: there is nothing to promote.
  if (!input.image && !input.tag && !t.channel)
    return {
      kind: 'refused',
      status: 400,
      error: 'ImageRequired',
      message: 'give an image or a tag: the target names no image channel to take one from',
    };
  try {
    return await withCluster(d, t, async (client) => {
      const dep = await client.getDeployment(t.namespace, t.deployment);
      const current = dep.spec.template.spec.containers.find((c) => c.name === t.container)?.image ?? '';
      const image = await imageToSet(d, t, input, current);
      const cause = `fc-devops: promote ${t.container} to ${image} by ${actorName(actor)}`;
      const change = setImage(dep, t.container, image, cause);
      if (change.kind === 'no-container')
        return {
          kind: 'refused',
          status: 400,
          error: 'ContainerNotFound',
          message: `deployment ${t.namespace}/${t.deployment} has no container "${t.container}"; its containers: ${change.containers.join(', ')}`,
        };
      if (change.kind === 'unchanged')
        return {
          kind: 'unchanged',
          message: `${t.container} of ${t.namespace}/${t.deployment} already runs ${image}`,
        };
      if (input.dryRun) {
        // The API server checks the patch without storing it (server-side dry run).
        await client.patchDeployment(t.namespace, t.deployment, change.patch, true);
        return {
          kind: 'plan',
          plan: {
            operation: 'promote',
            target: name,
            kind: t.kind,
            requiresApproval: input.requiresApproval,
            calls: [
              { ...patchCall(t, change.patch), serverDryRun: 'accepted' },
              {
                action: 'WatchRollout',
                until: 'kubectl rollout status succeeds, then the health checks pass',
                healthySeconds: t.healthySeconds,
                onFailure:
                  t.onFailure === 'rollback' ? `undo to revision ${revisionOf(dep)}` : 'pause the rollout',
              },
            ],
          },
        };
      }
      const from = { revision: revisionOf(dep), images: imagesOf(dep.spec.template) };
      const release = await patchWrittenAhead(
        d,
        name,
        t,
        client,
        {
          kind: 'k8s-deployment',
          operation: 'promote',
          status: 'rolling',
          from,
          to: { images: { ...from.images, [t.container]: image } },
          generation: 0,
          startedAt: d.now().toISOString(),
          by: actorName(actor),
        },
        change.patch,
        actor,
      );
      await tell(d, {
        kind: 'release.step',
        severity: 'info',
        subject: `${name} ${image}`,
        summary: `${actorName(actor)} started rolling out ${image} to ${t.namespace}/${t.deployment} (was ${change.from}, revision ${from.revision})`,
      });
      return { kind: 'started', release };
    });
  } catch (error) {
    return refused(error);
  }
}

export async function rollbackKube(
  d: Locked,
  name: string,
  t: KubeTarget,
  input: { dryRun: boolean; reason?: string | undefined; revision?: number | undefined },
  actor: Actor,
): Promise<RollbackResult> {
  const state = await latest<KubeRelease>(d.store, keys.state(name));
  if (state?.status === 'rolling-back')
    return {
      kind: 'refused',
      status: 409,
      error: 'InProgress',
      message: `${name} is already rolling back (${state.progress ?? 'started'})`,
    };
  try {
    return await withCluster(d, t, async (client) => {
      const dep = await client.getDeployment(t.namespace, t.deployment);
      const sets = await client.listReplicaSets(t.namespace, dep.spec.selector.matchLabels ?? {});
      const u = undo(dep, sets, input.revision ?? 0);
      if (u.kind === 'none')
        return input.revision && u.message.startsWith('unable')
          ? {
              kind: 'refused',
              status: 404,
              error: 'RevisionNotFound',
              message: `${t.namespace}/${t.deployment}: ${u.message}`,
            }
          : { kind: 'nothing', message: `${t.namespace}/${t.deployment}: ${u.message}` };
      if (input.dryRun)
        return {
          kind: 'plan',
          plan: {
            operation: 'rollback',
            target: name,
            kind: t.kind,
            requiresApproval: false,
            calls: [{ ...patchCall(t, u.patch), toRevision: u.revision, images: u.images }],
          },
        };
      const release = await startUndo(d, name, t, client, dep, u, actor, input.reason, state);
      return { kind: 'started', release };
    });
  } catch (error) {
    return refused(error);
  }
}

async function startUndo(
  d: Locked,
  name: string,
  t: KubeTarget,
  client: KubeClient,
  dep: Deployment,
  u: Extract<ReturnType<typeof undo>, { kind: 'patch' }>,
  actor: Actor,
  reason: string | undefined,
  state: KubeRelease | undefined,
): Promise<KubeRelease> {
  const automatic = actor.kind !== 'operator';
  const from = { revision: revisionOf(dep), images: imagesOf(dep.spec.template) };
  const release = await patchWrittenAhead(
    d,
    name,
    t,
    client,
    {
      kind: 'k8s-deployment',
      operation: 'rollback',
      status: 'rolling-back',
      from,
      to: { images: u.images, revision: u.revision },
      generation: 0,
      startedAt: d.now().toISOString(),
      by: actorName(actor),
      automatic,
      ...(reason ? { reason } : {}),
      ...(state && isActive(state) && state.operation === 'promote'
        ? { undoing: { from: state.from.images, to: state.to.images } }
        : {}),
    },
    u.patch,
    actor,
  );
  await tell(d, {
    kind: 'release.rolled-back',
    severity: automatic ? 'critical' : 'warning',
    subject: `${name} revision ${u.revision}`,
    summary: `${automatic ? 'automatic rollback of' : `${actorName(actor)} is rolling back`} ${t.namespace}/${t.deployment} to revision ${u.revision} (${describe(u.images)})${reason ? `: ${reason}` : ''}`,
  });
  return release;
}

/** A rollout of ours that failed: undo it, or pause it when the target says so. */
async function failed(
  d: Locked,
  name: string,
  t: KubeTarget,
  client: KubeClient,
  dep: Deployment,
  state: KubeRelease,
  reason: string,
): Promise<string> {
  const record: HistoryRecord = {
    action: 'promote',
    from: state.from.images,
    to: state.to.images,
    reason,
    outcome: t.onFailure === 'pause' ? 'paused' : 'rolled-back',
  };
  if (t.onFailure === 'pause') {
    const paused = await client.patchDeployment(t.namespace, t.deployment, pausePatch(dep));
    await write(
      d,
      keys.state(name),
      { ...state, status: 'paused', reason, generation: paused.metadata.generation ?? 0 },
      TIMER,
    );
    await write(d, keys.history(name), record, TIMER);
    await tell(d, {
      kind: 'release.paused',
      severity: 'critical',
      subject: name,
      summary: `the rollout of ${describe(state.to.images)} to ${t.namespace}/${t.deployment} is paused, not rolled back: ${reason}. Roll back with fc-devops release rollback ${name}`,
    });
    return `paused: ${reason}`;
  }
  const sets = await client.listReplicaSets(t.namespace, dep.spec.selector.matchLabels ?? {});
  const u = undo(dep, sets, state.from.revision);
  if (u.kind === 'none') {
    await write(
      d,
      keys.state(name),
      { ...state, status: 'failed', reason: `${reason}; no rollback: ${u.message}` },
      TIMER,
    );
    await write(d, keys.history(name), { ...record, outcome: 'failed' }, TIMER);
    await tell(d, {
      kind: 'release.failed',
      severity: 'critical',
      subject: name,
      summary: `the rollout to ${t.namespace}/${t.deployment} failed (${reason}) and cannot be undone: ${u.message}`,
    });
    return `failed: ${reason}`;
  }
  await write(d, keys.history(name), record, TIMER);
  await startUndo(d, name, t, client, dep, u, TIMER, reason, state);
  return `rolling back: ${reason}`;
}

/**
 * The timer's step for a rollout fc-devops is watching: the rollout's state as kubectl reads it,
 * then the health checks once it completed. Returns what happened, for the tick's answer.
 */
export async function stepKube(d: Locked, name: string, t: KubeTarget): Promise<string | undefined> {
  const state = await latest<KubeRelease>(d.store, keys.state(name));
  if (!state || !isActive(state) || state.applying) return undefined;
  return withCluster(d, t, async (client) => {
    const dep = await client.getDeployment(t.namespace, t.deployment);
    const now = d.now();
    if ((dep.metadata.generation ?? 0) > state.generation) {
      const reason = `the Deployment was changed outside fc-devops (generation ${dep.metadata.generation}, ours ${state.generation}); no longer watched`;
      await write(d, keys.state(name), { ...state, status: 'failed', reason }, TIMER);
      await tell(d, { kind: 'release.failed', severity: 'warning', subject: name, summary: reason });
      return `stopped: ${reason}`;
    }
    const rollout = rolloutStatus(dep);
    if (state.status === 'rolling-back') {
      if (rollout.state === 'waiting') return progress(d, name, state, rollout.message);
      const done = rollout.state === 'complete';
      await write(
        d,
        keys.state(name),
        {
          ...state,
          status: done ? 'rolled-back' : 'failed',
          progress: rollout.message,
          completedAt: now.toISOString(),
        },
        TIMER,
      );
      await write(
        d,
        keys.history(name),
        {
          action: 'rollback',
          from: state.from.images,
          to: state.to.images,
          reason: state.reason,
          automatic: state.automatic ?? false,
          outcome: done ? 'rolled-back' : 'failed',
          ...(state.to.revision ? { revision: state.to.revision } : {}),
        } satisfies HistoryRecord,
        TIMER,
      );
      await tell(d, {
        kind: done ? 'release.rolled-back' : 'release.failed',
        severity: state.automatic || !done ? 'critical' : 'warning',
        subject: `${name} revision ${revisionOf(dep)}`,
        summary: done
          ? `the rollback of ${t.namespace}/${t.deployment} is complete: it runs ${describe(imagesOf(dep.spec.template))} (revision ${revisionOf(dep)})`
          : `the rollback of ${t.namespace}/${t.deployment} did not complete: ${rollout.message}`,
      });
      return done ? 'rolled back' : `rollback failed: ${rollout.message}`;
    }
    if (rollout.state === 'failed') return failed(d, name, t, client, dep, state, rollout.message);
    if (state.status === 'rolling') {
      if (rollout.state === 'waiting') return progress(d, name, state, rollout.message);
      state.status = 'verifying';
      state.completedAt = now.toISOString();
      state.healthyUntil = new Date(now.getTime() + t.healthySeconds * 1000).toISOString();
      state.to = { ...state.to, revision: revisionOf(dep) };
      state.progress = rollout.message;
    }
    const health = await runHealthChecks(t.healthChecks);
    if (!health.ok) return failed(d, name, t, client, dep, state, `health check failed: ${health.reason}`);
    if (now.getTime() < Date.parse(state.healthyUntil!)) {
      await write(d, keys.state(name), state, TIMER);
      return `verifying until ${state.healthyUntil}`;
    }
    await write(d, keys.state(name), { ...state, status: 'succeeded' }, TIMER);
    await write(
      d,
      keys.history(name),
      {
        action: 'promote',
        from: state.from.images,
        to: state.to.images,
        outcome: 'succeeded',
        revision: revisionOf(dep),
      } satisfies HistoryRecord,
      // The promote is the operator's who started it; the timer only watched it through.
      state.by === actorName(TIMER) ? TIMER : operator(state.by),
    );
    await tell(d, {
      kind: 'release.promoted',
      severity: 'info',
      subject: `${name} revision ${revisionOf(dep)}`,
      summary: `${t.namespace}/${t.deployment} runs ${describe(state.to.images)} (revision ${revisionOf(dep)}); rolled out and healthy`,
    });
    return 'promoted';
  });
}

async function progress(d: Locked, name: string, state: KubeRelease, message: string) {
  if (state.progress !== message) await write(d, keys.state(name), { ...state, progress: message }, TIMER);
  return `waiting: ${message}`;
}

/**
 * Finish or drop a patch whose record did not follow it: if the Deployment runs the images the
 * patch set, the change is recorded with the Deployment's generation; otherwise the state goes
 * back to what it was.
 */
export async function reconcileKube(
  d: Locked,
  name: string,
  t: KubeTarget,
  options: { quiet?: boolean } = {},
): Promise<Reconciled> {
  const state = await latest<KubeRelease>(d.store, keys.state(name));
  if (!state?.applying) return { kind: 'clean' };
  const { applying, ...next } = state;
  const dep = await withCluster(d, t, (client) => client.getDeployment(t.namespace, t.deployment));
  const what = `${next.operation} of ${t.namespace}/${t.deployment} to ${describe(applying.want)}`;
  const landed = JSON.stringify(imagesOf(dep.spec.template)) === JSON.stringify(applying.want);
  if (landed)
    await write(
      d,
      keys.state(name),
      { ...next, generation: dep.metadata.generation ?? 0 },
      TIMER,
      'reconciled: the patch had landed',
    );
  else if (applying.previous)
    await write(d, keys.state(name), applying.previous, TIMER, 'reconciled: dropped');
  else
    await write(
      d,
      keys.state(name),
      { ...next, status: 'failed', reason: 'the patch never landed' },
      TIMER,
      'reconciled: dropped',
    );
  if (!options.quiet)
    await tell(d, {
      kind: 'release.reconciled',
      severity: 'warning',
      subject: name,
      summary: landed
        ? `an interrupted ${what} had reached the Deployment; it is recorded and watched`
        : `an interrupted ${what} never reached the Deployment; it is dropped`,
    });
  return { kind: landed ? 'completed' : 'abandoned', what };
}

/** The Deployment as it is now: images, revision, rollout state, and its revisions (`rollout history`). */
export async function kubeStatus(d: ReleaseDeps, t: KubeTarget) {
  try {
    return await withCluster(d, t, async (client) => {
      const dep = await client.getDeployment(t.namespace, t.deployment);
      const sets = await client.listReplicaSets(t.namespace, dep.spec.selector.matchLabels ?? {});
      const s = dep.status ?? {};
      return {
        namespace: t.namespace,
        deployment: t.deployment,
        revision: revisionOf(dep),
        images: imagesOf(dep.spec.template),
        paused: dep.spec.paused === true,
        replicas: {
          desired: dep.spec.replicas ?? 1,
          updated: s.updatedReplicas ?? 0,
          ready: s.readyReplicas ?? 0,
          available: s.availableReplicas ?? 0,
        },
        rollout: rolloutStatus(dep),
        revisions: revisions(dep, sets),
      };
    });
  } catch (error) {
    if (error instanceof Refusal) return { error: error.error, message: error.message };
    throw error;
  }
}
