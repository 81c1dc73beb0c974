import * as z from 'zod';
import { parseSchedule } from '../../schedule/cron.ts';
import { name, severity } from './common.ts';
import { secretRef } from './secret.ts';

function isSchedule(text: string): boolean {
  try {
    parseSchedule(text);
    return true;
  } catch {
    return false;
  }
}

/** The timer ticks once a minute: a check cannot be probed more often. */
export const MIN_INTERVAL_MS = 60_000;

const interval = z
  .string()
  .default('@every 1m')
  .superRefine((value, ctx) => {
    try {
      const s = parseSchedule(value);
      if (s.everyMs !== undefined && s.everyMs < MIN_INTERVAL_MS)
        ctx.addIssue({ code: 'custom', message: `${value} is shorter than the minimum interval, 1m` });
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });

/** What a check, or an alarm, does when it fires: through the existing functions and their guard rails. */
export const monitorAction = z.union([
  z.strictObject({ rollback: name }),
  z.strictObject({ scale: z.strictObject({ target: name, step: z.number().int().min(-1000).max(1000) }) }),
]);

const common = {
  interval,
  /** Regions whose deployment runs the check; every region's when absent. */
  regions: z.array(z.string().regex(/^[a-z]{2}(-[a-z0-9]+)+$/)).optional(),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  /** Down after this many failed probes in a row; up again after `successesBeforeUp` good ones. */
  failuresBeforeDown: z.number().int().min(1).max(100).default(3),
  successesBeforeUp: z.number().int().min(1).max(100).default(1),
  severity: severity.default('error'),
  /** Breached when, over the window, availability falls below or the percentile latency rises above. */
  objective: z
    .strictObject({
      windowMinutes: z
        .number()
        .int()
        .min(5)
        .max(30 * 1440)
        .default(60),
      availabilityPercent: z.number().min(0).max(100).optional(),
      latencyMs: z.number().int().positive().optional(),
      percentile: z.union([z.literal(50), z.literal(95), z.literal(99)]).default(95),
    })
    .optional(),
  /** Taken once per incident when the check goes down. */
  action: monitorAction.optional(),
};

export const monitorCheck = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('http'),
    url: z.url({ protocol: /^https?$/ }),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    /** Header values are secret references: a token never sits in the file. */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), secretRef).default({}),
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]),
    bodyContains: z.string().min(1).max(1000).optional(),
    /** `$.a.b[0]`: the JSON value there must equal `equals` (compared as JSON). */
    json: z
      .strictObject({ path: z.string().regex(/^\$(\.[A-Za-z_][\w-]*|\[\d+\])*$/), equals: z.unknown() })
      .optional(),
    /** Warn (once per certificate) when the server's TLS certificate expires within this many days. */
    certExpiryWarnDays: z.number().int().min(1).max(365).optional(),
    ...common,
  }),
  z.strictObject({
    kind: z.literal('tcp'),
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65_535),
    ...common,
  }),
  z.strictObject({
    kind: z.literal('dns'),
    name: z
      .string()
      .regex(/^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9_-]+\.?$/),
    recordType: z.enum(['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS']).default('A'),
    /** A resolver (`ip` or `ip:port`); the system's when absent. */
    server: z.string().max(60).optional(),
    /** Values the answer must include. */
    expect: z.array(z.string().max(255)).default([]),
    ...common,
  }),
]);

export const maintenanceWindow = z
  .strictObject({
    checks: z.array(z.string().min(1)).min(1).default(['*']),
    /** A one-off window... */
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    /** ...or a recurring one: starts at each firing and lasts `durationMinutes`. */
    schedule: z.string().optional(),
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 1440)
      .optional(),
    reason: z.string().max(300).optional(),
  })
  .refine(
    (w) =>
      (w.from !== undefined && w.to !== undefined) !==
      (w.schedule !== undefined && w.durationMinutes !== undefined),
    'give from and to, or schedule and durationMinutes',
  )
  .refine((w) => !w.schedule?.trim().startsWith('@every'), {
    message: 'a recurring window needs a cron schedule (an @every interval has no fixed start)',
    path: ['schedule'],
  })
  .refine((w) => w.schedule === undefined || isSchedule(w.schedule), {
    message: 'not a valid schedule',
    path: ['schedule'],
  });

export const monitoring = z
  .strictObject({
    checks: z.record(name, monitorCheck).default({}),
    maintenance: z.array(maintenanceWindow).default([]),
    /** Probe results are kept this long. */
    retentionDays: z.number().int().min(1).max(400).default(35),
    /** CloudMonitor alarm callbacks: `POST /monitor/alarms/<secret>`; and what each alarm (by name) does. */
    alarms: z
      .strictObject({
        secret: secretRef,
        severity: severity.default('error'),
        actions: z.record(z.string().min(1).max(256), monitorAction).default({}),
      })
      .optional(),
  })
  .default({ checks: {}, maintenance: [], retentionDays: 35 });

export type MonitorCheck = z.infer<typeof monitorCheck>;
export type MonitorAction = z.infer<typeof monitorAction>;
