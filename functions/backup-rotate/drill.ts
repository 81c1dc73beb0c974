import { connect } from 'node:net';
import type { Cloud } from '../../shared/cloud/cloud.ts';
import { pollUntil } from '../../shared/cloud/poll.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import type { Store } from '../../shared/store/port.ts';
import { runCheck } from './database-dump.ts';
import { listAll, type Policy } from './rotate.ts';

export interface DrillState {
  policy: string;
  instanceId: string;
  backupId: string;
  cloneId: string;
  startedAt: string;
  round: number;
}

export interface DrillReport {
  policy: string;
  instanceId: string;
  status: 'passed' | 'failed' | 'following';
  backupId?: string;
  cloneId?: string;
  secondsToRestore?: number;
  check: string;
  cleanedUp: string[];
  reason?: string;
}

export interface DrillDeps {
  cloud: Cloud;
  store: Store;
  now: () => Date;
  budgetMs: number;
  followUp: (state: DrillState) => Promise<void>;
}

const clonesKey = (policy: string) => `backup:drill-clones:${policy}`;

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
): Promise<DrillReport> {
  const drill = policy.drill;
  if (!drill)
    return {
      policy: name,
      instanceId,
      status: 'failed',
      check: 'none',
      cleanedUp: [],
      reason: `policy ${name} has no drill`,
    };
  const cleanedUp = await cleanLeftovers(deps, name, state?.cloneId);
  let current = state;
  if (!current) {
    const newest = (await listAll(deps.cloud, instanceId, policy, deps.now())).find(
      (b) => b.BackupStatus === 'Success',
    );
    if (!newest)
      return {
        policy: name,
        instanceId,
        status: 'failed',
        check: 'none',
        cleanedUp,
        reason: 'no successful backup to restore',
      };
    const { instanceId: cloneId } = await deps.cloud.rds.cloneInstance({
      sourceId: instanceId,
      backupId: newest.BackupId,
      clientToken: `drill-${name}-${newest.BackupId}`.slice(0, 64),
      ...(drill.instanceClass ? { instanceClass: drill.instanceClass } : {}),
      ...(drill.storageGB ? { storageGB: drill.storageGB } : {}),
      ...(drill.vpcId ? { vpcId: drill.vpcId } : {}),
      ...(drill.vSwitchId ? { vSwitchId: drill.vSwitchId } : {}),
    });
    await deps.store.appendHistory(clonesKey(name), { value: { cloneId, deleted: false } });
    current = {
      policy: name,
      instanceId,
      backupId: newest.BackupId,
      cloneId,
      startedAt: deps.now().toISOString(),
      round: 0,
    };
  }
  const started = Date.parse(current.startedAt);
  const deadline = started + drill.deadlineMinutes * 60_000;
  const cloneId = current.cloneId;
  const polled = await pollUntil(
    async () => (await deps.cloud.rds.instanceAttribute(cloneId)).DBInstanceStatus,
    (s) => s === 'Running',
    {
      deadline: new Date(Math.min(Date.now() + deps.budgetMs, deadline)),
      intervalMs: 500,
      maxIntervalMs: 2000,
    },
  );
  const status = polled.status === 'done' ? polled.value : polled.last;
  const base = { policy: name, instanceId, backupId: current.backupId, cloneId: current.cloneId };
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
      const result = await checkClone(deps, policy, current.cloneId);
      check = result.check;
      checkFailed = result.failed;
    }
  } finally {
    await deleteClone(deps, name, current.cloneId);
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
  await deps.store.appendHistory(`backup:drills:${name}`, {
    value: { instanceId, backupId: current.backupId, secondsToRestore: seconds, passed: true },
  });
  return { ...base, status: 'passed', check, cleanedUp, secondsToRestore: seconds };
}

/**
 * Run the drill's check query on the clone when the network allows: the clone's private address
 * must answer from where this function runs (same VPC); otherwise the check is skipped, saying why.
 */
async function checkClone(
  deps: DrillDeps,
  policy: Policy,
  cloneId: string,
): Promise<{ check: string; failed?: string }> {
  const drill = policy.drill!;
  const engine = (await deps.cloud.rds.instanceAttribute(cloneId)).Engine;
  const kind =
    engine === 'PostgreSQL' ? 'postgres' : engine === 'MySQL' || engine === 'MariaDB' ? 'mysql' : undefined;
  if (!kind) return { check: `skipped: no check client for ${engine}` };
  if (!drill.user) return { check: 'skipped: the drill names no user to connect with' };
  const [net] = await deps.cloud.rds.netInfo(cloneId);
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
    const socket = connect({ host, port, timeout: timeoutMs });
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

async function deleteClone(deps: DrillDeps, name: string, cloneId: string): Promise<void> {
  try {
    await deps.cloud.rds.deleteInstance(cloneId);
  } catch (error) {
    if ((error as { upstreamCode?: string }).upstreamCode !== 'InvalidDBInstanceId.NotFound') throw error;
  }
  await deps.store.appendHistory(clonesKey(name), { value: { cloneId, deleted: true } });
}

/** Delete clones that earlier drills recorded but never saw deleted (a crash between clone and delete). */
async function cleanLeftovers(deps: DrillDeps, name: string, keep: string | undefined): Promise<string[]> {
  const entries = await deps.store.readHistory<{ cloneId: string; deleted: boolean }>(clonesKey(name), {
    limit: 200,
  });
  const deleted = new Set(entries.filter((e) => e.value.deleted).map((e) => e.value.cloneId));
  const leftovers = [
    ...new Set(
      entries.filter((e) => !e.value.deleted && !deleted.has(e.value.cloneId)).map((e) => e.value.cloneId),
    ),
  ].filter((id) => id !== keep);
  for (const id of leftovers) await deleteClone(deps, name, id);
  return leftovers;
}
