import * as z from 'zod';
import { isRecord } from '../util/records.ts';
import { parseWith } from './parse.ts';

/**
 * One record of the event an OSS trigger delivers (FC docs, "formats of event for different triggers"):
 * `{ "events": [ { "eventName": "ObjectCreated:PutObject", "eventSource": "acs:oss", "oss": { "bucket": {...},
 * "object": { "key": "source/a.png", "eTag": "688A…", "size": 122539 } }, "region": "cn-hangzhou", ... } ] }`
 */
export const OssRecordSchema = z.object({
  eventName: z
    .string()
    .regex(/^Object(Created|Removed|Modified):\w+$/, 'expected e.g. ObjectCreated:PutObject'),
  eventSource: z.literal('acs:oss'),
  eventTime: z.iso.datetime({ offset: true }),
  eventVersion: z.string(),
  oss: z.object({
    bucket: z.object({
      arn: z.string(),
      name: z.string().min(3).max(63),
      ownerIdentity: z.string(),
      virtualBucket: z.string().optional(),
    }),
    object: z.object({
      deltaSize: z.number().int().optional(),
      eTag: z.string().optional(),
      key: z.string().min(1).max(1023),
      size: z.number().int().nonnegative().optional(),
    }),
    ossSchemaVersion: z.string(),
    ruleId: z.string(),
  }),
  region: z.string(),
  requestParameters: z.object({ sourceIPAddress: z.string() }).partial(),
  responseElements: z.object({ requestId: z.string() }).partial(),
  userIdentity: z.object({ principalId: z.string() }).partial(),
});
export type OssRecord = z.infer<typeof OssRecordSchema>;

export const OssEventSchema = z.object({ events: z.array(OssRecordSchema).min(1) });
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
