// The parts of apps/v1 objects a release reads. The API server omits zero counts, so every count is optional.

export type Labels = Record<string, string>;

export interface PodTemplate {
  metadata?: { labels?: Labels; annotations?: Labels; [k: string]: unknown };
  spec: { containers: { name: string; image: string; [k: string]: unknown }[]; [k: string]: unknown };
}

export interface Meta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Labels;
  annotations?: Labels;
  ownerReferences?: { uid: string; controller?: boolean; kind: string; name: string }[];
}

export interface Deployment {
  metadata: Meta;
  spec: {
    replicas?: number;
    selector: { matchLabels?: Labels };
    template: PodTemplate;
    paused?: boolean;
    progressDeadlineSeconds?: number;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface ReplicaSet {
  metadata: Meta;
  spec: { replicas?: number; template: PodTemplate };
}

export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** A kubeconfig fc-devops cannot use: not YAML, no current context, credentials it cannot present. */
export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

/** The API server's answer to a request it refused (status and `reason` of its Status object). */
export class KubeError extends Error {
  override name = 'KubeError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}
