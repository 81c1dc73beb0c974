import { randomUUID } from 'node:crypto';
import { materialize, rollOut, withDefaults } from './controller.ts';
import { type Deployment, iso, type KubeCluster, type KubeState, key } from './objects.ts';

/** A cluster's Kubernetes side in a seed. */
export interface KubeSeed {
  /** Seconds a batch of pods takes to become available (default 5). */
  podReadySeconds?: number;
  namespaces?: string[];
  /** User → namespaces (`*` for all); default: the sandbox's own key may do everything. */
  grants?: Record<string, string[]>;
  /** Bearer token → user, for kubeconfigs that carry a token. */
  tokens?: Record<string, string>;
  deployments?: {
    namespace: string;
    name: string;
    replicas?: number;
    progressDeadlineSeconds?: number;
    revisionHistoryLimit?: number;
    /**
     * Each revision's containers (name → image), oldest first: the Deployment has rolled out each
     * in turn, a day apart, and serves the last.
     */
    revisions: Record<string, string>[];
    /** The change-cause annotation of each revision, when given. */
    causes?: string[];
  }[];
}

export function seedKube(seed: KubeSeed, kube: KubeState, defaultUser: string, now: number): KubeCluster {
  const c: KubeCluster = {
    podReadySeconds: seed.podReadySeconds ?? 5,
    namespaces: [
      ...new Set([
        'default',
        ...(seed.namespaces ?? []),
        ...(seed.deployments ?? []).map((d) => d.namespace),
      ]),
    ],
    deployments: {},
    replicaSets: {},
    rollouts: {},
    tokens: seed.tokens ?? {},
    grants: seed.grants ?? { [defaultUser]: ['*'] },
  };
  for (const s of seed.deployments ?? []) {
    const labels = { app: s.name };
    const at = (i: number) => now - (s.revisions.length - i) * 86_400_000;
    const d: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: s.name,
        namespace: s.namespace,
        uid: randomUUID(),
        resourceVersion: '0',
        generation: 0,
        creationTimestamp: iso(at(0)),
        labels,
        annotations: {},
      },
      spec: {
        replicas: s.replicas ?? 3,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [] } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        progressDeadlineSeconds: s.progressDeadlineSeconds ?? 600,
        revisionHistoryLimit: s.revisionHistoryLimit ?? 10,
      },
      status: {},
    };
    c.deployments[key(s.namespace, s.name)] = d;
    for (const [i, containers] of s.revisions.entries()) {
      d.metadata.generation += 1;
      d.spec.template = withDefaults({
        metadata: { labels },
        spec: { containers: Object.entries(containers).map(([name, image]) => ({ name, image })) },
      });
      const cause = s.causes?.[i];
      if (cause) d.metadata.annotations = { ...d.metadata.annotations, 'kubernetes.io/change-cause': cause };
      else delete d.metadata.annotations?.['kubernetes.io/change-cause'];
      rollOut(c, kube, d, at(i));
    }
    materialize(c, kube, d, now);
  }
  return c;
}
