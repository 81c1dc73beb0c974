import type { Cloud } from '../../shared/cloud/cloud.ts';
import { pollUntil } from '../../shared/cloud/poll.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import type { Store } from '../../shared/store/port.ts';
import { builtin } from '../../shared/util/builtin.ts';
import { sha256Hex } from '../../shared/util/hash.ts';
import { listCopies, recordedCopies } from './cross-region.ts';
import { runCheck } from './database-dump.ts';
import { listAll, type Policy } from './rotate.ts';

// The reachability check's sockets load with the first check.
const net = builtin<typeof import('node:net')>('node:net');

export interface DrillState {
  policy: string;
  instanceId: string;
  backupId: string;
  cloneId: string;
  startedAt: string;
  round: number;
  /** The policy's other region, for a drill that restores a copy there; absent: the home region. */
  region?: string | undefined;
}

export interface DrillReport {
  policy: string;
  instanceId: string;
  status: 'passed' | 'failed' | 'following';
  /** Where the restore ran: the home region, or the other one from its copy. */
  region: string;
  /** How the backup was found when the home region did not answer. */
  note?: string;
  backupId?: string;
  cloneId?: string;
  secondsToRestore?: number;
  check: string;
  cleanedUp: string[];
  reason?: string;
}

export interface DrillDeps {
  cloud: Cloud;
  /** The cloud in another region (the policy's second region). */
  cloudIn: (region: string) => Cloud;
  homeRegion: string;
  /**
   * Names this drill to RDS (ClientToken): the same for a retried delivery of its job, so a retry
   * does not restore twice; different for the next drill of the same backup.
   */
  drillKey: string;
  store: Store;
  now: () => Date;
  budgetMs: number;
  followUp: (state: DrillState) => Promise<void>;
}

const clonesKey = (policy: string) => `backup:drill-clones:${policy}`;

/** Each passed drill, RDS or dump, with its region: the regions report reads the last per region. */
export const drillsKey = (policy: string) => `backup:drills:${policy}`;

/**
 * Prove the newest successful backup restores: clone it into a new instance, wait for Running
 * within the drill's deadline, run the check where the network allows, and always delete the clone
 * (and any clone an earlier drill left behind). A long clone continues in a follow-up job.
 */
export async function runDrill(
  deps: DrillDeps,
  name: string,
  policy: Policy,
  instanceId: string,
  state?: DrillState,
  otherRegion?: string,
): Promise<DrillReport> {
  const drill = policy.drill;
  const where = state?.region ?? otherRegion;
  const region = where ?? deps.homeRegion;
  if (!drill)
    return {
      policy: name,
      instanceId,
      region,
      status: 'failed',
      check: 'none',
      cleanedUp: [],
      reason: `policy ${name} has no drill`,
    };
  const cloud = where ? deps.cloudIn(where) : deps.cloud;
  const cleanedUp = await cleanLeftovers(deps, name, state?.cloneId);
  let current = state;
  let note: string | undefined;
  if (!current) {
    const restored = where
      ? await restoreCopy(deps, policy, instanceId, where)
      : await cloneNewest(deps, policy, instanceId);
    if ('reason' in restored)
      return {
        policy: name,
        instanceId,
        region,
        status: 'failed',
        check: 'none',
        cleanedUp,
        reason: restored.reason,
      };
    note = restored.note;
    await deps.store.appendHistory(clonesKey(name), {
      value: { cloneId: restored.cloneId, deleted: false, ...(where ? { region: where } : {}) },
    });
    current = {
      policy: name,
      instanceId,
      backupId: restored.backupId,
      cloneId: restored.cloneId,
      startedAt: deps.now().toISOString(),
      round: 0,
      ...(where ? { region: where } : {}),
    };
  }
  const started = Date.parse(current.startedAt);
  const deadline = started + drill.deadlineMinutes * 60_000;
  const cloneId = current.cloneId;
  const polled = await pollUntil(
    async () => (await cloud.rds.instanceAttribute(cloneId)).DBInstanceStatus,
    (s) => s === 'Running',
    {
      deadline: new Date(Math.min(Date.now() + deps.budgetMs, deadline)),
      intervalMs: 500,
      maxIntervalMs: 2000,
    },
  );
  const status = polled.status === 'done' ? polled.value : polled.last;
  const base = {
    policy: name,
    instanceId,
    region,
    backupId: current.backupId,
    cloneId: current.cloneId,
    ...(note ? { note } : {}),
  };
  if (status !== 'Running' && deps.now().getTime() < deadline) {
    await deps.followUp({ ...current, round: current.round + 1 });
    return {
      ...base,
      status: 'following',
      check: 'pending',
      cleanedUp,
      reason: `clone is ${status}; a follow-up job goes on`,
    };
  }
  const seconds = Math.round((deps.now().getTime() - started) / 1000);
  let check = 'none configured';
  let checkFailed: string | undefined;
  try {
    if (status === 'Running' && drill.check) {
      const result = await checkClone(cloud, policy, current.cloneId);
      check = result.check;
      checkFailed = result.failed;
    }
  } finally {
    await deleteClone(deps, name, current.cloneId, where);
  }
  if (status !== 'Running') {
    return {
      ...base,
      status: 'failed',
      check,
      cleanedUp,
      secondsToRestore: seconds,
      reason: `clone was not Running within ${drill.deadlineMinutes} minutes`,
    };
  }
  if (checkFailed)
    return {
      ...base,
      status: 'failed',
      check,
      cleanedUp,
      secondsToRestore: seconds,
      reason: `the check failed: ${checkFailed}`,
    };
  return { ...base, status: 'passed', check, cleanedUp, secondsToRestore: seconds };
}

type Restored = { cloneId: string; backupId: string; note?: string } | { reason: string };

/** Clone the newest successful backup into a new instance in the home region. */
async function cloneNewest(deps: DrillDeps, policy: Policy, instanceId: string): Promise<Restored> {
  const drill = policy.drill!;
  const newest = (await listAll(deps.cloud, instanceId, policy, deps.now())).find(
    (b) => b.BackupStatus === 'Success',
  );
  if (!newest) return { reason: 'no successful backup to restore' };
  const { instanceId: cloneId } = await deps.cloud.rds.cloneInstance({
    sourceId: instanceId,
    backupId: newest.BackupId,
    clientToken: `drill-${sha256Hex(`${deps.drillKey}:${newest.BackupId}`).slice(0, 40)}`,
    ...(drill.instanceClass ? { instanceClass: drill.instanceClass } : {}),
    ...(drill.storageGB ? { storageGB: drill.storageGB } : {}),
    ...(drill.vpcId ? { vpcId: drill.vpcId } : {}),
    ...(drill.vSwitchId ? { vSwitchId: drill.vSwitchId } : {}),
  });
  return { cloneId, backupId: newest.BackupId };
}

const ENGINE_NAMES: Record<string, string> = {
  mysql: 'MySQL',
  postgresql: 'PostgreSQL',
  sqlserver: 'SQLServer',
};

/**
 * Restore the newest copy in the other region into a new instance there. The copies are listed
 * through the home region; when it does not answer, the copies the last rotation recorded are used
 * (which is the point of a copy: the home region may be gone).
 */
async function restoreCopy(
  deps: DrillDeps,
  policy: Policy,
  instanceId: string,
  region: string,
): Promise<Restored> {
  const drill = policy.drill!;
  const cross = policy.crossRegion!;
  const recorded = await recordedCopies(deps.store, instanceId);
  let copy: { id: string; start: string; engine?: string; engineVersion?: string } | undefined;
  let note: string | undefined;
  try {
    const newest = (await listCopies(deps.cloud, instanceId, policy, deps.now())).find(
      (c) => c.BackupSetStatus === 0,
    );
    if (newest)
      copy = {
        id: String(newest.CrossBackupId),
        start: newest.BackupStartTime,
        engine: newest.Engine,
        engineVersion: newest.EngineVersion,
      };
  } catch (error) {
    if (!recorded?.copies.length)
      return {
        reason: `the copies in ${region} could not be listed (${(error as Error).message}) and none were recorded`,
      };
    copy = recorded.copies[0];
    note = `${deps.homeRegion} did not answer (${(error as Error).message}): restored the newest copy the last rotation recorded`;
  }
  if (!copy) return { reason: `no copy in ${region} to restore` };
  const engine = copy.engine ?? recorded?.engine;
  const engineVersion = copy.engineVersion ?? recorded?.engineVersion;
  if (!engine || !engineVersion)
    return { reason: `the engine of ${instanceId} is not known: no rotation has recorded it yet` };
  const instanceClass = drill.instanceClass ?? recorded?.instanceClass;
  const { instanceId: cloneId } = await deps.cloudIn(region).rds.restoreCrossBackup({
    backupSetId: copy.id,
    sourceInstanceId: instanceId,
    sourceRegion: deps.homeRegion,
    engine: ENGINE_NAMES[engine.toLowerCase()] ?? engine,
    engineVersion,
    clientToken: `drill-${sha256Hex(`${deps.drillKey}:${region}:${copy.id}`).slice(0, 40)}`,
    allowIps: cross.allowIps,
    ...(instanceClass ? { instanceClass } : {}),
    ...(drill.storageGB ? { storageGB: drill.storageGB } : {}),
    ...(cross.vpcId ? { vpcId: cross.vpcId } : {}),
    ...(cross.vSwitchId ? { vSwitchId: cross.vSwitchId } : {}),
  });
  return { cloneId, backupId: `${region}:${copy.id} (${copy.start})`, ...(note ? { note } : {}) };
}

/**
 * Run the drill's check query on the clone when the network allows: the clone's private address
 * must answer from where this function runs (same VPC); otherwise the check is skipped, saying why.
 */
async function checkClone(
  cloud: Cloud,
  policy: Policy,
  cloneId: string,
): Promise<{ check: string; failed?: string }> {
  const drill = policy.drill!;
  const engine = (await cloud.rds.instanceAttribute(cloneId)).Engine;
  const kind =
    engine === 'PostgreSQL' ? 'postgres' : engine === 'MySQL' || engine === 'MariaDB' ? 'mysql' : undefined;
  if (!kind) return { check: `skipped: no check client for ${engine}` };
  if (!drill.user) return { check: 'skipped: the drill names no user to connect with' };
  const [net] = await cloud.rds.netInfo(cloneId);
  if (!net) return { check: 'skipped: the clone reports no address' };
  const port = Number(net.Port);
  if (!(await reachable(net.ConnectionString, port)))
    return { check: `skipped: no network path to ${net.ConnectionString}:${port}` };
  const password = drill.password ? (resolveSecret(drill.password) ?? '') : '';
  const url = `${kind === 'postgres' ? 'postgres' : 'mysql'}://${encodeURIComponent(drill.user)}${password ? `:${encodeURIComponent(password)}` : ''}@${net.ConnectionString}:${port}/${encodeURIComponent(drill.database ?? '')}`;
  try {
    return { check: `${drill.check} → ${(await runCheck(kind, url, drill.check!)).split('\n')[0]}` };
  } catch (error) {
    return { check: `${drill.check} failed`, failed: (error as Error).message };
  }
}

function reachable(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net().connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function deleteClone(deps: DrillDeps, name: string, cloneId: string, region?: string): Promise<void> {
  try {
    await (region ? deps.cloudIn(region) : deps.cloud).rds.deleteInstance(cloneId);
  } catch (error) {
    if ((error as { upstreamCode?: string }).upstreamCode !== 'InvalidDBInstanceId.NotFound') throw error;
  }
  await deps.store.appendHistory(clonesKey(name), { value: { cloneId, deleted: true } });
}

/** Delete clones that earlier drills recorded but never saw deleted (a crash between clone and delete). */
async function cleanLeftovers(deps: DrillDeps, name: string, keep: string | undefined): Promise<string[]> {
  const entries = await deps.store.readHistory<{ cloneId: string; deleted: boolean; region?: string }>(
    clonesKey(name),
    { limit: 200 },
  );
  const deleted = new Set(entries.filter((e) => e.value.deleted).map((e) => e.value.cloneId));
  const leftovers = new Map<string, string | undefined>();
  for (const e of entries)
    if (!e.value.deleted && !deleted.has(e.value.cloneId) && e.value.cloneId !== keep)
      leftovers.set(e.value.cloneId, e.value.region);
  for (const [id, region] of leftovers) await deleteClone(deps, name, id, region);
  return [...leftovers.keys()];
}
