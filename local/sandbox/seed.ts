import { readFileSync } from 'node:fs';
import { SANDBOX_CREDENTIALS } from './keys.ts';
import { type KubeSeed, seedKube } from './kube/seed.ts';
import { instanceIdOf } from './products/ess.ts';
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
}

export function loadSeedFile(path: string): Seed {
  return JSON.parse(readFileSync(path, 'utf8')) as Seed;
}

const DAY = 86_400_000;

export function applySeed(seed: Seed, now: number): SandboxState {
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
    };
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
  for (const [region, regional] of Object.entries(seed.regions ?? {})) {
    const { rds, ecs, ess } = applySeed(regional, now);
    state.regions = { ...state.regions, [region]: { rds, ecs, ess } };
  }
  return state;
}
