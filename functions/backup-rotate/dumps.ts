import type { Cloud } from '../../shared/cloud/cloud.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import { ConfigError } from '../../shared/runtime/errors.ts';
import { sha256Hex } from '../../shared/util/hash.ts';
import { dumpDatabase, type Engine, restoreAndCheck } from './database-dump.ts';
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

/** Dump the database to OSS (gzip, with a SHA-256 sidecar), then apply the policy's retention to the dumps. */
export async function rotateDumps(
  deps: { cloud: Cloud; now: () => Date; env?: NodeJS.ProcessEnv },
  name: string,
  policy: Policy,
  options: { dryRun: boolean },
) {
  const db = database(name, policy, deps.env ?? process.env);
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
  const dumps = await listDumps(deps.cloud, db.bucket, db.prefix);
  const plan = planRetention(
    dumps.map((d) => ({ id: d.key, start: d.start, status: 'Success', deletable: true, ours: true })),
    { ...policy.retention, deleteForeign: true, freshHours: policy.intervalHours },
    deps.now(),
  );
  const doomed = plan.filter((d) => d.action === 'delete').map((d) => d.id);
  if (!options.dryRun && !policy.dryRun) {
    for (const key of doomed) {
      await deps.cloud.oss.delete(db.bucket, key);
      await deps.cloud.oss.delete(db.bucket, `${key}.sha256`);
    }
  }
  return {
    policy: name,
    instanceId: `${db.engine}:${db.bucket}/${db.prefix}`,
    status: 'rotated' as const,
    created,
    kept: plan.length - doomed.length,
    deleted: doomed,
    dryRun: options.dryRun || policy.dryRun,
    deletable: true,
    plan,
  };
}

/** Restore the newest dump into a scratch database, run the check query, drop the scratch database. */
export async function drillDumps(
  deps: { cloud: Cloud; now: () => Date; env?: NodeJS.ProcessEnv },
  name: string,
  policy: Policy,
) {
  const db = database(name, policy, deps.env ?? process.env);
  const started = Date.now();
  const [newest] = (await listDumps(deps.cloud, db.bucket, db.prefix)).sort(
    (a, b) => b.start.getTime() - a.start.getTime(),
  );
  if (!newest)
    return {
      policy: name,
      instanceId: db.prefix,
      status: 'failed' as const,
      check: 'none',
      cleanedUp: [],
      reason: 'no dump to restore',
    };
  const body = await deps.cloud.oss.get(db.bucket, newest.key);
  const expected = (await deps.cloud.oss.get(db.bucket, `${newest.key}.sha256`)).toString('utf8').trim();
  const actual = sha256Hex(body);
  if (actual !== expected) {
    return {
      policy: name,
      instanceId: db.prefix,
      backupId: newest.key,
      status: 'failed' as const,
      check: 'none',
      cleanedUp: [],
      reason: `checksum mismatch: ${actual} is not ${expected}`,
    };
  }
  const check = policy.drill?.check ?? 'select 1';
  const { output, scratch } = await restoreAndCheck(db.engine, db.url, body, check);
  return {
    policy: name,
    instanceId: db.prefix,
    backupId: newest.key,
    cloneId: scratch,
    status: 'passed' as const,
    check: `${check} → ${output.split('\n')[0]}`,
    cleanedUp: [scratch],
    secondsToRestore: Math.round((Date.now() - started) / 100) / 10,
  };
}
