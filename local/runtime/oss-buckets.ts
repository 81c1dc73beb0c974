import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import type { OssRecord } from '../../shared/events/oss.ts';
import type { FunctionSpec, OssTrigger } from './s-yaml.ts';

export interface OssNotification {
  functionName: string;
  trigger: OssTrigger;
  event: { events: OssRecord[] };
}

/**
 * Local OSS buckets as directories. Writing or deleting an object raises the FC OSS event for every
 * trigger whose bucket, event names and key prefix/suffix match, as OSS event notification does.
 * The sandbox cloud's OSS API writes through here.
 */
export class LocalBuckets {
  constructor(
    private readonly root: string,
    private readonly region: string,
    private readonly accountId: string,
    private readonly functions: () => readonly FunctionSpec[],
    private readonly notify: (n: OssNotification) => void,
  ) {}

  put(
    bucket: string,
    key: string,
    body: Buffer,
    eventName = 'ObjectCreated:PutObject',
  ): { eTag: string; size: number } {
    const file = this.pathOf(bucket, key);
    mkdirSync(dirname(file), { recursive: true });
    let previous = 0;
    try {
      previous = statSync(file).size;
    } catch {}
    writeFileSync(file, body);
    const eTag = createHash('md5').update(body).digest('hex').toUpperCase();
    this.emit(bucket, key, eventName, { eTag, size: body.length, deltaSize: body.length - previous });
    return { eTag, size: body.length };
  }

  get(bucket: string, key: string): Buffer | undefined {
    try {
      return readFileSync(this.pathOf(bucket, key));
    } catch {
      return undefined;
    }
  }

  delete(bucket: string, key: string): boolean {
    const file = this.pathOf(bucket, key);
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      return false;
    }
    rmSync(file);
    this.emit(bucket, key, 'ObjectRemoved:DeleteObject', { size: 0, deltaSize: -size });
    return true;
  }

  private pathOf(bucket: string, key: string): string {
    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`invalid bucket name "${bucket}"`);
    if (key.length === 0 || key.length > 1023 || key.startsWith('/'))
      throw new Error(`invalid object key "${key}"`);
    const file = normalize(join(this.root, bucket, key));
    if (!file.startsWith(join(this.root, bucket) + sep))
      throw new Error(`object key "${key}" leaves the bucket`);
    return file;
  }

  private emit(
    bucket: string,
    key: string,
    eventName: string,
    object: { eTag?: string; size: number; deltaSize: number },
  ): void {
    for (const fn of this.functions()) {
      for (const trigger of fn.oss) {
        if (!ossTriggerMatches(trigger, bucket, key, eventName)) continue;
        const record: OssRecord = {
          eventName,
          eventSource: 'acs:oss',
          eventTime: new Date().toISOString(),
          eventVersion: '1.0',
          oss: {
            bucket: {
              arn: `acs:oss:${this.region}:${this.accountId}:${bucket}`,
              name: bucket,
              ownerIdentity: this.accountId,
            },
            object: {
              key,
              size: object.size,
              deltaSize: object.deltaSize,
              ...(object.eTag ? { eTag: object.eTag } : {}),
            },
            ossSchemaVersion: '1.0',
            ruleId: createHash('sha1').update(`${fn.name}/${trigger.triggerName}`).digest('hex'),
          },
          region: this.region,
          requestParameters: { sourceIPAddress: '127.0.0.1' },
          responseElements: {
            requestId: createHash('sha1')
              .update(`${bucket}/${key}/${Date.now()}`)
              .digest('hex')
              .slice(0, 24)
              .toUpperCase(),
          },
          userIdentity: { principalId: this.accountId },
        };
        this.notify({ functionName: fn.name, trigger, event: { events: [record] } });
      }
    }
  }
}

/** Bucket from the trigger's sourceArn; `oss:ObjectCreated:*` style names; key prefix and suffix. */
export function ossTriggerMatches(
  trigger: OssTrigger,
  bucket: string,
  key: string,
  eventName: string,
): boolean {
  if (trigger.sourceArn.split(':')[4] !== bucket) return false;
  const named = trigger.triggerConfig.events.some((pattern) => {
    const [, family, action] = pattern.split(':');
    const [eventFamily, eventAction] = eventName.split(':');
    return family === eventFamily && (action === '*' || action === eventAction);
  });
  if (!named) return false;
  const filter = trigger.triggerConfig.filter.key ?? {};
  return key.startsWith(filter.prefix ?? '') && key.endsWith(filter.suffix ?? '');
}
