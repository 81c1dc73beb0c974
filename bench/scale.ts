import { firings, type ScheduleRule, simulate } from '../functions/scale/timeline.ts';
import { CALENDARS } from '../shared/schedule/calendar.ts';

/**
 * Planning a year of hourly schedule steps for 100 targets: each target's hourly rules on the cn
 * working calendar (workdays and days off), every firing through the planner, as `scale preview`
 * would for a year.
 */
export function runScaleBench(): void {
  const targets = Number(process.env.BENCH_SCALE_TARGETS ?? 100);
  const cn = CALENDARS.cn!;
  const from = new Date('2025-12-31T16:00:00Z');
  const to = new Date('2026-12-31T15:59:59Z');
  const t = performance.now();
  let steps = 0;
  let changes = 0;
  for (let i = 0; i < targets; i++) {
    const rules: ScheduleRule[] = [
      {
        name: 'work',
        schedule: 'CRON_TZ=Asia/Shanghai 0 0 * * * *',
        desired: 4 + (i % 7),
        days: 'workdays',
        calendar: cn,
      },
      {
        name: 'off',
        schedule: 'CRON_TZ=Asia/Shanghai 0 30 * * * *',
        desired: 2,
        days: 'non-workdays',
        calendar: cn,
      },
    ];
    const result = simulate(
      { min: 1, max: 50, maxStep: 3, cooldownOutSeconds: 600, cooldownInSeconds: 1800 },
      { desired: 2, load: { count: 1, why: 'one instance protected' } },
      firings(rules, from, to),
    );
    steps += result.length;
    changes += result.filter((s) => s.decision.change).length;
  }
  const ms = performance.now() - t;
  console.log(
    `\nscale planning: a year of hourly schedule steps for ${targets} targets on the cn calendar: ${steps} steps (${changes} changes) in ${ms.toFixed(0)} ms (${((ms * 1000) / steps).toFixed(1)} µs per step)`,
  );
}
