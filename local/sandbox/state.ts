import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KubeCluster, KubeState } from './kube/objects.ts';

export interface RdsInstanceState {
  id: string;
  engine: string;
  engineVersion: string;
  category: string;
  instanceClass: string;
  storageGB: number;
  createdAt: number;
  /** A clone is Creating until then. */
  readyAt: number;
  tags: Record<string, string>;
  clonedFrom?: { instanceId: string; backupId: string };
  /** host:port the instance answers on; a clone answers where its source does (the sandbox has no databases of its own). */
  endpoint?: string;
  /** Cross-region backup (ModifyInstanceCrossBackupPolicy): each backup that finishes is copied to `region`. */
  cross?: { region: string; retentionDays: number; logBackup: boolean; enabledAt: number };
}

/** A backup set copied to another region by cross-region backup: it lives (and is restored) there. */
export interface RdsCrossCopyState {
  /** CrossBackupId: numeric, as the service gives it. */
  id: string;
  /** The destination region, where the copy is. */
  region: string;
  sourceRegion: string;
  instanceId: string;
  backupId: string;
  /** The source backup's start and end: a copy is the same backup set. */
  start: number;
  end: number;
  /** The copy is listed once it has arrived (copies take time). */
  readyAt: number;
  method: string;
  size: number;
  engine: string;
  engineVersion: string;
  category: string;
  instanceClass: string;
  storageGB: number;
  endpoint?: string;
}

export interface RdsBackupState {
  id: string;
  instanceId: string;
  status: 'Success' | 'Failed';
  start: number;
  end: number;
  method: string;
  mode: 'Automated' | 'Manual';
  size: number;
  storeStatus: 'Enabled' | 'Disabled';
}

export interface RdsTaskState {
  jobId: string;
  instanceId: string;
  createdAt: number;
  durationMs: number;
  method: string;
  fails: boolean;
  backupId: string;
  /** Its backup set was written (and may since have been deleted). */
  settled?: boolean;
}

export interface SandboxState {
  version: 1;
  seq: number;
  rds: {
    instances: Record<string, RdsInstanceState>;
    backups: Record<string, RdsBackupState>;
    tasks: Record<string, RdsTaskState>;
  };
  ecs: {
    images: Record<
      string,
      {
        id: string;
        name: string;
        family: string;
        createdAt: number;
        readyAt: number;
        tags: Record<string, string>;
        snapshotId: string;
        /** A copy made by CopyImage: the image it was copied from, in its region. */
        copiedFrom?: { region: string; imageId: string };
      }
    >;
    instances: Record<
      string,
      {
        id: string;
        imageId: string;
        instanceType: string;
        createdAt: number;
        readyAt: number;
        autoReleaseTime: string | null;
        tags: Record<string, string>;
      }
    >;
    invocations: Record<
      string,
      {
        invokeId: string;
        commandId: string;
        instanceIds: string[];
        script: string;
        createdAt: number;
        durationMs: number;
      }
    >;
    launchTemplates: Record<
      string,
      {
        id: string;
        versions: {
          VersionNumber: number;
          DefaultVersion: boolean;
          ImageId: string;
          data?: Record<string, string>;
        }[];
      }
    >;
    /** Snapshots no image uses any more (an image's own snapshot is `images[id].snapshotId`). */
    snapshots: string[];
  };
  ess: {
    groups: Record<
      string,
      {
        id: string;
        name: string;
        min: number;
        max: number;
        desired: number;
        capacity: number;
        configurationId: string;
        /** When the group was made (sandbox ms); state files from before it was kept lack it. */
        createdAt?: number;
        /** Instances kept out of every scale-in (SetInstancesProtection). */
        protected?: string[];
      }
    >;
    configurations: Record<string, { id: string; groupId: string; imageId: string; instanceType: string }>;
    activities: Record<
      string,
      {
        id: string;
        groupId: string;
        createdAt: number;
        durationMs: number;
        from: number;
        to: number;
        cause: string;
      }
    >;
    rules: Record<string, { ari: string; groupId: string; adjustment: number }>;
  };
  cs: {
    clusters: Record<
      string,
      {
        id: string;
        /** The cluster's Kubernetes API (apps/v1), when the seed gave it one. */
        kubernetes?: KubeCluster;
        nodepools: Record<
          string,
          {
            id: string;
            name: string;
            desired: number;
            nodes: number;
            autoScaling: boolean;
            min: number;
            max: number;
          }
        >;
      }
    >;
    tasks: Record<
      string,
      { id: string; clusterId: string; nodePoolId: string; createdAt: number; durationMs: number; to: number }
    >;
  };
  fc: {
    functions: Record<
      string,
      {
        name: string;
        versions: { versionId: string; description: string; createdTime: string }[];
        aliases: Record<
          string,
          {
            aliasName: string;
            versionId: string;
            description: string;
            additionalVersionWeight: Record<string, number>;
            createdTime: string;
            lastModifiedTime: string;
          }
        >;
      }
    >;
  };
  /** The sandbox clusters' certificate authority, issued client certificates, image faults. */
  kube: KubeState;
  /** ClientToken → the first answer, per action: a retried mutating call is done once. */
  clientTokens: Record<string, unknown>;
  /** Buckets in other regions than the sandbox's own: bucket → region. */
  ossBuckets?: Record<string, string>;
  /** Cross-region RDS backup copies, every region's (each names its region); absent in older state files. */
  rdsCross?: Record<string, RdsCrossCopyState>;
  /**
   * RDS, ECS and ESS in regions other than the sandbox's own (whose are the fields above): each
   * region has its own instances, backups, images and scaling groups, as on the cloud.
   */
  regions?: Record<string, RegionalState>;
}

/** What a region has of its own. */
export type RegionalState = Pick<SandboxState, 'rds' | 'ecs' | 'ess'>;

export const emptyRegion = (): RegionalState => {
  const { rds, ecs, ess } = emptyState();
  return { rds, ecs, ess };
};

/**
 * The state as an action in `region` sees it: that region's RDS, ECS and ESS, and everything else
 * (ids, client tokens, ACK, FC) shared. Writes to the region's resources land in `state.regions`.
 */
export function regionalView(state: SandboxState, region: string): SandboxState {
  state.regions ??= {};
  const regional = state.regions[region] ?? emptyRegion();
  state.regions[region] = regional;
  const view = Object.create(state) as SandboxState;
  // Ids stay unique across regions: the one counter is the shared state's.
  Object.defineProperty(view, 'seq', {
    get: () => state.seq,
    set: (v: number) => {
      state.seq = v;
    },
  });
  view.rds = regional.rds;
  view.ecs = regional.ecs;
  view.ess = regional.ess;
  return view;
}

const emptyKube = (): KubeState => ({ certs: {}, resourceVersion: 1, imageFaults: {} });

export function emptyState(): SandboxState {
  return {
    version: 1,
    seq: 1000,
    rds: { instances: {}, backups: {}, tasks: {} },
    ecs: { images: {}, instances: {}, invocations: {}, launchTemplates: {}, snapshots: [] },
    ess: { groups: {}, configurations: {}, activities: {}, rules: {} },
    cs: { clusters: {}, tasks: {} },
    fc: { functions: {} },
    kube: emptyKube(),
    clientTokens: {},
  };
}

/** Sandbox state kept in one JSON file, written after each change (atomically, by rename). */
export class StateFile {
  constructor(readonly path: string | undefined) {}

  load(): SandboxState | undefined {
    if (!this.path || !existsSync(this.path)) return undefined;
    const state = JSON.parse(readFileSync(this.path, 'utf8')) as SandboxState;
    // State files written before snapshots were tracked.
    state.ecs.snapshots ??= [];
    state.kube ??= emptyKube();
    return state;
  }

  save(state: SandboxState): void {
    if (!this.path) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.path);
  }
}

/** Resource ids in each product's shape. */
export function nextId(state: SandboxState, prefix: string): string {
  state.seq += 1;
  return `${prefix}${state.seq.toString(36).padStart(8, '0')}`;
}
