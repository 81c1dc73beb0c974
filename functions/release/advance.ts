// The release timer: move due canaries and watched Kubernetes rollouts on, and settle interrupted
// changes, one target at a time.

import { stepCanary } from './alias.ts';
import type { AliasRelease } from './canary.ts';
import { stepKube } from './kube.ts';
import { isActive } from './kube-state.ts';
import { isBusy, keys, latest, type ReleaseDeps, withTargetLock } from './state.ts';
import { reconcile } from './target.ts';

/**
 * For each target with a canary due or a change left `applying`: take the target's lock (a target
 * an operator is working on is skipped until the next tick), settle what was interrupted, then
 * step the canary. One target failing does not hold up the others.
 */
export async function advanceAll(d: ReleaseDeps, owner: string): Promise<Record<string, string>> {
  const done: Record<string, string> = {};
  for (const [name, target] of Object.entries(d.config.releases.targets)) {
    const state = await latest<AliasRelease & { applying?: unknown }>(d.store, keys.state(name));
    const due =
      (target.kind === 'fc-alias' && state?.status === 'running') ||
      (target.kind === 'k8s-deployment' && isActive(state));
    if (!due && !state?.applying) continue;
    try {
      const outcome = await withTargetLock(d, name, owner, async (locked) => {
        const settled = await reconcile(locked, name, target);
        const step =
          target.kind === 'fc-alias'
            ? await stepCanary(locked, name, target)
            : target.kind === 'k8s-deployment'
              ? await stepKube(locked, name, target)
              : undefined;
        const parts = [settled.kind === 'clean' ? '' : `${settled.kind} an interrupted change`, step ?? ''];
        return parts.filter(Boolean).join('; ');
      });
      if (isBusy(outcome)) done[name] = `skipped: ${outcome.holder} holds the target`;
      else if (outcome) done[name] = outcome;
    } catch (error) {
      d.log.error('canary not advanced', { target: name, error: (error as Error).message });
      done[name] = `failed: ${(error as Error).message}`;
    }
  }
  return done;
}
