import * as z from 'zod/mini';
import { lazySchema } from '../events/parse.ts';

export const Severity = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof Severity)[number];

/**
 * What happened, for people. Every function publishes these; `notify` routes and delivers them.
 * Example: `{ "id": "…", "kind": "image.build.failed", "severity": "error", "subject": "pipeline web @ 9c1e0b5",
 *   "summary": "packer build failed", "details": { "exitCode": 1 }, "links": [{ "title": "run", "url": "…" }],
 *   "labels": { "team": "platform" }, "time": "2026-11-27T10:00:00Z", "correlationId": "…", "runId": "…" }`
 */
export const NotifyEventSchema = lazySchema(() =>
  z.object({
    id: z.string().check(z.minLength(1), z.maxLength(128)),
    kind: z
      .string()
      .check(
        z.regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/, 'expected a dotted kind such as image.build.failed'),
        z.maxLength(128),
      ),
    severity: z.enum(Severity),
    subject: z.string().check(z.minLength(1), z.maxLength(500)),
    summary: z.string().check(z.minLength(1), z.maxLength(2000)),
    details: z._default(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])), {}),
    links: z._default(
      z
        .array(z.object({ title: z.string().check(z.minLength(1), z.maxLength(200)), url: z.url() }))
        .check(z.maxLength(10)),
      [],
    ),
    labels: z._default(z.record(z.string(), z.string()), {}),
    time: z.iso.datetime({ offset: true }),
    correlationId: z.optional(z.string().check(z.maxLength(128))),
    runId: z.optional(z.string().check(z.maxLength(128))),
  }),
);
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
