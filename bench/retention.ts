import { type BackupFact, planRetention } from '../functions/backup-rotate/retention.ts';
import type { Figure } from './figures.ts';

const N = Number(process.env.BENCH_BACKUPS ?? 100_000);
const NOW = new Date('2026-11-27T10:00:00Z');
const POLICY = {
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

/** A small seeded generator: the same random history on every run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fact = (i: number, start: Date): BackupFact => ({
  id: `b${i}`,
  start,
  status: i % 97 === 5 ? 'Failed' : 'Success',
  deletable: true,
  ours: i % 3 !== 0,
});

function timePlan(
  backups: BackupFact[],
  policy: typeof POLICY,
): { median: number; min: number; deleted: number } {
  planRetention(backups.slice(0, 1000), policy, NOW);
  const runs: number[] = [];
  let deleted = 0;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    deleted = planRetention(backups, policy, NOW).filter((d) => d.action === 'delete').length;
    runs.push(performance.now() - t);
  }
  runs.sort((a, b) => a - b);
  return { median: runs[2]!, min: runs[0]!, deleted };
}

/**
 * The retention planner over 100,000 backups: about 11 years of hourly backups in Asia/Shanghai, and
 * the slow case, random times over 3 years in Europe/Berlin (six DST changes, every day crowded).
 */
export function runRetentionBench(): Figure[] {
  const hourly = Array.from({ length: N }, (_, i) => fact(i, new Date(NOW.getTime() - i * 3_600_000)));
  const random = mulberry32(15);
  const threeYears = 3 * 365 * 86_400_000;
  const scattered = Array.from({ length: N }, (_, i) =>
    fact(i, new Date(NOW.getTime() - Math.floor(random() * threeYears))),
  );
  const cases = [
    {
      id: 'retention:hourly',
      what: `retention ${N / 1000}k hourly, Shanghai`,
      backups: hourly,
      timeZone: 'Asia/Shanghai',
    },
    {
      id: 'retention:random',
      what: `retention ${N / 1000}k random, Berlin`,
      backups: scattered,
      timeZone: 'Europe/Berlin',
    },
  ];
  console.log(`\nretention planner: ${N} backups, median of 5`);
  return cases.map((c) => {
    const r = timePlan(c.backups, { ...POLICY, timeZone: c.timeZone });
    console.log(
      `  ${c.what.padEnd(34)} ${r.median.toFixed(1).padStart(7)} ms (min ${r.min.toFixed(1)} ms); ${r.deleted} planned for deletion`,
    );
    return { id: c.id, what: c.what, value: r.median, unit: 'ms', goal: 100, better: 'lower' as const };
  });
}
