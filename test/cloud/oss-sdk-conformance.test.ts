import { randomBytes } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:http';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { cloudFor, KEY, officialOss, startSandbox } from './harness.ts';

/** The official OSS SDK (ali-oss), unmodified, against the sandbox (see `officialOss`). */
const client = officialOss;

const failure = async (call: Promise<unknown>) => {
  try {
    await call;
  } catch (error) {
    const e = error as { code?: string; status?: number };
    return { code: e.code, status: e.status };
  }
  return { code: 'no error' };
};

describe('the official OSS SDK (ali-oss) against the sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => sandbox?.stop());

  it('puts, heads, gets, lists and deletes an object byte for byte', async () => {
    const oss = client(sandbox);
    const body = randomBytes(256 * 1024);
    const put = await oss.put('sdk/a b+c.bin', body);
    expect(put.res.status).toBe(200);
    const head = await oss.head('sdk/a b+c.bin');
    expect((head.res.headers as Record<string, string>)['content-length']).toBe(String(body.length));
    const got = await oss.get('sdk/a b+c.bin');
    expect(Buffer.compare(got.content as Buffer, body)).toBe(0);
    const listed = await oss.list({ prefix: 'sdk/', 'max-keys': 10 }, {});
    expect(listed.objects?.map((o) => o.name)).toEqual(['sdk/a b+c.bin']);
    await oss.delete('sdk/a b+c.bin');
    expect(await failure(oss.get('sdk/a b+c.bin'))).toMatchObject({ code: 'NoSuchKey', status: 404 });
  });

  it('speaks virtual-hosted style too, as ali-oss does by default (the bucket in the Host)', async () => {
    // ali-oss without sldEnable asks for <bucket>.oss-cn-hangzhou.aliyuncs.com; an agent that
    // resolves every name to this machine brings that request, Host and all, to the sandbox.
    const port = new URL(sandbox.url).port;
    const lookup = (_host: string, options: { all?: boolean }, done: (...args: unknown[]) => void) =>
      options.all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4);
    const agent = new Agent({ lookup } as AgentOptions);
    const oss = new OSS({
      ...KEY,
      region: 'oss-cn-hangzhou',
      endpoint: `http://oss-cn-hangzhou.aliyuncs.com:${port}`,
      bucket: 'fc-devops-artifacts',
      secure: false,
      ...{ authorizationV4: true, agent },
    });
    const body = randomBytes(64 * 1024);
    await oss.put('hosted/x y.bin', body);
    const got = await oss.get('hosted/x y.bin');
    expect(Buffer.compare(got.content as Buffer, body)).toBe(0);
    expect((await oss.list({ prefix: 'hosted/', 'max-keys': 10 }, {})).objects?.map((o) => o.name)).toEqual([
      'hosted/x y.bin',
    ]);
    // The same object, path-style: one bucket, whichever way it is addressed.
    expect(Buffer.compare((await client(sandbox).get('hosted/x y.bin')).content as Buffer, body)).toBe(0);
    const calls = (await (await fetch(`${sandbox.url}/_sandbox/calls`)).json()) as {
      action: string;
      params: { bucket?: string };
    }[];
    expect(calls.filter((c) => c.action === 'PutObject').map((c) => c.params.bucket)).toContain(
      'fc-devops-artifacts',
    );
    agent.destroy();
  });

  it('uploads a large object in parts and reads it back whole', async () => {
    const oss = client(sandbox);
    const body = randomBytes(3 * 1024 * 1024 + 123);
    const done = await oss.multipartUpload('sdk/big.bin', body, { partSize: 1024 * 1024, parallel: 2 });
    expect(done.res.status).toBe(200);
    const got = await oss.get('sdk/big.bin');
    expect((got.content as Buffer).length).toBe(body.length);
    expect(Buffer.compare(got.content as Buffer, body)).toBe(0);
  });

  it('aborts a multipart upload: its parts are gone and the object never appears', async () => {
    const oss = client(sandbox);
    const { uploadId } = await oss.initMultipartUpload('sdk/aborted.bin');
    const part = randomBytes(100 * 1024);
    await oss.uploadPart('sdk/aborted.bin', uploadId, 1, part as unknown as string, 0, part.length);
    const aborted = await oss.abortMultipartUpload('sdk/aborted.bin', uploadId);
    expect((aborted as unknown as { res: { status: number } }).res.status).toBe(204);
    expect(
      await failure(
        oss.uploadPart('sdk/aborted.bin', uploadId, 2, part as unknown as string, 0, part.length),
      ),
    ).toMatchObject({ code: 'NoSuchUpload', status: 404 });
    expect(
      await failure(oss.completeMultipartUpload('sdk/aborted.bin', uploadId, [{ number: 1, etag: '"x"' }])),
    ).toMatchObject({ code: 'NoSuchUpload', status: 404 });
    expect(await failure(oss.get('sdk/aborted.bin'))).toMatchObject({ code: 'NoSuchKey', status: 404 });
  });

  it('meets throttling as OSS throttles (503 TotalQpsLimitExceeded), and our client retries through it', async () => {
    sandbox.faults.set('PutObject', { failNext: 1, failWith: 'throttle' });
    expect(await failure(client(sandbox).put('sdk/throttled.txt', Buffer.from('t')))).toMatchObject({
      code: 'TotalQpsLimitExceeded',
      status: 503,
    });
    await client(sandbox).put('sdk/throttled.txt', Buffer.from('t'));
    // The functions' own OSS client takes the 503s as retryable and gets the object there.
    sandbox.faults.set('PutObject', { failNext: 2, failWith: 'throttle' });
    await cloudFor(sandbox).oss.put('fc-devops-artifacts', 'sdk/retried.txt', Buffer.from('r'));
    expect((await client(sandbox).get('sdk/retried.txt')).content.toString()).toBe('r');
    expect(sandbox.faults.list().PutObject).toMatchObject({ failNext: 0 });
    sandbox.faults.clear();
  });

  it('refuses a wrong secret and an unknown key as OSS does', async () => {
    expect(await failure(client(sandbox, { ...KEY, accessKeySecret: 'wrong' }).get('x'))).toMatchObject({
      code: 'SignatureDoesNotMatch',
      status: 403,
    });
    expect(
      await failure(client(sandbox, { accessKeyId: 'LTAI5tNobody', accessKeySecret: 'x' }).get('x')),
    ).toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
  });
});
