// Pure decisions about Deployments, as kubectl makes them: rollout status
// (polymorphichelpers/rollout_status.go), revisions, `rollout undo` (rollback.go), `set image`.
import { canonicalJson as canonical } from '../util/compare.ts';
import type { Deployment, JsonPatchOp, Labels, PodTemplate, ReplicaSet } from './types.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
const HASH_LABEL = 'pod-template-hash';

/** Annotations `rollout undo` keeps from the Deployment instead of copying them from the ReplicaSet. */
const KEPT_ON_UNDO = [
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
];

export type RolloutState =
  | { state: 'waiting'; message: string }
  | { state: 'complete'; message: string }
  | { state: 'failed'; message: string };

/** What `kubectl rollout status` concludes from a Deployment, in its words. */
export function rolloutStatus(d: Deployment): RolloutState {
  const name = d.metadata.name;
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0))
    return { state: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return { state: 'failed', message: `deployment "${name}" exceeded its progress deadline` };
  const replicas = d.spec.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  if (updated < replicas)
    return {
      state: 'waiting',
      message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`,
    };
  if ((s.replicas ?? 0) > updated)
    return {
      state: 'waiting',
      message: `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - updated} old replicas are pending termination...`,
    };
  if ((s.availableReplicas ?? 0) < updated)
    return {
      state: 'waiting',
      message: `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...`,
    };
  return { state: 'complete', message: `deployment "${name}" successfully rolled out` };
}

export const revisionOf = (o: { metadata: { annotations?: Labels } }) =>
  Number(o.metadata.annotations?.[REVISION] ?? 0);

export const imagesOf = (t: PodTemplate): Record<string, string> =>
  Object.fromEntries(t.spec.containers.map((c) => [c.name, c.image]));

/** The Deployment's ReplicaSets (those it controls), oldest revision first. */
export function ownedBy(d: Deployment, sets: ReplicaSet[]): ReplicaSet[] {
  return sets
    .filter((rs) => rs.metadata.ownerReferences?.some((o) => o.controller && o.uid === d.metadata.uid))
    .sort((a, b) => revisionOf(a) - revisionOf(b));
}

export interface Revision {
  revision: number;
  images: Record<string, string>;
  changeCause: string | null;
  replicaSet: string;
  current: boolean;
}

/** The revisions `kubectl rollout history` lists, with their images. */
export function revisions(d: Deployment, sets: ReplicaSet[]): Revision[] {
  const current = revisionOf(d);
  return ownedBy(d, sets).map((rs) => ({
    revision: revisionOf(rs),
    images: imagesOf(rs.spec.template),
    changeCause: rs.metadata.annotations?.[CHANGE_CAUSE] ?? null,
    replicaSet: rs.metadata.name,
    current: revisionOf(rs) === current,
  }));
}

function withoutHash(t: PodTemplate): PodTemplate {
  const copy = structuredClone(t);
  if (copy.metadata?.labels) delete copy.metadata.labels[HASH_LABEL];
  return copy;
}

export const sameTemplate = (a: PodTemplate, b: PodTemplate) =>
  canonical(withoutHash(a)) === canonical(withoutHash(b));

export type Undo =
  | {
      kind: 'patch';
      revision: number;
      images: Record<string, string>;
      template: PodTemplate;
      patch: JsonPatchOp[];
    }
  | { kind: 'none'; message: string };

/**
 * `kubectl rollout undo [--to-revision N]`: the pod template of the ReplicaSet with revision N (0:
 * the one before the current), without its pod-template-hash label, and the Deployment's
 * annotations with the ReplicaSet's copied over, as one JSON Patch. Unlike kubectl, a paused
 * Deployment is resumed in the same patch: a rollback that does not roll would help no one.
 */
export function undo(d: Deployment, sets: ReplicaSet[], toRevision = 0): Undo {
  const owned = ownedBy(d, sets);
  const current = revisionOf(d);
  const rs =
    toRevision === 0
      ? owned.filter((s) => revisionOf(s) !== current).at(-1)
      : owned.find((s) => revisionOf(s) === toRevision);
  if (!rs)
    return {
      kind: 'none',
      message:
        toRevision === 0
          ? 'no rollout history found'
          : `unable to find specified revision ${toRevision} in history`,
    };
  const revision = revisionOf(rs);
  if (sameTemplate(rs.spec.template, d.spec.template))
    return {
      kind: 'none',
      message: `skipped rollback (current template already matches revision ${revision})`,
    };
  const template = withoutHash(rs.spec.template);
  const annotations: Labels = {};
  for (const k of KEPT_ON_UNDO) {
    const v = d.metadata.annotations?.[k];
    if (v !== undefined) annotations[k] = v;
  }
  for (const [k, v] of Object.entries(rs.metadata.annotations ?? {}))
    if (!KEPT_ON_UNDO.includes(k)) annotations[k] = v;
  return {
    kind: 'patch',
    revision,
    images: imagesOf(template),
    template,
    patch: [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'add', path: '/metadata/annotations', value: annotations },
      ...(d.spec.paused ? [{ op: 'replace' as const, path: '/spec/paused', value: false }] : []),
    ],
  };
}

export type SetImage =
  | { kind: 'patch'; patch: JsonPatchOp[]; from: string }
  | { kind: 'no-container'; containers: string[] }
  | { kind: 'unchanged' };

/**
 * `kubectl set image` for one container, as a JSON Patch: the `test` keeps a reordered container
 * list from getting the image on the wrong container; the change cause names who and why (what
 * `rollout history` shows). A paused Deployment is resumed, or the new image would never roll.
 */
export function setImage(d: Deployment, container: string, image: string, cause: string): SetImage {
  const containers = d.spec.template.spec.containers;
  const i = containers.findIndex((c) => c.name === container);
  if (i < 0) return { kind: 'no-container', containers: containers.map((c) => c.name) };
  if (containers[i]!.image === image && !d.spec.paused) return { kind: 'unchanged' };
  const at = `/spec/template/spec/containers/${i}`;
  return {
    kind: 'patch',
    from: containers[i]!.image,
    patch: [
      { op: 'test', path: `${at}/name`, value: container },
      { op: 'replace', path: `${at}/image`, value: image },
      d.metadata.annotations
        ? { op: 'add', path: `/metadata/annotations/${CHANGE_CAUSE.replace('/', '~1')}`, value: cause }
        : { op: 'add', path: '/metadata/annotations', value: { [CHANGE_CAUSE]: cause } },
      ...(d.spec.paused ? [{ op: 'replace' as const, path: '/spec/paused', value: false }] : []),
    ],
  };
}

/** `spec.paused: true`, as `kubectl rollout pause` sets it. */
export const pausePatch = (d: Deployment): JsonPatchOp[] => [
  { op: d.spec.paused === undefined ? 'add' : 'replace', path: '/spec/paused', value: true },
];

const REF =
  /^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** An image reference a container can run: `[registry/]repo[:tag][@sha256:digest]`, 255 characters at most. */
export const isImageRef = (s: string) => s.length <= 255 && REF.test(s);

/** The repository of a reference: without its tag and digest. */
export function repositoryOf(ref: string): string {
  const noDigest = ref.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}
