// One release target, whatever its kind: dispatch, freeze, status and history.
import type { ChannelEntry } from '../../shared/images/build-job.ts';
import { promoteAlias, reconcileAlias, rollbackAlias } from './alias.ts';
import type { AliasRelease } from './canary.ts';
import { promoteChannel, reconcileChannel, rollbackChannel } from './channel.ts';
import { kubeStatus, promoteKube, reconcileKube, rollbackKube } from './kube.ts';
import type { PromoteResult, Reconciled, RollbackResult } from './outcome.ts';
import {
  type Actor,
  actorName,
  type Frozen,
  keys,
  type Locked,
  latest,
  type ReleaseDeps,
  type Target,
  tell,
  write,
} from './state.ts';

export function reconcile(d: Locked, name: string, target: Target): Promise<Reconciled> {
  if (target.kind === 'k8s-deployment') return reconcileKube(d, name, target);
  return target.kind === 'fc-alias' ? reconcileAlias(d, name, target) : reconcileChannel(d, name, target);
}

/** What a promote may name: an FC version, or for a Deployment an image or a tag. */
export interface PromoteInput {
  version?: string | undefined;
  image?: string | undefined;
  tag?: string | undefined;
  dryRun: boolean;
}

export function promote(
  d: Locked,
  name: string,
  target: Target,
  input: PromoteInput,
  actor: Actor,
): Promise<PromoteResult> {
  const asked = { ...input, requiresApproval: target.requireApproval };
  if (target.kind === 'k8s-deployment') return promoteKube(d, name, target, asked, actor);
  return target.kind === 'fc-alias'
    ? promoteAlias(d, name, target, asked, actor)
    : promoteChannel(d, name, target, asked, actor);
}

export function rollback(
  d: Locked,
  name: string,
  target: Target,
  input: { dryRun: boolean; reason?: string | undefined; revision?: number | undefined },
  actor: Actor,
): Promise<RollbackResult> {
  if (target.kind === 'k8s-deployment') return rollbackKube(d, name, target, input, actor);
  return target.kind === 'fc-alias'
    ? rollbackAlias(d, name, target, input, actor)
    : rollbackChannel(d, name, target, input, actor);
}

export async function freeze(
  d: Locked,
  name: string,
  frozen: boolean,
  reason: string | undefined,
  actor: Actor,
) {
  const by = actorName(actor);
  await write<Frozen>(d, keys.frozen(name), { frozen, reason, by }, actor);
  await tell(d, {
    kind: frozen ? 'release.frozen' : 'release.unfrozen',
    severity: frozen ? 'warning' : 'info',
    subject: name,
    summary: frozen ? `${by} froze ${name}: ${reason ?? 'no reason given'}` : `${by} unfroze ${name}`,
  });
  return { target: name, frozen, reason };
}

export async function status(d: ReleaseDeps, name: string, target: Target) {
  const frozen = await latest<Frozen>(d.store, keys.frozen(name));
  const state = await latest<AliasRelease | { applying?: unknown }>(d.store, keys.state(name));
  const current =
    target.kind === 'k8s-deployment'
      ? await kubeStatus(d, target)
      : target.kind === 'fc-alias'
        ? await d.cloud.fc.getAlias(target.function, target.alias).catch(() => null)
        : ((await latest<ChannelEntry>(d.store, keys.channel(target.to))) ?? null);
  return {
    target: name,
    kind: target.kind,
    frozen: frozen?.frozen ?? false,
    frozenReason: frozen?.frozen ? frozen.reason : undefined,
    release: state ?? null,
    // A change whose store record did not follow its cloud call; the next operation or tick settles it.
    applying: state?.applying ?? null,
    current,
  };
}

export async function history(d: ReleaseDeps, name: string) {
  const entries = await d.store.readHistory(keys.history(name), { limit: 50 });
  return {
    target: name,
    entries: entries.map((e) => ({ ...(e.value as object), at: e.createdAt.toISOString(), by: e.actor })),
  };
}
