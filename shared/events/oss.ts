import * as z from 'zod/mini';
import { isRecord } from '../util/records.ts';
import { lazySchema, parseWith } from './parse.ts';

/**
 * One record of the event an OSS trigger delivers (FC docs, "formats of event for different triggers"):
 * `{ "events": [ { "eventName": "ObjectCreated:PutObject", "eventSource": "acs:oss", "oss": { "bucket": {...},
 * "object": { "key": "source/a.png", "eTag": "688A…", "size": 122539 } }, "region": "cn-hangzhou", ... } ] }`
 */
export const OssRecordSchema = lazySchema(() =>
  z.object({
    eventName: z
      .string()
      .check(z.regex(/^Object(Created|Removed|Modified):\w+$/, 'expected e.g. ObjectCreated:PutObject')),
    eventSource: z.literal('acs:oss'),
    eventTime: z.iso.datetime({ offset: true }),
    eventVersion: z.string(),
    oss: z.object({
      bucket: z.object({
        arn: z.string(),
        name: z.string().check(z.minLength(3), z.maxLength(63)),
        ownerIdentity: z.string(),
        virtualBucket: z.optional(z.string()),
      }),
      object: z.object({
        deltaSize: z.optional(z.int()),
        eTag: z.optional(z.string()),
        key: z.string().check(z.minLength(1), z.maxLength(1023)),
        size: z.optional(z.int().check(z.nonnegative())),
      }),
      ossSchemaVersion: z.string(),
      ruleId: z.string(),
    }),
    region: z.string(),
    requestParameters: z.partial(z.object({ sourceIPAddress: z.string() })),
    responseElements: z.partial(z.object({ requestId: z.string() })),
    userIdentity: z.partial(z.object({ principalId: z.string() })),
  }),
);
export type OssRecord = z.infer<typeof OssRecordSchema>;

export const OssEventSchema = lazySchema(() =>
  z.object({ events: z.array(OssRecordSchema).check(z.minLength(1)) }),
);
export type OssEvent = z.infer<typeof OssEventSchema>;

export function isOssEvent(value: unknown): boolean {
  return (
    isRecord(value) &&
    Array.isArray(value.events) &&
    value.events.some((e) => isRecord(e) && e.eventSource === 'acs:oss')
  );
}

export function parseOssEvent(value: unknown): OssEvent {
  return parseWith(OssEventSchema, value, 'OSS event');
}
