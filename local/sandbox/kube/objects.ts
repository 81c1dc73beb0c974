// The Kubernetes objects the sandbox's ACK clusters hold, as apps/v1 writes them.

export type Labels = Record<string, string>;

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  generation: number;
  creationTimestamp: string;
  labels?: Labels;
  annotations?: Labels;
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller: boolean;
    blockOwnerDeletion: boolean;
  }[];
}

export interface PodTemplate {
  metadata?: { labels?: Labels; annotations?: Labels; [k: string]: unknown };
  spec: { containers: { name: string; image: string; [k: string]: unknown }[]; [k: string]: unknown };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

export interface Deployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    selector: { matchLabels: Labels };
    template: PodTemplate;
    strategy: {
      type: 'RollingUpdate';
      rollingUpdate: { maxSurge: string | number; maxUnavailable: string | number };
    };
    progressDeadlineSeconds: number;
    revisionHistoryLimit: number;
    paused?: boolean;
    [k: string]: unknown;
  };
  status: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: Condition[];
  };
}

export interface ReplicaSet {
  apiVersion: 'apps/v1';
  kind: 'ReplicaSet';
  metadata: ObjectMeta;
  spec: { replicas: number; selector: { matchLabels: Labels }; template: PodTemplate };
  status: {
    replicas: number;
    fullyLabeledReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration: number;
  };
}

/** How pods of an image misbehave, set on demand: never ready, or crashing some time after ready. */
export type ImageFault = { kind: 'never-ready' } | { kind: 'crash-after-ready'; afterSeconds: number };

/** A rollout the sandbox's deployment controller is carrying out, on sandbox time. */
export interface Rollout {
  /** The ReplicaSet being scaled up, and the one being scaled down (none for a first rollout). */
  to: string;
  from: string | null;
  /** When the controller saw the change (generation observed) and the pods started coming. */
  startedAt: number;
  pausedAt?: number;
  fault?: ImageFault;
}

export interface KubeCluster {
  /** Seconds a batch of pods takes to become available. */
  podReadySeconds: number;
  namespaces: string[];
  /** `<namespace>/<name>` → object. */
  deployments: Record<string, Deployment>;
  replicaSets: Record<string, ReplicaSet>;
  rollouts: Record<string, Rollout>;
  /** Bearer token → user. */
  tokens: Record<string, string>;
  /** User → namespaces it may read and change (`*` for all); a user with no entry may do nothing. */
  grants: Record<string, string[]>;
}

/** What every sandbox cluster shares: its certificate authority and the client certificates it issued. */
export interface KubeState {
  pki?: { ca: { cert: string; key: string }; server: { cert: string; key: string } };
  /** Serial (hex) → who it names and when (sandbox ms) it stops being accepted. */
  certs: Record<string, { user: string; clusterId: string; expiresAt: number }>;
  resourceVersion: number;
  imageFaults: Record<string, ImageFault>;
}

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const HASH_LABEL = 'pod-template-hash';

/** Annotations the deployment controller does not copy from a Deployment to its ReplicaSets. */
export const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

export const key = (namespace: string, name: string) => `${namespace}/${name}`;
export const revisionOf = (o: { metadata: ObjectMeta }) => Number(o.metadata.annotations?.[REVISION] ?? 0);
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
