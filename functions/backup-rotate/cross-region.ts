// RDS cross-region backup for a policy with `crossRegion`: the instance's cross-region policy made
// to match the config on each run, the copies in the other region listed and planned with the same
// GFS retention, and what the other region has recorded for a drill when the home region is down.
import type { RdsCrossBackup } from '../../shared/cloud/adapters/rds.ts';
import type { Cloud } from '../../shared/cloud/cloud.ts';
import type { Store } from '../../shared/store/port.ts';
import { planRetention } from './retention.ts';
import type { Policy } from './rotate.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Engines RDS copies across regions (ModifyInstanceCrossBackupPolicy's documentation). */
const CROSS_ENGINES = ['MySQL', 'PostgreSQL', 'SQLServer'];

type Retention = Policy['retention'];
type Cross = NonNullable<Policy['crossRegion']>;

/**
 * How long RDS must keep the copies so that every copy GFS keeps is still there: the oldest a kept
 * backup can be (N buckets back, plus the bucket itself), within RDS's 7 to 1825 days.
 */
export function crossRetentionDays(r: Retention): number {
  const spans = [
    r.daily > 0 ? r.daily + 1 : 0,
    r.weekly > 0 ? (r.weekly + 1) * 7 : 0,
    r.monthly > 0 ? (r.monthly + 1) * 31 : 0,
    r.yearly > 0 ? (r.yearly + 1) * 366 : 0,
    Math.ceil(r.minAgeHours / 24),
  ];
  return Math.min(1825, Math.max(7, ...spans));
}

export interface CrossPolicyCheck {
  /** ok: as configured; fixed: it was not, and now is; drift: it is not (a dry run changes nothing); unsupported: RDS cannot. */
  status: 'ok' | 'fixed' | 'drift' | 'unsupported';
  detail: string;
}

/** Compare the instance's cross-region backup settings with the policy's, and unless dry run, fix them. */
export async function ensureCrossPolicy(
  cloud: Cloud,
  instanceId: string,
  engine: string,
  policy: Policy,
  dryRun: boolean,
): Promise<CrossPolicyCheck> {
  const cross = policy.crossRegion as Cross;
  if (!CROSS_ENGINES.includes(engine))
    return {
      status: 'unsupported',
      detail: `RDS does not copy ${engine} backups across regions (only ${CROSS_ENGINES.join(', ')})`,
    };
  const offered = await cloud.rds.crossRegions();
  if (!offered.includes(cross.region))
    return {
      status: 'unsupported',
      detail: `RDS does not copy backups from this region to ${cross.region} (offered: ${offered.join(', ') || 'none'})`,
    };
  const want = {
    region: cross.region,
    retentionDays: crossRetentionDays(policy.retention),
    logBackup: cross.logBackup,
  };
  const have = await cloud.rds.crossBackupPolicy(instanceId);
  const differences: string[] = [];
  if (have.BackupEnabled !== 'Enable') differences.push('cross-region backup is off');
  else {
    if (have.CrossBackupRegion !== want.region)
      differences.push(`copies go to ${have.CrossBackupRegion ?? 'nowhere'}, not ${want.region}`);
    if (Number(have.Retention) !== want.retentionDays)
      differences.push(`copies are kept ${have.Retention ?? '?'} days, not ${want.retentionDays}`);
    if ((have.LogBackupEnabled === 'Enable') !== want.logBackup)
      differences.push(
        `log backup is ${have.LogBackupEnabled === 'Enable' ? 'on' : 'off'}, not ${want.logBackup ? 'on' : 'off'}`,
      );
  }
  const asked = `copies to ${want.region}, kept ${want.retentionDays} days${want.logBackup ? ', with logs' : ''}`;
  if (differences.length === 0) return { status: 'ok', detail: asked };
  if (dryRun) return { status: 'drift', detail: `${differences.join('; ')} (dry run: left as is)` };
  await cloud.rds.setCrossBackupPolicy(instanceId, want);
  return { status: 'fixed', detail: `${differences.join('; ')}: now ${asked}` };
}

/** Every copy of the instance's backups in the other region, newest first, back to the policy's horizon. */
export async function listCopies(
  cloud: Cloud,
  instanceId: string,
  policy: Policy,
  now: Date,
): Promise<RdsCrossBackup[]> {
  const region = (policy.crossRegion as Cross).region;
  const horizon = crossRetentionDays(policy.retention) + 31;
  const out: RdsCrossBackup[] = [];
  for (let end = now.getTime() + DAY; end > now.getTime() - horizon * DAY; end -= 30 * DAY)
    out.push(
      ...(await cloud.rds.listCrossBackups(instanceId, region, {
        start: new Date(end - 30 * DAY),
        end: new Date(end),
      })),
    );
  const seen = new Set<number>();
  return out
    .filter((c) => !seen.has(c.CrossBackupId) && seen.add(c.CrossBackupId))
    .sort((a, b) => b.BackupStartTime.localeCompare(a.BackupStartTime));
}

export interface CopiesReport {
  region: string;
  policy: CrossPolicyCheck;
  copies: number;
  kept: number;
  /**
   * Copies the plan does not keep. RDS has no call that deletes one copy: they go when they are
   * older than the retention fc-devops sets, which is the longest the plan keeps any backup.
   */
  expiring: string[];
  newestCopy?: string | undefined;
  /** The newest successful backup has no copy there, and is older than the lag the policy allows. */
  behind?: string | undefined;
  error?: string;
}

/** The same GFS plan over the copies, and whether the other region is behind. */
export function planCopies(
  copies: RdsCrossBackup[],
  newestBackup: { id: string; start: string } | undefined,
  policy: Policy,
  now: Date,
): Omit<CopiesReport, 'policy'> {
  const cross = policy.crossRegion as Cross;
  const plan = planRetention(
    copies.map((c) => ({
      id: String(c.CrossBackupId),
      start: new Date(c.BackupStartTime),
      status: c.BackupSetStatus === 0 ? 'Success' : 'Failed',
      deletable: true,
      ours: true,
    })),
    { ...policy.retention, deleteForeign: true, freshHours: policy.intervalHours },
    now,
  );
  const expiring = plan.filter((d) => d.action === 'delete').map((d) => d.id);
  const newestCopy = copies.find((c) => c.BackupSetStatus === 0);
  let behind: string | undefined;
  if (newestBackup && now.getTime() - Date.parse(newestBackup.start) > cross.maxLagHours * HOUR) {
    // A copy is the same backup set: it carries the source's start time.
    const copied = copies.some((c) => c.BackupStartTime === newestBackup.start && c.BackupSetStatus === 0);
    if (!copied)
      behind = `backup ${newestBackup.id} (${newestBackup.start}) has no copy in ${cross.region} after ${cross.maxLagHours} h`;
  }
  return {
    region: cross.region,
    copies: copies.length,
    kept: plan.length - expiring.length,
    expiring,
    newestCopy: newestCopy?.BackupStartTime,
    behind,
  };
}

/** What the drill needs to restore in the other region, recorded while the home region answers. */
export interface RecordedCopies {
  region: string;
  engine: string;
  engineVersion: string;
  instanceClass: string;
  storageGB?: number;
  copies: { id: string; start: string }[];
}

export const copiesKey = (instanceId: string) => `backup:copies:${instanceId}`;

export async function recordCopies(store: Store, instanceId: string, record: RecordedCopies): Promise<void> {
  await store.appendHistory(copiesKey(instanceId), {
    value: { ...record, copies: record.copies.slice(0, 20) },
  });
}

export async function recordedCopies(store: Store, instanceId: string): Promise<RecordedCopies | undefined> {
  const [last] = await store.readHistory<RecordedCopies>(copiesKey(instanceId), { limit: 1 });
  return last?.value;
}
