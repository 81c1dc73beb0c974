import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { ParseError } from '../runtime/errors.ts';
import { isRecord, own } from '../util/records.ts';
import { lazySchema, parseWith } from './parse.ts';

/** FC rejects async invocation payloads over 128 KB. */
export const MAX_JOB_BYTES = 128 * 1024;

/**
 * The internal job message one function sends another by async invocation. Example:
 * `{ "kind": "image.build", "idempotencyKey": "delivery:3f2a…:pipeline:web", "payload": { "commit": "9c1e…" },
 *    "correlationId": "c0ffee…", "attempt": 1, "id": "…", "createdAt": "2026-11-27T10:00:00.000Z" }`
 * Payloads bigger than 128 KB go to OSS and travel by reference.
 */
export const JobMessageSchema = lazySchema(() =>
  z.object({
    id: z.string().check(z.minLength(1), z.maxLength(128)),
    kind: z
      .string()
      .check(
        z.regex(
          /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/,
          'expected a dotted lower-case kind such as image.build',
        ),
        z.maxLength(128),
      ),
    idempotencyKey: z.string().check(z.minLength(1), z.maxLength(512)),
    payload: z.unknown(),
    correlationId: z.string().check(z.minLength(1), z.maxLength(128)),
    attempt: z.int().check(z.gte(1), z.lte(1000)),
    createdAt: z.iso.datetime({ offset: true }),
  }),
);
export type JobMessage<P = unknown> = Omit<z.infer<typeof JobMessageSchema>, 'payload'> & { payload: P };

export function isJobMessage(value: unknown): boolean {
  return isRecord(value) && typeof value.kind === 'string' && 'idempotencyKey' in value;
}

/** Build a job message and check that it fits in one async invocation. */
export function createJob<P>(input: {
  kind: string;
  idempotencyKey: string;
  payload: P;
  correlationId?: string;
  attempt?: number;
  now?: Date;
}): { message: JobMessage<P>; bytes: Buffer } {
  const message: JobMessage<P> = {
    id: randomUUID(),
    kind: input.kind,
    idempotencyKey: input.idempotencyKey,
    payload: input.payload,
    correlationId: input.correlationId ?? randomUUID(),
    attempt: input.attempt ?? 1,
    createdAt: (input.now ?? new Date()).toISOString(),
  };
  parseWith(JobMessageSchema, message, 'job message');
  const bytes = Buffer.from(JSON.stringify(message));
  if (bytes.length > MAX_JOB_BYTES) {
    throw new ParseError('job message', [
      {
        path: ['payload'],
        message: `job is ${bytes.length} bytes; at most ${MAX_JOB_BYTES} fit in an async invocation`,
      },
    ]);
  }
  return { message, bytes };
}

/** Parse a job message and its payload against the schema registered for its kind. */
export function parseJob<S extends z.ZodMiniType>(
  value: unknown,
  kinds: Readonly<Record<string, S>>,
): JobMessage<z.infer<S>> {
  const message = parseWith(JobMessageSchema, value, 'job message');
  const schema = own(kinds, message.kind);
  if (!schema) {
    throw new ParseError('job message', [
      {
        path: ['kind'],
        message: `unknown kind "${message.kind}"; expected one of ${Object.keys(kinds).join(', ')}`,
      },
    ]);
  }
  const payload = parseWith(schema, message.payload, 'job payload', ['payload']);
  return { ...message, payload };
}
