import * as z from 'zod/mini';
import { lazySchema } from '../events/parse.ts';

/**
 * A scaling step asked of `scale` by an alarm: CloudMonitor's (through scale's own receiver) or a
 * monitoring check's or alarm's action (through `monitor`). Its planner's guard rails decide.
 */
export const SCALE_ALARM_JOB = 'scale.alarm';

export const ScaleAlarmJob = lazySchema(() =>
  z.object({
    target: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/)),
    key: z.string().check(z.minLength(1), z.maxLength(600)),
    step: z.int(),
    alarm: z.string().check(z.minLength(1), z.maxLength(256)),
    metric: z.string().check(z.maxLength(256)),
    value: z.string().check(z.maxLength(64)),
  }),
);
export type ScaleAlarmJob = z.infer<typeof ScaleAlarmJob>;
