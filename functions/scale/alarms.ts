// What a CloudMonitor alarm asks of a target (pure): a step while it fires, and when it clears,
// how long its floor still holds before scale-in may go below it.
import type { CloudMonitorAlarm } from '../../shared/events/cloudmonitor.ts';
import type { Ask } from './planner.ts';

/** A target's rule for one metric: how many to add while its alarm fires (negative: to remove). */
export interface AlarmRule {
  metric: string;
  step: number;
}

export type AlarmOutcome =
  | { kind: 'step'; ask: Ask; key: string }
  | { kind: 'cleared'; key: string; floorUntil: Date }
  | { kind: 'ignored'; key: string; why: string }
  | { kind: 'unknown-metric'; why: string };

/**
 * The key an alarm's delivery is done once under: CloudMonitor retries the same alarm, state and
 * time up to three times, and each must change capacity at most once.
 */
export const alarmKey = (target: string, a: CloudMonitorAlarm) =>
  `alarm:${target}:${a.alertName}:${a.metricName}:${a.alertState}:${a.timestamp}`;

export function readAlarm(
  target: string,
  rules: readonly AlarmRule[],
  alarm: CloudMonitorAlarm,
  cooldownInSeconds: number,
  now: Date,
): AlarmOutcome {
  const rule = rules.find((r) => r.metric === alarm.metricName);
  if (!rule)
    return {
      kind: 'unknown-metric',
      why: `target ${target} has no alarm rule for metric ${alarm.metricName} (rules: ${rules.map((r) => r.metric).join(', ') || 'none'})`,
    };
  const key = alarmKey(target, alarm);
  if (alarm.alertState === 'ALERT')
    return { kind: 'step', key, ask: { source: 'alarm', step: rule.step, alarm: alarm.alertName } };
  if (alarm.alertState === 'OK')
    return { kind: 'cleared', key, floorUntil: new Date(now.getTime() + cooldownInSeconds * 1000) };
  return {
    kind: 'ignored',
    key,
    why: `alarm ${alarm.alertName} has no data (INSUFFICIENT_DATA): nothing to decide on`,
  };
}
