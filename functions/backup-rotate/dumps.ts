import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cloud } from '../../shared/cloud/cloud.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import { ConfigError } from '../../shared/runtime/errors.ts';
import { dumpDatabase, type Engine, restoreAndCheck } from './database-dump.ts';
import type { DrillReport } from './drill.ts';
import { planRetention } from './retention.ts';
import type { Policy } from './rotate.ts';

const SUFFIX = '.sql.gz';
const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
const unstamp = (s: string) => new Date(s.replace(/T(\d\d)-(\d\d)-(\d\d)Z$/, 'T$1:$2:$3Z'));

function database(name: string, policy: Policy, env: NodeJS.ProcessEnv) {
  const db = policy.database;
  const url = db ? resolveSecret(db.url, env) : undefined;
  if (!db || !url) {
    throw new ConfigError([
      {
        file: 'fc-devops.yaml',
        field: `backups.policies.${name}.database.url`,
        message: `${db?.url ?? 'database.url'} is not set`,
      },
    ]);
  }
  return { url, bucket: db.bucket, prefix: `${db.prefix}${name}/`, engine: policy.engine as Engine };
}

async function listDumps(cloud: Cloud, bucket: string, prefix: string) {
  const keys = new Set<string>();
  let marker: string | undefined;
  do {
    const page = await cloud.oss.list(bucket, { prefix, ...(marker ? { marker } : {}) });
    for (const o of page.objects) keys.add(o.key);
    marker = page.nextMarker;
  } while (marker);
  // A dump counts once its checksum is written next to it: a dump cut off half way never does.
  return [...keys]
    .filter((k) => k.endsWith(SUFFIX) && keys.has(`${k}.sha256`))
    .map((key) => ({ key, start: unstamp(key.slice(prefix.length, -SUFFIX.length)) }));
}

type Deps = {
  cloud: Cloud;
  cloudIn?: (region: string) => Cloud;
  homeRegion?: string;
  now: () => Date;
  env?: NodeJS.ProcessEnv;
};

/** Where dumps live: the policy's bucket, and with `crossRegion` the bucket in the other region. */
interface Place {
  region: string | undefined;
  bucket: string;
  cloud: Cloud;
}

function places(deps: Deps, policy: Policy, bucket: string): { home: Place; other?: Place } {
  const cross = policy.crossRegion;
  const home = { region: undefined, bucket, cloud: deps.cloud };
  if (!cross?.bucket) return { home };
  if (!deps.cloudIn) throw new Error('a cross-region dump policy needs the cloud of its other region');
  return { home, other: { region: cross.region, bucket: cross.bucket, cloud: deps.cloudIn(cross.region) } };
}

export interface DumpCopyReport {
  region: string;
  bucket: string;
  /** Dumps copied this run (a new one, and any the other bucket was missing). */
  copied: string[];
  /** Copies whose checksum did not match after the copy: removed there, kept here. */
  failed: { key: string; reason: string }[];
  dumps: number;
  deleted: string[];
  behind?: string | undefined;
  error?: string;
}

/**
 * Copy a dump to the other bucket through a temporary file (ranged reads, a multipart upload past
 * 64 MB: no dump has to fit in memory), then read the copy back and check its SHA-256 against the
 * source's sidecar. A copy that differs is removed (its sidecar never written), so it never counts.
 */
async function copyDump(from: Place, to: Place, key: string): Promise<string | undefined> {
  const expected = (await from.cloud.oss.get(from.bucket, `${key}.sha256`)).toString('utf8').trim();
  const dir = mkdtempSync(join(tmpdir(), 'fcd-copy-'));
  try {
    const file = join(dir, 'dump.sql.gz');
    const got = await from.cloud.oss.getFile(from.bucket, key, file);
    if (got.sha256 !== expected) return `the source ${from.bucket}/${key} does not match its own checksum`;
    await to.cloud.oss.putFile(to.bucket, key, file, { contentType: 'application/gzip' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const actual = await to.cloud.oss.sha256Of(to.bucket, key);
  if (actual !== expected) {
    await to.cloud.oss.delete(to.bucket, key).catch(() => {});
    return `checksum mismatch after the copy: ${actual} is not ${expected}`;
  }
  await to.cloud.oss.put(to.bucket, `${key}.sha256`, Buffer.from(`${expected}\n`), 'text/plain');
  return undefined;
}

/** The dumps under a prefix, newest first (for the regions report). */
export async function listDumpsIn(cloud: Cloud, bucket: string, prefix: string) {
  return (await listDumps(cloud, bucket, prefix)).sort((a, b) => b.start.getTime() - a.start.getTime());
}

/** Dump the database to OSS (gzip, with a SHA-256 sidecar), copy it to the other region, then apply the policy's retention to the dumps in both. */
export async function rotateDumps(deps: Deps, name: string, policy: Policy, options: { dryRun: boolean }) {
  const db = database(name, policy, deps.env ?? process.env);
  const { home, other } = places(deps, policy, db.bucket);
  let created: string | undefined;
  if (!options.dryRun) {
    const dump = await dumpDatabase(db.engine, db.url);
    try {
      created = `${db.prefix}${stamp(deps.now())}${SUFFIX}`;
      // A multipart upload past 64 MB: a large dump never has to fit in the function's memory.
      await deps.cloud.oss.putFile(db.bucket, created, dump.file, { contentType: 'application/gzip' });
      await deps.cloud.oss.put(db.bucket, `${created}.sha256`, Buffer.from(`${dump.sha256}\n`), 'text/plain');
    } finally {
      dump.cleanup();
    }
  }
  const homeDumps = await listDumps(deps.cloud, db.bucket, db.prefix);
  let otherDumps: { key: string; start: Date }[] = [];
  let copy: DumpCopyReport | undefined;
  if (other) {
    copy = { region: other.region!, bucket: other.bucket, copied: [], failed: [], dumps: 0, deleted: [] };
    otherDumps = await listDumps(other.cloud, other.bucket, db.prefix).catch((error: Error) => {
      copy!.error = `${other.bucket} in ${other.region} not listed: ${error.message}`;
      return [];
    });
  }
  // One plan over the dumps of both buckets (by name): the same dumps are kept in each.
  const byKey = new Map<string, { key: string; start: Date }>();
  for (const d of [...homeDumps, ...otherDumps]) byKey.set(d.key, d);
  const plan = planRetention(
    [...byKey.values()].map((d) => ({
      id: d.key,
      start: d.start,
      status: 'Success',
      deletable: true,
      ours: true,
    })),
    { ...policy.retention, deleteForeign: true, freshHours: policy.intervalHours },
    deps.now(),
  );
  const doomed = new Set(plan.filter((d) => d.action === 'delete').map((d) => d.id));
  const apply = !options.dryRun && !policy.dryRun;
  if (other && copy && !copy.error && !options.dryRun) {
    // Every dump the plan keeps is in both: the new one, and any an earlier run could not copy.
    const there = new Set(otherDumps.map((d) => d.key));
    for (const d of homeDumps) {
      if (there.has(d.key) || doomed.has(d.key)) continue;
      const failed = await copyDump(home, other, d.key).catch((error: Error) => error.message);
      if (failed) copy.failed.push({ key: d.key, reason: failed });
      else {
        copy.copied.push(d.key);
        otherDumps.push(d);
      }
    }
  }
  const prune = async (place: Place, dumps: { key: string }[]) => {
    const gone = dumps.filter((d) => doomed.has(d.key)).map((d) => d.key);
    if (apply)
      for (const key of gone) {
        await place.cloud.oss.delete(place.bucket, key);
        await place.cloud.oss.delete(place.bucket, `${key}.sha256`);
      }
    return gone;
  };
  const deleted = await prune(home, homeDumps);
  if (other && copy && !copy.error) {
    copy.deleted = await prune(other, otherDumps);
    copy.dumps = otherDumps.length - (apply ? copy.deleted.length : 0);
    const newest = homeDumps.sort((a, b) => b.start.getTime() - a.start.getTime())[0];
    const lag = (policy.crossRegion?.maxLagHours ?? 6) * 3_600_000;
    if (
      newest &&
      !otherDumps.some((d) => d.key === newest.key) &&
      deps.now().getTime() - newest.start.getTime() > lag
    )
      copy.behind = `dump ${newest.key} has no copy in ${other.bucket} (${other.region}) after ${policy.crossRegion?.maxLagHours} h`;
  }
  return {
    policy: name,
    instanceId: `${db.engine}:${db.bucket}/${db.prefix}`,
    status: copy && copy.failed.length > 0 ? ('copy-failed' as const) : ('rotated' as const),
    created,
    kept: homeDumps.length - deleted.length,
    deleted,
    dryRun: options.dryRun || policy.dryRun,
    deletable: true,
    plan,
    ...(copy
      ? {
          crossRegion: copy,
          ...(copy.failed.length
            ? {
                reason: copy.failed
                  .map((f) => `${f.key} not copied to ${copy.bucket}: ${f.reason}`)
                  .join('; '),
              }
            : {}),
        }
      : {}),
  };
}

/**
 * Restore the newest dump into a scratch database, run the check query, drop the scratch database.
 * With `region` (the policy's other region), the dump is read from the bucket there.
 */
export async function drillDumps(
  deps: Deps,
  name: string,
  policy: Policy,
  region?: string,
): Promise<DrillReport> {
  const db = database(name, policy, deps.env ?? process.env);
  const { home, other } = places(deps, policy, db.bucket);
  const from = region ? other : home;
  const where = region ?? deps.homeRegion ?? 'home';
  if (!from)
    return {
      policy: name,
      instanceId: db.prefix,
      region: where,
      status: 'failed' as const,
      check: 'none',
      cleanedUp: [],
      reason: `policy ${name} has no bucket in ${region}`,
    };
  const started = Date.now();
  const [newest] = await listDumpsIn(from.cloud, from.bucket, db.prefix);
  const base = { policy: name, instanceId: db.prefix, region: where };
  if (!newest)
    return {
      ...base,
      status: 'failed' as const,
      check: 'none',
      cleanedUp: [],
      reason: `no dump in ${from.bucket} to restore`,
    };
  const expected = (await from.cloud.oss.get(from.bucket, `${newest.key}.sha256`)).toString('utf8').trim();
  // Through a temporary file read in ranged parts: the dump is never held whole.
  const dir = mkdtempSync(join(tmpdir(), 'fcd-drill-'));
  let restored: { output: string; scratch: string };
  const check = policy.drill?.check ?? 'select 1';
  try {
    const file = join(dir, 'dump.sql.gz');
    const { sha256: actual } = await from.cloud.oss.getFile(from.bucket, newest.key, file);
    if (actual !== expected) {
      return {
        ...base,
        backupId: newest.key,
        status: 'failed' as const,
        check: 'none',
        cleanedUp: [],
        reason: `checksum mismatch: ${actual} is not ${expected}`,
      };
    }
    restored = await restoreAndCheck(db.engine, db.url, file, check);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const { output, scratch } = restored;
  return {
    ...base,
    backupId: newest.key,
    cloneId: scratch,
    status: 'passed' as const,
    check: `${check} → ${output.split('\n')[0]}`,
    cleanedUp: [scratch],
    secondsToRestore: Math.round((Date.now() - started) / 100) / 10,
  };
}
