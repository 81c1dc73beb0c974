import * as z from 'zod';

export const Severity = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof Severity)[number];

/**
 * What happened, for people. Every function publishes these; `notify` routes and delivers them.
 * Example: `{ "id": "…", "kind": "image.build.failed", "severity": "error", "subject": "pipeline web @ 9c1e0b5",
 *   "summary": "packer build failed", "details": { "exitCode": 1 }, "links": [{ "title": "run", "url": "…" }],
 *   "labels": { "team": "platform" }, "time": "2026-11-27T10:00:00Z", "correlationId": "…", "runId": "…" }`
 */
export const NotifyEventSchema = z.object({
  id: z.string().min(1).max(128),
  kind: z
    .string()
    .regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/, 'expected a dotted kind such as image.build.failed')
    .max(128),
  severity: z.enum(Severity),
  subject: z.string().min(1).max(500),
  summary: z.string().min(1).max(2000),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
  links: z
    .array(z.object({ title: z.string().min(1).max(200), url: z.url() }))
    .max(10)
    .default([]),
  labels: z.record(z.string(), z.string()).default({}),
  time: z.iso.datetime({ offset: true }),
  correlationId: z.string().max(128).optional(),
  runId: z.string().max(128).optional(),
});
export type NotifyEvent = z.infer<typeof NotifyEventSchema>;

const PROBLEM = new Set(['failed', 'error', 'errored', 'rejected', 'rolled-back', 'timed-out', 'down']);
const OK = new Set(['succeeded', 'passed', 'resolved', 'completed', 'recovered', 'up', 'promoted']);

/** Whether the kind reports a problem, a success, or neither (by its last segment). */
export function outcome(kind: string): 'problem' | 'ok' | 'neutral' {
  const last = kind.slice(kind.lastIndexOf('.') + 1);
  if (PROBLEM.has(last)) return 'problem';
  if (OK.has(last)) return 'ok';
  return 'neutral';
}

/** `image.build.failed` and `image.build.succeeded` are one family: `image.build`. */
export function family(kind: string): string {
  return kind.slice(0, kind.lastIndexOf('.'));
}

export const severityRank = (s: Severity) => Severity.indexOf(s);
