import type { RdsBackup } from '../../shared/cloud/adapters/rds.ts';
import type { Cloud } from '../../shared/cloud/cloud.ts';
import { pollUntil } from '../../shared/cloud/poll.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import type { Logger } from '../../shared/runtime/logger.ts';
import type { Store } from '../../shared/store/port.ts';
import {
  type CopiesReport,
  type CrossPolicyCheck,
  ensureCrossPolicy,
  listCopies,
  planCopies,
  recordCopies,
} from './cross-region.ts';
import type { DumpCopyReport } from './dumps.ts';
import { type Decision, planRetention } from './retention.ts';

export type Policy = Config['backups']['policies'][string];

export interface RotateDeps {
  cloud: Cloud;
  store: Store;
  now: () => Date;
  log: Logger;
  /** Hand a long backup over to a follow-up job instead of outliving the function's timeout. */
  followUp: (step: { policy: string; instanceId: string; jobId: string; round: number }) => Promise<void>;
  /** How long this invocation may wait for a backup task. */
  budgetMs: number;
  /** The run's stages (created, listed, planned, deleted) and its log; absent for a dry run's preview. */
  progress?: {
    stage: (name: string, more?: { progress?: number; detail?: string }) => Promise<void>;
    line: (text: string) => void;
    /** Aborted when someone cancels the run: stop waiting for the task (RDS finishes it anyway). */
    signal?: AbortSignal;
  };
}

export interface RotationReport {
  policy: string;
  instanceId: string;
  /** copy-failed: a dump's copy to the other region did not match its checksum (the dump itself is kept). */
  status: 'rotated' | 'following' | 'backup-failed' | 'refused' | 'copy-failed';
  created?: string | undefined;
  skippedCreate?: string | undefined;
  deletable: boolean;
  kept: number;
  deleted: string[];
  dryRun: boolean;
  plan?: Decision[];
  reason?: string;
  /** The policy's second region: its cross-region settings, its copies and their plan. */
  crossRegion?: CopiesReport | DumpCopyReport;
}

const DAY = 86_400_000;
const madeKey = (instanceId: string) => `backup:made:${instanceId}`;
const DELETE_ENGINES = ['MySQL', 'PostgreSQL'];

/**
 * Every backup of an instance, newest first, listed in 30-day windows back to the policy's horizon,
 * or with `since` (the instance's creation) back to then: a rotation must see the backups no bucket
 * keeps any more, or they would stay forever (at most ten years back).
 */
export async function listAll(
  cloud: Cloud,
  instanceId: string,
  policy: Policy,
  now: Date,
  since?: string,
): Promise<RdsBackup[]> {
  const r = policy.retention;
  const age = since ? Math.ceil((now.getTime() - Date.parse(since)) / DAY) : 0;
  const horizonDays = Math.min(
    3653,
    Math.max(r.daily, r.weekly * 7, r.monthly * 31, r.yearly * 366, 30, Number.isFinite(age) ? age : 0) + 31,
  );
  const out: RdsBackup[] = [];
  for (let end = now.getTime() + DAY; end > now.getTime() - horizonDays * DAY; end -= 30 * DAY) {
    out.push(
      ...(await cloud.rds.listBackups(instanceId, { start: new Date(end - 30 * DAY), end: new Date(end) })),
    );
  }
  const seen = new Set<string>();
  return out
    .filter((b) => !seen.has(b.BackupId) && seen.add(b.BackupId))
    .sort((a, b) => b.BackupStartTime.localeCompare(a.BackupStartTime));
}

export async function ourBackups(store: Store, instanceId: string): Promise<Set<string>> {
  const entries = await store.readHistory<string>(madeKey(instanceId), { limit: 5000 });
  return new Set(entries.map((e) => e.value));
}

/** Plan (and unless dry run, carry out) retention for one instance. */
export async function rotateInstance(
  deps: RotateDeps,
  name: string,
  policy: Policy,
  instanceId: string,
  options: { dryRun: boolean; createBackup: boolean; jobId?: string; round?: number },
): Promise<RotationReport> {
  const now = deps.now();
  const attrs = await deps.cloud.rds.instanceAttribute(instanceId);
  const deletable = DELETE_ENGINES.includes(attrs.Engine) && attrs.Category === 'HighAvailability';
  const base = { policy: name, instanceId, deletable, dryRun: options.dryRun };
  if (attrs.DBInstanceStatus !== 'Running') {
    return {
      ...base,
      status: 'refused',
      kept: 0,
      deleted: [],
      reason: `instance is ${attrs.DBInstanceStatus}, not Running`,
    };
  }
  // Before the backup is made: RDS copies only backups that finish after cross-region backup is on.
  const crossCheck = policy.crossRegion
    ? await checkCross(deps, policy, instanceId, attrs.Engine, options.dryRun || policy.dryRun)
    : undefined;
  let backups = await listAll(deps.cloud, instanceId, policy, now, attrs.CreationTime);
  let created: string | undefined;
  let skippedCreate: string | undefined;

  // Follow a backup this policy started (now, or in an earlier invocation).
  let jobId = options.jobId;
  if (!jobId && options.createBackup && !options.dryRun) {
    const fresh = backups.find(
      (b) =>
        b.BackupStatus === 'Success' &&
        now.getTime() - Date.parse(b.BackupStartTime) < policy.intervalHours * 3_600_000,
    );
    const today = backups.filter(
      (b) => b.BackupStartTime.slice(0, 10) === now.toISOString().slice(0, 10),
    ).length;
    if (fresh)
      skippedCreate = `a successful backup (${fresh.BackupId}) is younger than ${policy.intervalHours} h`;
    else if (today >= 20) skippedCreate = 'the instance already has 20 backups today (the daily quota)';
    else jobId = (await deps.cloud.rds.createBackup(instanceId, policy.method)).jobId;
  }
  const progress = deps.progress;
  if (jobId) {
    await progress?.stage('created', { progress: 0, detail: `backup task ${jobId}` });
    progress?.line(`backup task ${jobId} started on ${instanceId} (${policy.method})`);
    let lastPercent = -1;
    const polled = await pollUntil(
      async () => {
        if (progress?.signal?.aborted) {
          progress.line(
            `cancelled while waiting: backup task ${jobId} goes on in RDS, and the next rotation counts its backup`,
          );
          throw progress.signal.reason;
        }
        const task = await deps.cloud.rds.backupTask(instanceId, jobId!);
        // RDS reports the task's progress as "NN%" in Process.
        const percent = Number.parseInt(task?.Process ?? '', 10);
        if (Number.isFinite(percent) && percent !== lastPercent) {
          lastPercent = percent;
          await progress?.stage('created', {
            progress: percent,
            detail: `backup task ${jobId}: ${percent}%`,
          });
        }
        return task;
      },
      (t) => !t || t.BackupStatus === 'Finished' || t.BackupStatus === 'Failed',
      { deadline: new Date(Date.now() + deps.budgetMs), intervalMs: 500, maxIntervalMs: 2000 },
    );
    const task = polled.status === 'done' ? polled.value : polled.last;
    if (task?.BackupStatus === 'Failed') {
      return {
        ...base,
        status: 'backup-failed',
        kept: backups.length,
        deleted: [],
        reason: `backup task ${jobId} failed`,
      };
    }
    if (task?.BackupStatus !== 'Finished' || !task.BackupId) {
      await deps.followUp({ policy: name, instanceId, jobId, round: (options.round ?? 0) + 1 });
      return {
        ...base,
        status: 'following',
        kept: backups.length,
        deleted: [],
        reason: `backup task ${jobId} is ${task?.BackupStatus ?? 'unknown'}; a follow-up job goes on`,
      };
    }
    created = task.BackupId;
    progress?.line(`backup ${created} finished`);
    await deps.store.appendHistory(madeKey(instanceId), { value: created, note: `policy ${name}` });
    await progress?.stage('listed');
    backups = await listAll(deps.cloud, instanceId, policy, deps.now(), attrs.CreationTime);
  } else if (progress) {
    if (skippedCreate) progress.line(`no new backup: ${skippedCreate}`);
    await progress.stage('listed');
  }
  progress?.line(`${backups.length} backup(s) of ${instanceId} listed`);

  const ours = await ourBackups(deps.store, instanceId);
  const plan = planRetention(
    backups.map((b) => ({
      id: b.BackupId,
      start: new Date(b.BackupStartTime),
      status: b.BackupStatus,
      deletable: deletable && b.StoreStatus === 'Enabled',
      ours: ours.has(b.BackupId),
    })),
    { ...policy.retention, deleteForeign: policy.deleteForeign, freshHours: policy.intervalHours },
    deps.now(),
  );
  const doomed = plan.filter((d) => d.action === 'delete').map((d) => d.id);
  if (progress) {
    await progress.stage('planned', {
      detail: `keep ${plan.length - doomed.length}, delete ${doomed.length}`,
    });
    for (const d of plan)
      progress.line(`${d.action} ${d.id}${d.reasons.length ? `: ${d.reasons.join('; ')}` : ''}`);
  }
  if (!options.dryRun && !policy.dryRun && doomed.length > 0) {
    await progress?.stage('deleted', { detail: `${doomed.length} backup(s)` });
    await deps.cloud.rds.deleteBackups(instanceId, doomed);
    progress?.line(`deleted ${doomed.join(', ')}`);
  }
  const crossRegion = crossCheck
    ? await rotateCopies(deps, policy, instanceId, attrs, backups, crossCheck)
    : undefined;
  return {
    ...base,
    ...(crossRegion ? { crossRegion } : {}),
    dryRun: options.dryRun || policy.dryRun,
    status: 'rotated',
    created,
    skippedCreate,
    kept: plan.length - doomed.length,
    deleted: doomed,
    plan,
    ...(deletable
      ? {}
      : {
          reason:
            `${attrs.Engine} ${attrs.Category ?? ''} instances do not allow deleting backups; nothing is deleted`.replace(
              '  ',
              ' ',
            ),
        }),
  };
}

/**
 * The other region: its cross-region settings made to match the policy, its copies listed and
 * planned with the same retention, and recorded for a drill that may have to run without this
 * region. A failure here is reported with the rotation, which has already been done.
 */
async function checkCross(
  deps: RotateDeps,
  policy: Policy,
  instanceId: string,
  engine: string,
  dryRun: boolean,
): Promise<CrossPolicyCheck> {
  const check = await ensureCrossPolicy(deps.cloud, instanceId, engine, policy, dryRun).catch(
    (error: Error) => ({ status: 'unsupported' as const, detail: `not checked: ${error.message}` }),
  );
  deps.progress?.line(
    `cross-region backup to ${policy.crossRegion!.region}: ${check.status}: ${check.detail}`,
  );
  return check;
}

async function rotateCopies(
  deps: RotateDeps,
  policy: Policy,
  instanceId: string,
  attrs: { Engine: string; EngineVersion: string; DBInstanceClass: string },
  backups: RdsBackup[],
  check: CrossPolicyCheck,
): Promise<CopiesReport> {
  const region = policy.crossRegion!.region;
  const line = deps.progress?.line ?? (() => {});
  if (check.status === 'unsupported')
    return { region, policy: check, copies: 0, kept: 0, expiring: [], error: check.detail };
  try {
    const now = deps.now();
    const copies = await listCopies(deps.cloud, instanceId, policy, now);
    const newest = backups.find((b) => b.BackupStatus === 'Success');
    const planned = planCopies(
      copies,
      newest ? { id: newest.BackupId, start: newest.BackupStartTime } : undefined,
      policy,
      now,
    );
    line(
      `${copies.length} copies in ${region}: keep ${planned.kept}, ${planned.expiring.length} past the plan (RDS expires them by age)`,
    );
    if (planned.behind) line(`${region} is behind: ${planned.behind}`);
    await recordCopies(deps.store, instanceId, {
      region,
      engine: attrs.Engine,
      engineVersion: attrs.EngineVersion,
      instanceClass: attrs.DBInstanceClass,
      copies: copies
        .filter((c) => c.BackupSetStatus === 0)
        .map((c) => ({ id: String(c.CrossBackupId), start: c.BackupStartTime })),
    });
    return { ...planned, policy: check };
  } catch (error) {
    line(`copies in ${region} not listed: ${(error as Error).message}`);
    return { region, policy: check, copies: 0, kept: 0, expiring: [], error: (error as Error).message };
  }
}
