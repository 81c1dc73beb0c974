import * as z from 'zod';

/**
 * A scaling step asked of `scale` by an alarm: CloudMonitor's (through scale's own receiver) or a
 * monitoring check's or alarm's action (through `monitor`). Its planner's guard rails decide.
 */
export const SCALE_ALARM_JOB = 'scale.alarm';

export const ScaleAlarmJob = z.object({
  target: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
  key: z.string().min(1).max(600),
  step: z.number().int(),
  alarm: z.string().min(1).max(256),
  metric: z.string().max(256),
  value: z.string().max(64),
});
export type ScaleAlarmJob = z.infer<typeof ScaleAlarmJob>;
