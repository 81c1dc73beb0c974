import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { isHttpEvent, parseHttpEvent, parseJsonBody } from '../../shared/events/http.ts';
import { createJob, MAX_JOB_BYTES, parseJob } from '../../shared/events/job.ts';
import { isOssEvent, parseOssEvent } from '../../shared/events/oss.ts';
import { decodeJson } from '../../shared/events/parse.ts';
import { isTimerEvent, parseTimerEvent } from '../../shared/events/timer.ts';
import { ParseError } from '../../shared/runtime/errors.ts';
import { fixture } from '../helpers.ts';

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error('expected a ParseError');
}

const paths = (e: ParseError) => e.issues.map((i) => i.path.join('.'));

describe('timer envelope', () => {
  it('parses the documented FC3 timer event', () => {
    const input = parseTimerEvent(fixture('timer/timer.json'));
    expect(input.triggerName).toBe('timer-trigger');
    expect(input.triggerTime.toISOString()).toBe('2023-12-26T07:49:00.000Z');
    expect(isTimerEvent(fixture('timer/timer.json'))).toBe(true);
  });

  it('parses a JSON payload with the function schema', () => {
    const input = parseTimerEvent(fixture('timer/with-json-payload.json'), z.object({ policy: z.string() }));
    expect(input.payload).toEqual({ policy: 'orders-db' });
  });

  it('points at the payload field that is wrong', () => {
    const event = fixture('timer/with-json-payload.json');
    event.payload = '{"policy":42}';
    const error = parseError(() => parseTimerEvent(event, z.object({ policy: z.string() })));
    expect(paths(error)).toEqual(['payload.policy']);
  });

  it('rejects a payload that is not JSON when a schema expects one', () => {
    const event = fixture('timer/with-json-payload.json');
    event.payload = 'not json';
    expect(parseError(() => parseTimerEvent(event, z.object({ policy: z.string() }))).message).toMatch(
      /not valid JSON/,
    );
  });

  it('rejects a trigger time that is not a date', () => {
    const event = fixture('timer/timer.json');
    event.triggerTime = 'yesterday';
    expect(paths(parseError(() => parseTimerEvent(event)))).toEqual(['triggerTime']);
  });
});

describe('OSS envelope', () => {
  it('parses the documented OSS event', () => {
    const event = parseOssEvent(fixture('oss/put-object.json'));
    expect(event.events).toHaveLength(1);
    expect(event.events[0]?.oss.object).toMatchObject({ key: 'source/a.png', size: 122539 });
    expect(isOssEvent(fixture('oss/put-object.json'))).toBe(true);
  });

  it('re-roots errors at the record and field that are bad', () => {
    const event = fixture<{ events: Record<string, any>[] }>('oss/put-object.json');
    event.events.push(structuredClone(event.events[0]!));
    delete event.events[1]!.oss.bucket.name;
    expect(paths(parseError(() => parseOssEvent(event)))).toEqual(['events.1.oss.bucket.name']);
  });

  it('rejects an empty batch', () => {
    expect(paths(parseError(() => parseOssEvent({ events: [] })))).toEqual(['events']);
  });

  it('rejects unknown event names', () => {
    const event = fixture<{ events: Record<string, any>[] }>('oss/put-object.json');
    event.events[0]!.eventName = 'Something:Else';
    expect(paths(parseError(() => parseOssEvent(event)))).toEqual(['events.0.eventName']);
  });
});

describe('HTTP envelope', () => {
  it('parses the documented FC3 HTTP event with lower-cased headers', () => {
    const request = parseHttpEvent(fixture('http/get.json'));
    expect(request).toMatchObject({
      method: 'GET',
      path: '/example',
      rawPath: '/example',
      query: { parameter1: 'value1', parameter2: 'value1,value2' },
      requestId: '1-64f6cd87-*************',
    });
    expect(request.headers.header2).toBe('value1,value2');
    expect(request.body.toString()).toBe('Hello FC!');
    expect(isHttpEvent(fixture('http/get.json'))).toBe(true);
  });

  it('decodes base64 bodies byte for byte and keeps the raw path encoded', () => {
    const request = parseHttpEvent(fixture('http/post-base64.json'));
    expect([...request.body]).toEqual([0, 1, 2, 3, 255]);
    expect(request.rawPath).toBe('/upload%20it');
    expect(request.path).toBe('/upload it');
    expect(request.headers['x-hub-signature-256']).toMatch(/^sha256=/);
  });

  it('names the missing request-context field', () => {
    const event = fixture<Record<string, any>>('http/get.json');
    delete event.requestContext.http.method;
    expect(paths(parseError(() => parseHttpEvent(event)))).toEqual(['requestContext.http.method']);
  });

  it('parses a JSON body with a schema and points errors at body.<field>', () => {
    const event = fixture<Record<string, any>>('http/get.json');
    event.body = '{"version": 3}';
    const request = parseHttpEvent(event);
    const error = parseError(() => parseJsonBody(request, z.object({ version: z.string() })));
    expect(paths(error)).toEqual(['body.version']);
    event.body = '{oops';
    expect(parseError(() => parseJsonBody(parseHttpEvent(event), z.object({}))).message).toMatch(
      /body: not valid JSON/,
    );
  });
});

describe('job messages', () => {
  const schemas = {
    'image.build': z.object({ pipeline: z.string(), commit: z.string().length(40), branch: z.string() }),
  };

  it('parses a job and its payload by kind', () => {
    const job = parseJob(fixture('job/image-build.json'), schemas);
    expect(job.kind).toBe('image.build');
    expect(job.payload.pipeline).toBe('web');
    expect(job.attempt).toBe(1);
  });

  it('rejects an unknown kind, naming the known ones', () => {
    const job = fixture('job/image-build.json');
    job.kind = 'image.prune';
    expect(parseError(() => parseJob(job, schemas)).message).toMatch(
      /unknown kind "image.prune"; expected one of image.build/,
    );
    // A kind named like a property of every object is just another unknown kind.
    job.kind = 'constructor';
    expect(parseError(() => parseJob(job, schemas)).message).toMatch(/unknown kind "constructor"/);
  });

  it('points payload errors at payload.<field>', () => {
    const job = fixture<Record<string, any>>('job/image-build.json');
    job.payload.commit = 'short';
    expect(paths(parseError(() => parseJob(job, schemas)))).toEqual(['payload.commit']);
  });

  it('creates jobs that round-trip and refuses ones over 128 KB', () => {
    const { message, bytes } = createJob({
      kind: 'image.build',
      idempotencyKey: 'k',
      payload: { pipeline: 'web', commit: 'a'.repeat(40), branch: 'main' },
    });
    expect(parseJob(JSON.parse(bytes.toString()), schemas)).toEqual(message);
    const big = parseError(() =>
      createJob({ kind: 'image.build', idempotencyKey: 'k', payload: 'x'.repeat(MAX_JOB_BYTES) }),
    );
    expect(big.message).toMatch(/at most 131072 fit in an async invocation/);
  });

  it('rejects kinds that are not dotted lower-case words', () => {
    expect(() => createJob({ kind: 'Image Build', idempotencyKey: 'k', payload: {} })).toThrow(ParseError);
  });
});

describe('decodeJson', () => {
  it('decodes a Buffer and says when it is not JSON', () => {
    expect(decodeJson(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(() => decodeJson(Buffer.from([0xff, 0x00]))).toThrow(/not valid JSON/);
  });
});
