import { randomBytes } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:http';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { KEY, officialOss, startSandbox } from './harness.ts';

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
