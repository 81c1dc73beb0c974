import { type BackupFact, planRetention } from '../functions/backup-rotate/retention.ts';

/** The retention planner's time over 100,000 backups (about 11 years of hourly backups). */
export function runRetentionBench(): void {
  const now = new Date('2026-11-27T10:00:00Z');
  const n = Number(process.env.BENCH_BACKUPS ?? 100_000);
  const backups: BackupFact[] = Array.from({ length: n }, (_, i) => ({
    id: `b${i}`,
    start: new Date(now.getTime() - i * 3_600_000),
    status: i % 97 === 5 ? 'Failed' : 'Success',
    deletable: true,
    ours: i % 3 !== 0,
  }));
  const policy = {
    daily: 14,
    weekly: 8,
    monthly: 24,
    yearly: 10,
    minKeep: 3,
    minAgeHours: 24,
    timeZone: 'Asia/Shanghai',
    deleteForeign: false,
    freshHours: 24,
  };
  planRetention(backups.slice(0, 1000), policy, now);
  const runs: number[] = [];
  let deleted = 0;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    deleted = planRetention(backups, policy, now).filter((d) => d.action === 'delete').length;
    runs.push(performance.now() - t);
  }
  runs.sort((a, b) => a - b);
  console.log(
    `\nretention planner: ${n} backups, median of 5: ${runs[2]!.toFixed(1)} ms (min ${runs[0]!.toFixed(1)} ms); ${deleted} planned for deletion`,
  );
}
