import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { json } from '../../shared/events/http.ts';
import { createJob } from '../../shared/events/job.ts';
import type { FcContext } from '../../shared/runtime/context.ts';
import { defineHandler, jobRoute } from '../../shared/runtime/define-handler.ts';
import { ConflictError, InvariantError, UpstreamError } from '../../shared/runtime/errors.ts';
import { fixture } from '../helpers.ts';

const context: FcContext = {
  requestId: 'req-1',
  credentials: { accessKeyId: 'id', accessKeySecret: 'secret' },
  function: { name: 'test-fn', handler: 'index.handler', memory: 512, timeout: 3 },
  service: {},
  region: 'cn-hangzhou',
  accountId: '1',
  logger: console,
};

const asBuffer = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('defineHandler', () => {
  const handler = defineHandler({
    // A function without an fc-devops.yaml.
    config: null,
    http: async (request) => {
      if (request.path === '/conflict')
        throw new ConflictError('release in progress', { state: { step: 2 } });
      if (request.path === '/upstream')
        throw new UpstreamError('ecs', 'DescribeImages failed', { code: 'Throttling' });
      if (request.path === '/bug') throw new InvariantError('secret-token-abc leaked into a bug');
      return json(200, { path: request.path });
    },
    timer: {
      payload: z.object({ policy: z.string() }),
      run: async (input) => ({ policy: input.payload.policy }),
    },
    oss: async (event) => event.events.length,
    jobs: {
      'image.build': jobRoute(z.object({ pipeline: z.string() }), async (payload, job, ctx) => ({
        pipeline: payload.pipeline,
        correlationId: ctx.correlationId,
        attempt: job.attempt,
      })),
    },
  });

  it('routes each event source to its handler', async () => {
    expect(await handler(asBuffer(fixture('http/get.json')), context)).toMatchObject({
      statusCode: 200,
      body: '{"path":"/example"}',
    });
    expect(await handler(asBuffer(fixture('timer/with-json-payload.json')), context)).toEqual({
      policy: 'orders-db',
    });
    expect(await handler(asBuffer(fixture('oss/put-object.json')), context)).toBe(1);
    expect(await handler(asBuffer(fixture('job/image-build.json')), context)).toEqual({
      pipeline: 'web',
      correlationId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      attempt: 1,
    });
  });

  it('answers a malformed HTTP event body field with 400 and the field path', async () => {
    const event = fixture<Record<string, any>>('http/get.json');
    event.requestContext.http.method = 42;
    const response = (await handler(asBuffer(event), context)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).issues).toEqual([
      { path: 'requestContext.http.method', message: expect.stringContaining('expected string') },
    ]);
  });

  it('maps conflict to 409 with state, upstream to 502, anything else to 500 without details', async () => {
    const call = async (path: string) => {
      const event = fixture<Record<string, any>>('http/get.json');
      event.requestContext.http.path = path;
      return (await handler(asBuffer(event), context)) as { statusCode: number; body: string };
    };
    const conflict = await call('/conflict');
    expect(conflict.statusCode).toBe(409);
    expect(JSON.parse(conflict.body).state).toEqual({ step: 2 });
    const upstream = await call('/upstream');
    expect(upstream.statusCode).toBe(502);
    expect(JSON.parse(upstream.body)).toMatchObject({ upstreamCode: 'Throttling' });
    const bug = await call('/bug');
    expect(bug.statusCode).toBe(500);
    expect(bug.body).not.toContain('secret-token-abc');
  });

  it('acknowledges an async event that fails its schema instead of throwing (no endless retries)', async () => {
    const job = fixture<Record<string, any>>('job/image-build.json');
    job.payload.pipeline = 7;
    expect(await handler(asBuffer(job), context)).toEqual({
      status: 'rejected',
      error: 'ParseError',
      issues: [{ path: 'payload.pipeline', message: expect.any(String) }],
    });
    expect(await handler(Buffer.from('not json'), context)).toMatchObject({ status: 'rejected' });
    expect(await handler(asBuffer({ hello: 'world' }), context)).toMatchObject({
      status: 'rejected',
      issues: [{ message: expect.stringContaining('accepts: http, timer, oss, jobs') }],
    });
  });

  it('rethrows other errors of async events so FC retries them', async () => {
    const failing = defineHandler({
      // A function without an fc-devops.yaml.
      config: null,
      jobs: {
        'image.build': jobRoute(z.object({}), async () => {
          throw new UpstreamError('packer', 'exited 1');
        }),
      },
    });
    const { bytes } = createJob({ kind: 'image.build', idempotencyKey: 'k', payload: {} });
    await expect(failing(bytes, context)).rejects.toThrow('packer: exited 1');
  });

  it('refuses an event of a source the function does not accept', async () => {
    const httpOnly = defineHandler({ config: null, http: async () => json(200, {}) });
    expect(await httpOnly(asBuffer(fixture('timer/timer.json')), context)).toMatchObject({
      status: 'rejected',
    });
  });

  it('refuses a job message over 128 KB', async () => {
    const job = fixture<Record<string, any>>('job/image-build.json');
    job.payload.pipeline = 'x'.repeat(140 * 1024);
    expect(await handler(asBuffer(job), context)).toMatchObject({
      status: 'rejected',
      issues: [{ message: expect.stringMatching(/at most 131072/) }],
    });
  });
});
