import { randomUUID } from 'node:crypto';
import type * as z from 'zod/mini';
import { ParseError } from '../runtime/errors.ts';
import { isRecord, own } from '../util/records.ts';
import { EnvelopeCheck } from './envelope-check.ts';
import { parseWith } from './parse.ts';

/** FC rejects async invocation payloads over 128 KB. */
export const MAX_JOB_BYTES = 128 * 1024;

/**
 * The internal job message one function sends another by async invocation. Example:
 * `{ "kind": "image.build", "idempotencyKey": "delivery:3f2a…:pipeline:web", "payload": { "commit": "9c1e…" },
 *    "correlationId": "c0ffee…", "attempt": 1, "id": "…", "createdAt": "2026-11-27T10:00:00.000Z" }`
 * Payloads bigger than 128 KB go to OSS and travel by reference.
 */
export interface JobMessage<P = unknown> {
  id: string;
  kind: string;
  idempotencyKey: string;
  payload: P;
  correlationId: string;
  attempt: number;
  createdAt: string;
}

const KIND = {
  re: /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/,
  message: 'expected a dotted lower-case kind such as image.build',
};

/** Check a job message's envelope (its payload is the kind's schema's to check). */
export function checkJobMessage(value: unknown): JobMessage {
  const check = new EnvelopeCheck();
  const job = check.object(value, []);
  if (!job) throw new ParseError('job message', check.issues);
  const id = check.string(job.id, ['id'], { min: 1, max: 128 });
  const kind = check.string(job.kind, ['kind'], { pattern: KIND, max: 128 });
  const idempotencyKey = check.string(job.idempotencyKey, ['idempotencyKey'], { min: 1, max: 512 });
  check.present(job, 'payload', []);
  const correlationId = check.string(job.correlationId, ['correlationId'], { min: 1, max: 128 });
  const attempt = check.int(job.attempt, ['attempt'], 1, 1000);
  const createdAt = check.string(job.createdAt, ['createdAt'], { datetime: true });
  if (check.issues.length) throw new ParseError('job message', check.issues);
  return {
    id: id!,
    kind: kind!,
    idempotencyKey: idempotencyKey!,
    payload: job.payload,
    correlationId: correlationId!,
    attempt: attempt!,
    createdAt: createdAt!,
  };
}

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
  checkJobMessage(message);
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
  const message = checkJobMessage(value);
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
