import { readFileSync } from 'node:fs';
import { SANDBOX_CREDENTIALS } from './keys.ts';
import { type KubeSeed, seedKube } from './kube/seed.ts';
import { instanceIdOf } from './products/ess.ts';
import { copyBackup } from './products/rds-cross.ts';
import { emptyState, type SandboxState } from './state.ts';

/**
 * A seed describes the starting cloud. `backupHistory` expands into daily backups ending now, so a
 * seed stays realistic whatever day it is loaded.
 */
export interface Seed {
  rds?: {
    instances: {
      id: string;
      engine?: string;
      engineVersion?: string;
      category?: string;
      instanceClass?: string;
      tags?: Record<string, string>;
      /** A real server (host:port) that answers for this instance and its clones. */
      endpoint?: string;
      backupHistory?: { days: number; failedEvery?: number; manualEvery?: number };
      /**
       * Cross-region backup on since the history began: each successful backup of the history
       * younger than `retentionDays` has its copy in `region`.
       */
      crossBackup?: { region: string; retentionDays?: number; stoppedDaysAgo?: number };
    }[];
  };
  ecs?: {
    images?: { id: string; name: string; family?: string; ageDays?: number; tags?: Record<string, string> }[];
    instances?: { id: string; imageId: string }[];
    launchTemplates?: { id: string; imageIds: string[] }[];
  };
  ess?: {
    groups: {
      id: string;
      name: string;
      min: number;
      max: number;
      desired: number;
      configurationId: string;
      imageId: string;
      rules?: { ari: string; adjustment: number }[];
      /** How many of its first instances are protected from scale-in. */
      protectedCount?: number;
    }[];
  };
  cs?: {
    clusters: {
      id: string;
      nodepools: {
        id: string;
        name: string;
        desired: number;
        autoScaling?: boolean;
        min?: number;
        max?: number;
      }[];
      kubernetes?: KubeSeed;
    }[];
  };
  fc?: { functions: { name: string; versions: number; aliases?: Record<string, string> }[] };
  /** RDS, ECS and ESS of other regions than the sandbox's own. */
  regions?: Record<string, Pick<Seed, 'rds' | 'ecs' | 'ess'>>;
  /** Buckets in other regions than the sandbox's own (bucket → region); any other bucket is in its own. */
  ossBuckets?: Record<string, string>;
}

export function loadSeedFile(path: string): Seed {
  return JSON.parse(readFileSync(path, 'utf8')) as Seed;
}

const DAY = 86_400_000;

export function applySeed(seed: Seed, now: number, region = 'cn-hangzhou'): SandboxState {
  const state = emptyState();
  for (const i of seed.rds?.instances ?? []) {
    state.rds.instances[i.id] = {
      id: i.id,
      engine: i.engine ?? 'MySQL',
      engineVersion: i.engineVersion ?? '8.0',
      category: i.category ?? 'HighAvailability',
      instanceClass: i.instanceClass ?? 'mysql.n2.medium.2c',
      storageGB: 100,
      createdAt: now - 800 * DAY,
      readyAt: now - 800 * DAY,
      tags: i.tags ?? {},
      ...(i.endpoint ? { endpoint: i.endpoint } : {}),
      ...(i.crossBackup
        ? {
            cross: {
              region: i.crossBackup.region,
              retentionDays: i.crossBackup.retentionDays ?? 7,
              logBackup: false,
              enabledAt: now - 800 * DAY,
            },
          }
        : {}),
    };
    const db = state.rds.instances[i.id]!;
    const history = i.backupHistory;
    for (let d = history?.days ?? 0; d >= 1; d--) {
      const start = now - d * DAY;
      const id = `${i.id.replace(/\W/g, '').slice(-6)}${String(d).padStart(5, '0')}`;
      const failed = history?.failedEvery ? d % history.failedEvery === 0 : false;
      const manual = history?.manualEvery ? d % history.manualEvery === 0 : false;
      state.rds.backups[id] = {
        id,
        instanceId: i.id,
        status: failed ? 'Failed' : 'Success',
        start,
        end: start + 20 * 60_000,
        method: 'Physical',
        mode: manual ? 'Manual' : 'Automated',
        size: 5 * 1024 ** 3 + d * 1024 ** 2,
        storeStatus: manual ? 'Enabled' : 'Disabled',
      };
      const cross = db.cross;
      // `stoppedDaysAgo`: copying broke then, and newer backups have no copy (a region falling behind).
      const stopped = i.crossBackup?.stoppedDaysAgo ?? 0;
      if (cross && start >= now - cross.retentionDays * DAY && d > stopped)
        copyBackup(state, region, db, state.rds.backups[id]!, start + 40 * 60_000);
    }
  }
  for (const img of seed.ecs?.images ?? []) {
    const created = now - (img.ageDays ?? 1) * DAY;
    state.ecs.images[img.id] = {
      id: img.id,
      name: img.name,
      family: img.family ?? '',
      createdAt: created,
      readyAt: created,
      tags: img.tags ?? {},
      snapshotId: `s-${img.id.slice(2)}`,
    };
  }
  for (const inst of seed.ecs?.instances ?? []) {
    state.ecs.instances[inst.id] = {
      id: inst.id,
      imageId: inst.imageId,
      instanceType: 'ecs.g7.large',
      createdAt: now - DAY,
      readyAt: now - DAY,
      autoReleaseTime: null,
      tags: {},
    };
  }
  for (const lt of seed.ecs?.launchTemplates ?? []) {
    state.ecs.launchTemplates[lt.id] = {
      id: lt.id,
      versions: lt.imageIds.map((imageId, n) => ({
        VersionNumber: n + 1,
        DefaultVersion: n === lt.imageIds.length - 1,
        ImageId: imageId,
      })),
    };
  }
  for (const g of seed.ess?.groups ?? []) {
    state.ess.groups[g.id] = {
      id: g.id,
      name: g.name,
      min: g.min,
      max: g.max,
      desired: g.desired,
      capacity: g.desired,
      configurationId: g.configurationId,
      createdAt: now - 90 * 86_400_000,
      protected: Array.from({ length: g.protectedCount ?? 0 }, (_, i) => instanceIdOf(g.id, i + 1)),
    };
    state.ess.configurations[g.configurationId] = {
      id: g.configurationId,
      groupId: g.id,
      imageId: g.imageId,
      instanceType: 'ecs.g7.large',
    };
    for (const r of g.rules ?? [])
      state.ess.rules[r.ari] = { ari: r.ari, groupId: g.id, adjustment: r.adjustment };
  }
  for (const c of seed.cs?.clusters ?? []) {
    state.cs.clusters[c.id] = {
      id: c.id,
      ...(c.kubernetes
        ? { kubernetes: seedKube(c.kubernetes, state.kube, SANDBOX_CREDENTIALS.accessKeyId, now) }
        : {}),
      nodepools: Object.fromEntries(
        c.nodepools.map((p) => [
          p.id,
          {
            id: p.id,
            name: p.name,
            desired: p.desired,
            nodes: p.desired,
            autoScaling: p.autoScaling ?? false,
            min: p.min ?? 0,
            max: p.max ?? 10,
          },
        ]),
      ),
    };
  }
  for (const f of seed.fc?.functions ?? []) {
    const versions = Array.from({ length: f.versions }, (_, n) => ({
      versionId: String(n + 1),
      description: `seed version ${n + 1}`,
      createdTime: new Date(now - (f.versions - n) * DAY).toISOString(),
    }));
    const aliases = Object.fromEntries(
      Object.entries(f.aliases ?? {}).map(([name, versionId]) => [
        name,
        {
          aliasName: name,
          versionId,
          description: '',
          additionalVersionWeight: {},
          createdTime: new Date(now - DAY).toISOString(),
          lastModifiedTime: new Date(now - DAY).toISOString(),
        },
      ]),
    );
    state.fc.functions[f.name] = { name: f.name, versions, aliases };
  }
  if (seed.ossBuckets) state.ossBuckets = { ...seed.ossBuckets };
  for (const [name, regional] of Object.entries(seed.regions ?? {})) {
    const other = applySeed(regional, now, name);
    const { rds, ecs, ess } = other;
    state.regions = { ...state.regions, [name]: { rds, ecs, ess } };
    // Copies are kept together, each naming its region; ids stay apart by the shared counter.
    for (const c of Object.values(other.rdsCross ?? {})) {
      state.seq += 1;
      state.rdsCross ??= {};
      state.rdsCross[String(state.seq)] = { ...c, id: String(state.seq) };
    }
  }
  return state;
}
