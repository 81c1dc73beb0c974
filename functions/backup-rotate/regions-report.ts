// One view of a policy across its regions: what backups (or dumps) each holds, the newest, the
// restore drills' times side by side, and whether the other region is behind. It answers from the
// other region when the home region does not: that is when it is needed most.
import type { Cloud } from '../../shared/cloud/cloud.ts';
import type { Store } from '../../shared/store/port.ts';
import { copiesKey, listCopies, planCopies, type RecordedCopies } from './cross-region.ts';
import { drillsKey } from './drill.ts';
import { listDumpsIn } from './dumps.ts';
import { listAll, type Policy } from './rotate.ts';

export interface RegionView {
  region: string;
  role: 'home' | 'copy';
  /** Per instance (RDS) or the dump prefix: how many, the newest, where the figures come from. */
  holds: {
    instanceId: string;
    count?: number;
    newest?: string | undefined;
    source?: string;
    error?: string;
  }[];
  /** The last passed drill per instance in this region: how long the restore took. */
  drills: { instanceId: string; secondsToRestore: number; at: string }[];
  behind: string[];
}

export interface PolicyRegions {
  policy: string;
  regions: RegionView[];
  warnings: string[];
}

export interface ReportDeps {
  cloud: Cloud;
  cloudIn: (region: string) => Cloud;
  store: Store;
  now: () => Date;
  homeRegion: string;
}

const HOUR = 3_600_000;

async function lastDrills(store: Store, name: string) {
  const entries = await store.readHistory<{
    instanceId: string;
    secondsToRestore: number;
    passed: boolean;
    region?: string;
  }>(drillsKey(name), { limit: 200 });
  return entries;
}

function drillsIn(entries: Awaited<ReturnType<typeof lastDrills>>, region: string, home: string) {
  const seen = new Set<string>();
  const out: RegionView['drills'] = [];
  for (const e of entries) {
    if ((e.value.region ?? home) !== region || seen.has(e.value.instanceId)) continue;
    seen.add(e.value.instanceId);
    out.push({
      instanceId: e.value.instanceId,
      secondsToRestore: e.value.secondsToRestore,
      at: e.createdAt.toISOString(),
    });
  }
  return out;
}

export async function policyRegions(
  deps: ReportDeps,
  name: string,
  policy: Policy,
  instances: string[],
): Promise<PolicyRegions> {
  const now = deps.now();
  const drills = await lastDrills(deps.store, name);
  const home: RegionView = {
    region: deps.homeRegion,
    role: 'home',
    holds: [],
    drills: drillsIn(drills, deps.homeRegion, deps.homeRegion),
    behind: [],
  };
  const cross = policy.crossRegion;
  const other: RegionView | undefined = cross
    ? {
        region: cross.region,
        role: 'copy',
        holds: [],
        drills: drillsIn(drills, cross.region, deps.homeRegion),
        behind: [],
      }
    : undefined;
  if (policy.engine !== 'rds') {
    const db = policy.database!;
    const prefix = `${db.prefix}${name}/`;
    const newestHome = await listDumpsIn(deps.cloud, db.bucket, prefix).then(
      (d) => {
        home.holds.push({ instanceId: `${db.bucket}/${prefix}`, count: d.length, newest: d[0]?.key });
        return d[0];
      },
      (error: Error) => {
        home.holds.push({ instanceId: `${db.bucket}/${prefix}`, error: error.message });
        return undefined;
      },
    );
    if (other && cross?.bucket) {
      await listDumpsIn(deps.cloudIn(cross.region), cross.bucket, prefix).then(
        (d) => {
          other.holds.push({ instanceId: `${cross.bucket}/${prefix}`, count: d.length, newest: d[0]?.key });
          if (
            newestHome &&
            !d.some((x) => x.key === newestHome.key) &&
            now.getTime() - newestHome.start.getTime() > cross.maxLagHours * HOUR
          )
            other.behind.push(
              `dump ${newestHome.key} has no copy in ${cross.bucket} after ${cross.maxLagHours} h`,
            );
        },
        (error: Error) => other.holds.push({ instanceId: `${cross.bucket}/${prefix}`, error: error.message }),
      );
    }
  } else {
    for (const instanceId of instances) {
      let newest: { id: string; start: string } | undefined;
      try {
        const backups = (await listAll(deps.cloud, instanceId, policy, now)).filter(
          (b) => b.BackupStatus === 'Success',
        );
        newest = backups[0] ? { id: backups[0].BackupId, start: backups[0].BackupStartTime } : undefined;
        home.holds.push({ instanceId, count: backups.length, newest: newest?.start });
      } catch (error) {
        home.holds.push({ instanceId, error: (error as Error).message });
      }
      if (!other) continue;
      try {
        const copies = await listCopies(deps.cloud, instanceId, policy, now);
        const planned = planCopies(copies, newest, policy, now);
        other.holds.push({ instanceId, count: planned.copies, newest: planned.newestCopy, source: 'listed' });
        if (planned.behind) other.behind.push(planned.behind);
      } catch (error) {
        // The copies are listed through the home region: without it, what the last rotation saw.
        const recorded = await deps.store.readHistory<RecordedCopies>(copiesKey(instanceId), { limit: 1 });
        const last = recorded[0];
        other.holds.push({
          instanceId,
          ...(last?.value
            ? {
                count: last.value.copies.length,
                newest: last.value.copies[0]?.start,
                source: `recorded ${last.createdAt.toISOString()}`,
              }
            : {}),
          error: `not listed (${(error as Error).message})`,
        });
      }
    }
  }
  const regions = other ? [home, other] : [home];
  const warnings = [
    ...regions.flatMap((r) => r.behind.map((b) => `${r.region} is behind: ${b}`)),
    ...regions.flatMap((r) =>
      r.holds.filter((h) => h.error).map((h) => `${r.region}: ${h.instanceId}: ${h.error}`),
    ),
  ];
  return { policy: name, regions, warnings };
}
