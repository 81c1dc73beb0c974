import * as z from 'zod/mini';
import { ParseError } from '../runtime/errors.ts';
import { lazySchema, parseWith } from './parse.ts';
import { humanText } from './text.ts';

/** `dimensions` and `expression` come as JSON arrays (the JSON sample) or as JSON strings (form posts). */
const jsonList = <T extends z.ZodMiniType>(item: T) =>
  z.pipe(
    z.transform((v: unknown) => {
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    }),
    z.array(item).check(z.maxLength(100)),
  );

/**
 * The body CloudMonitor POSTs to a threshold-alert callback URL (doc 60714), as form fields or JSON.
 * Example: `{"userId":"12345","alertName":"web-cpu","timestamp":"1508136760","alertState":"ALARM",
 *   "dimensions":[{"userId":"12345","instanceId":"i-12345"}],
 *   "expression":"[{\"expression\":\"$Average>90\",\"level\":4,\"times\":2}]",
 *   "curValue":"95","metricName":"CPUUtilization","metricProject":"acs_ecs_dashboard"}`
 * `alertState` is documented as OK | ALERT | INSUFFICIENT_DATA; the sample says ALARM, read as ALERT.
 * CloudMonitor retries three times with a 5-second timeout: answer fast.
 */
export const CloudMonitorAlarmSchema = lazySchema(() =>
  z.object({
    // Names go into idempotency keys, history and messages: no control characters.
    userId: z.optional(humanText(64)),
    alertName: z.pipe(humanText(256), z.string().check(z.minLength(1))),
    timestamp: z.string().check(z.regex(/^\d{9,13}$/, 'expected epoch seconds (or milliseconds)')),
    alertState: z.pipe(
      z.enum(['OK', 'ALERT', 'ALARM', 'INSUFFICIENT_DATA']),
      z.transform((s) => (s === 'ALARM' ? 'ALERT' : s)),
    ),
    dimensions: z._default(jsonList(z.record(z.string(), z.string())), []),
    expression: z._default(
      jsonList(
        z.object({
          expression: z.string().check(z.maxLength(500)),
          level: z.optional(z.number()),
          times: z.optional(z.number()),
        }),
      ),
      [],
    ),
    curValue: z.optional(humanText(64)),
    metricName: z.pipe(humanText(256), z.string().check(z.minLength(1))),
    metricProject: z.optional(humanText(256)),
  }),
);
export type CloudMonitorAlarm = z.infer<typeof CloudMonitorAlarmSchema>;

/** Read a callback body by its content type: form fields, or JSON. A bad body is a ParseError naming the field. */
export function parseCloudMonitorAlarm(body: Buffer, contentType: string | undefined): CloudMonitorAlarm {
  const text = body.toString('utf8');
  let value: unknown;
  if ((contentType ?? '').toLowerCase().includes('application/json') || text.trimStart().startsWith('{')) {
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new ParseError('alarm callback', [
        { path: [], message: `not valid JSON (${(cause as Error).message})` },
      ]);
    }
  } else {
    value = Object.fromEntries(new URLSearchParams(text));
  }
  return parseWith(CloudMonitorAlarmSchema, value, 'alarm callback');
}

/** When the alarm was raised or cleared (seconds or milliseconds since the epoch, as sent). */
export const alarmTime = (a: CloudMonitorAlarm) =>
  new Date(a.timestamp.length > 10 ? Number(a.timestamp) : Number(a.timestamp) * 1000);
