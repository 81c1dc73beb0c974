// The sandbox's deployment controller: what Kubernetes does when a Deployment's pod template
// changes (a ReplicaSet per template, revisions, history limit) and where its rollout stands at a
// given sandbox time. Pure functions of the stored objects and the time.

import { randomUUID } from 'node:crypto';
import { canonicalJson as canonical } from '../../../shared/util/compare.ts';
import {
  type Condition,
  DESIRED_REPLICAS,
  type Deployment,
  HASH_LABEL,
  type ImageFault,
  iso,
  type KubeCluster,
  type KubeState,
  key,
  MAX_REPLICAS,
  NOT_COPIED,
  type PodTemplate,
  REVISION,
  REVISION_HISTORY,
  type ReplicaSet,
  type Rollout,
  revisionOf,
} from './objects.ts';

/** How long the controller takes to notice a change (observedGeneration lags the generation). */
export const OBSERVE_MS = 1000;

function withoutHash(t: PodTemplate): PodTemplate {
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels[HASH_LABEL];
  return { ...t, metadata: { ...(t.metadata ?? {}), labels } };
}

/**
 * The defaults the API server fills into a pod template when it stores one, so a template reads
 * back as it would from a real cluster whatever client wrote it (kubectl's typed patches carry
 * `resources: {}`, a JSON client's do not).
 */
export function withDefaults(t: PodTemplate): PodTemplate {
  const spec = t.spec;
  return {
    ...t,
    metadata: { creationTimestamp: null, ...(t.metadata ?? {}) },
    spec: {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      schedulerName: 'default-scheduler',
      ...spec,
      containers: spec.containers.map((c) => ({
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        // Always for :latest or no tag at all, as the API server defaults it.
        imagePullPolicy:
          c.image.split('/').pop()!.includes(':') && !c.image.endsWith(':latest') ? 'IfNotPresent' : 'Always',
        ...c,
      })),
    },
  };
}

/** Kubernetes' `EqualIgnoreHash`: the same pod template but for the pod-template-hash label. */
export const equalIgnoreHash = (a: PodTemplate, b: PodTemplate) =>
  canonical(withoutHash(a)) === canonical(withoutHash(b));

/** The template hash as Kubernetes spells it: an FNV-1a 32-bit hash in its "safe" alphabet. */
export function templateHash(t: PodTemplate): string {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(canonical(withoutHash(t)))) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...String(h)].map((d) => alphabet[d.charCodeAt(0) % alphabet.length]).join('');
}

/** maxSurge / maxUnavailable of `replicas`: a count, or a percentage (surge rounds up, unavailable down). */
function amount(value: string | number, replicas: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const share = (replicas * Number.parseInt(value, 10)) / 100;
  return roundUp ? Math.ceil(share) : Math.floor(share);
}

function budget(d: Deployment) {
  const r = d.spec.replicas;
  let surge = amount(d.spec.strategy.rollingUpdate.maxSurge, r, true);
  const unavailable = amount(d.spec.strategy.rollingUpdate.maxUnavailable, r, false);
  if (surge === 0 && unavailable === 0) surge = 1;
  return { surge, unavailable };
}

export const ownedSets = (c: KubeCluster, d: Deployment) =>
  Object.values(c.replicaSets)
    .filter(
      (rs) =>
        rs.metadata.namespace === d.metadata.namespace &&
        rs.metadata.ownerReferences?.some((o) => o.controller && o.uid === d.metadata.uid),
    )
    .sort((a, b) => revisionOf(a) - revisionOf(b));

export function touch(kube: KubeState, o: { metadata: { resourceVersion: string } }): void {
  kube.resourceVersion += 1;
  o.metadata.resourceVersion = String(kube.resourceVersion);
}

function faultOf(kube: KubeState, t: PodTemplate): ImageFault | undefined {
  for (const c of t.spec.containers) if (kube.imageFaults[c.image]) return kube.imageFaults[c.image];
  return undefined;
}

/** A new ReplicaSet for the Deployment's current template. */
function newReplicaSet(d: Deployment, now: number): ReplicaSet {
  const hash = templateHash(d.spec.template);
  const labels = { ...(d.spec.template.metadata?.labels ?? {}), [HASH_LABEL]: hash };
  const template = structuredClone(d.spec.template);
  template.metadata = { ...(template.metadata ?? {}), labels };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      uid: randomUUID(),
      resourceVersion: '0',
      generation: 1,
      creationTimestamp: iso(now),
      labels,
      annotations: {},
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: d.metadata.name,
          uid: d.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { ...d.spec.selector.matchLabels, [HASH_LABEL]: hash } },
      template,
    },
    status: { replicas: 0, observedGeneration: 1 },
  };
}

/**
 * The controller's answer to a new pod template: reuse the ReplicaSet that has it (an undo; its
 * old revision moves to `revision-history`) or make one, give it the next revision, copy the
 * Deployment's annotations onto it, start a rollout from the ReplicaSet serving now, and drop old
 * empty ReplicaSets beyond `revisionHistoryLimit`.
 */
export function rollOut(c: KubeCluster, kube: KubeState, d: Deployment, now: number): void {
  const k = key(d.metadata.namespace, d.metadata.name);
  const owned = ownedSets(c, d);
  const serving = c.rollouts[k]?.to ?? owned.at(-1)?.metadata.name ?? null;
  const maxRevision = Math.max(0, ...owned.map(revisionOf));
  let rs = owned.find((s) => equalIgnoreHash(s.spec.template, d.spec.template));
  if (rs && rs.metadata.name === serving) return;
  const annotations: Record<string, string> = {};
  if (rs) {
    const history = rs.metadata.annotations?.[REVISION_HISTORY];
    annotations[REVISION_HISTORY] = [history, String(revisionOf(rs))].filter(Boolean).join(',');
  } else {
    rs = newReplicaSet(d, now);
    c.replicaSets[key(rs.metadata.namespace, rs.metadata.name)] = rs;
  }
  const { surge } = budget(d);
  for (const [name, value] of Object.entries(d.metadata.annotations ?? {}))
    if (!NOT_COPIED.has(name)) annotations[name] = value;
  rs.metadata.annotations = {
    ...Object.fromEntries(Object.entries(rs.metadata.annotations ?? {}).filter(([n]) => NOT_COPIED.has(n))),
    ...annotations,
    [REVISION]: String(maxRevision + 1),
    [DESIRED_REPLICAS]: String(d.spec.replicas),
    [MAX_REPLICAS]: String(d.spec.replicas + surge),
  };
  touch(kube, rs);
  d.metadata.annotations = { ...(d.metadata.annotations ?? {}), [REVISION]: String(maxRevision + 1) };
  const fault = faultOf(kube, d.spec.template);
  c.rollouts[k] = {
    to: rs.metadata.name,
    from: serving,
    startedAt: now + OBSERVE_MS,
    ...(d.spec.paused ? { pausedAt: now + OBSERVE_MS } : {}),
    ...(fault ? { fault } : {}),
  };
  const keep = new Set([rs.metadata.name, serving]);
  const old = owned.filter((s) => !keep.has(s.metadata.name));
  for (const s of old.slice(0, Math.max(0, old.length - d.spec.revisionHistoryLimit)))
    delete c.replicaSets[key(s.metadata.namespace, s.metadata.name)];
}

/** Pausing stops the rollout's clock; resuming moves it on by the time spent paused. */
export function setPaused(r: Rollout | undefined, paused: boolean, now: number): void {
  if (!r) return;
  if (paused && r.pausedAt === undefined) r.pausedAt = Math.max(now, r.startedAt);
  if (!paused && r.pausedAt !== undefined) {
    r.startedAt += Math.max(0, now - r.pausedAt);
    delete r.pausedAt;
  }
}

export interface Pods {
  /** Pods of the new template, and how many of them are available. */
  updated: number;
  availableNew: number;
  /** Pods of the old template still running (all available). */
  old: number;
  crashing: boolean;
  done: boolean;
  deadlineExceeded: boolean;
  lastProgressAt: number;
}

/**
 * Where a rolling update stands at `now`: batches of maxSurge+maxUnavailable new pods become
 * available every `podReadySeconds`, old pods going as new ones come. An image that never becomes
 * ready stays at its first batch until the progress deadline passes; one that crashes after
 * becoming ready loses its pods `afterSeconds` after the rollout completed.
 */
export function podsAt(d: Deployment, r: Rollout, podReadySeconds: number, now: number): Pods {
  const replicas = d.spec.replicas;
  const { surge, unavailable } = budget(d);
  const batch = Math.max(1, surge + unavailable);
  const at = Math.max(r.startedAt, Math.min(now, r.pausedAt ?? now));
  const deadlineMs = d.spec.progressDeadlineSeconds * 1000;
  const stepMs = podReadySeconds * 1000;
  if (r.fault?.kind === 'never-ready') {
    return {
      updated: Math.min(replicas, batch),
      availableNew: 0,
      old: Math.max(0, replicas - unavailable),
      crashing: false,
      done: replicas === 0,
      deadlineExceeded: replicas > 0 && at - r.startedAt >= deadlineMs,
      lastProgressAt: r.startedAt,
    };
  }
  const steps = Math.ceil(replicas / batch);
  const k = Math.min(steps, Math.floor((at - r.startedAt) / stepMs));
  const done = k >= steps;
  const availableNew = Math.min(replicas, k * batch);
  const lastProgressAt = r.startedAt + k * stepMs;
  const crashing =
    done && r.fault?.kind === 'crash-after-ready' && at >= lastProgressAt + r.fault.afterSeconds * 1000;
  return {
    updated: Math.min(replicas, (k + 1) * batch),
    availableNew: crashing ? 0 : availableNew,
    old: done ? 0 : Math.max(0, replicas - availableNew - unavailable),
    crashing,
    done,
    deadlineExceeded: !done && at - lastProgressAt >= deadlineMs,
    lastProgressAt,
  };
}

function condition(
  previous: Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime' | 'lastUpdateTime'>,
  at: string,
  updated: string,
): Condition {
  const before = previous?.find((c) => c.type === next.type);
  const same = before?.status === next.status;
  return {
    ...next,
    lastUpdateTime: same && before.reason === next.reason ? before.lastUpdateTime : updated,
    lastTransitionTime: same ? before.lastTransitionTime : at,
  };
}

/**
 * Bring a Deployment's status and its ReplicaSets' replica counts to `now`. Objects that changed
 * get a new resourceVersion (what a watch reports). Before the controller observed a change, the
 * status stays as it was.
 */
export function materialize(c: KubeCluster, kube: KubeState, d: Deployment, now: number): void {
  const r = c.rollouts[key(d.metadata.namespace, d.metadata.name)];
  if (!r || now < r.startedAt) return;
  const pods = podsAt(d, r, c.podReadySeconds, now);
  const replicas = d.spec.replicas;
  const { unavailable } = budget(d);
  for (const rs of ownedSets(c, d)) {
    const name = rs.metadata.name;
    const count = name === r.to ? pods.updated : name === r.from ? pods.old : 0;
    const available = name === r.to ? pods.availableNew : name === r.from ? pods.old : 0;
    const next: ReplicaSet['status'] = {
      replicas: count,
      ...(count ? { fullyLabeledReplicas: count } : {}),
      ...(available ? { readyReplicas: available, availableReplicas: available } : {}),
      observedGeneration: rs.metadata.generation,
    };
    if (rs.spec.replicas !== count || canonical(rs.status) !== canonical(next)) {
      if (rs.spec.replicas !== count) rs.metadata.generation += 1;
      rs.spec.replicas = count;
      rs.status = { ...next, observedGeneration: rs.metadata.generation };
      touch(kube, rs);
    }
  }
  const available = pods.availableNew + pods.old;
  const total = pods.updated + pods.old;
  const at = iso(now);
  const progressAt = iso(pods.lastProgressAt);
  const progressing = d.spec.paused
    ? { status: 'Unknown' as const, reason: 'DeploymentPaused', message: 'Deployment is paused' }
    : pods.deadlineExceeded
      ? {
          status: 'False' as const,
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${r.to}" has timed out progressing.`,
        }
      : pods.done
        ? {
            status: 'True' as const,
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${r.to}" has successfully progressed.`,
          }
        : {
            status: 'True' as const,
            reason: 'ReplicaSetUpdated',
            message: `ReplicaSet "${r.to}" is progressing.`,
          };
  const minimum = available >= replicas - unavailable;
  const status: Deployment['status'] = {
    observedGeneration: d.metadata.generation,
    ...(total ? { replicas: total } : {}),
    ...(pods.updated ? { updatedReplicas: pods.updated } : {}),
    ...(available ? { readyReplicas: available, availableReplicas: available } : {}),
    ...(total - available > 0 ? { unavailableReplicas: total - available } : {}),
    conditions: [
      condition(
        d.status.conditions,
        minimum
          ? {
              type: 'Available',
              status: 'True',
              reason: 'MinimumReplicasAvailable',
              message: 'Deployment has minimum availability.',
            }
          : {
              type: 'Available',
              status: 'False',
              reason: 'MinimumReplicasUnavailable',
              message: 'Deployment does not have minimum availability.',
            },
        at,
        at,
      ),
      condition(d.status.conditions, { type: 'Progressing', ...progressing }, at, progressAt),
    ],
  };
  if (canonical(status) !== canonical(d.status)) {
    d.status = status;
    touch(kube, d);
  }
}

/** The pods behind the Deployment's Service: how many answer, and whether the new ones crash. */
export function serving(c: KubeCluster, d: Deployment, now: number) {
  const r = c.rollouts[key(d.metadata.namespace, d.metadata.name)];
  if (!r || now < r.startedAt) return { available: d.status.availableReplicas ?? 0, crashing: false };
  const pods = podsAt(d, r, c.podReadySeconds, now);
  return { available: pods.availableNew + pods.old, crashing: pods.crashing };
}
