import FcModule, * as $fc from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import RPCClient from '@alicloud/pop-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { KEY, officialOss, startSandbox } from './harness.ts';

/**
 * What the official clients meet when the cloud's clock is far from theirs, or the cloud throttles
 * them: the sandbox's answers, read by the SDKs' own error handling, unmodified.
 */
const FcClient = ((FcModule as unknown as { default?: unknown }).default ??
  FcModule) as typeof FcModule.default;

const HOUR = 3_600_000;

async function failure(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    const e = error as { name?: string; code?: string; statusCode?: number; status?: number };
    return { name: e.name, code: e.code, status: e.statusCode ?? e.status };
  }
  return { code: 'no error' };
}

describe('the official SDKs meet expired timestamps and throttling as on the cloud', () => {
  let sandbox: Sandbox;
  // The cloud's wall clock, set ahead of the clients' by `skew`.
  let skew = 0;
  beforeAll(async () => {
    sandbox = await startSandbox({ wallClock: () => Date.now() + skew });
  });
  afterEach(() => {
    skew = 0;
    sandbox.faults.clear();
  });
  afterAll(async () => sandbox?.stop());

  const rds = () =>
    new RPCClient({
      endpoint: `${sandbox.url}/rds`,
      apiVersion: '2014-08-15',
      accessKeyId: KEY.accessKeyId,
      accessKeySecret: KEY.accessKeySecret,
    });
  const fc = () => {
    const url = new URL(sandbox.url);
    return new FcClient(
      new $OpenApiUtil.Config({ ...KEY, endpoint: url.host, protocol: 'http', regionId: 'cn-hangzhou' }),
    );
  };
  const oss = () => officialOss(sandbox);
  const describeInstances = () =>
    rds().request('DescribeDBInstances', { RegionId: 'cn-hangzhou' }, { method: 'POST' });

  it('pop-core (RPC): InvalidTimeStamp.Expired past 15 minutes, fine within them', async () => {
    skew = HOUR;
    expect(await failure(describeInstances())).toMatchObject({ code: 'InvalidTimeStamp.Expired' });
    skew = -HOUR;
    expect(await failure(describeInstances())).toMatchObject({ code: 'InvalidTimeStamp.Expired' });
    skew = 10 * 60_000;
    expect(await failure(describeInstances())).toEqual({ code: 'no error' });
  });

  it('pop-core (RPC): Throttling.User under flow control, then the same call goes through', async () => {
    sandbox.faults.set('DescribeDBInstances', { failNext: 1, failWith: 'throttle' });
    expect(await failure(describeInstances())).toMatchObject({ code: 'Throttling.User' });
    expect(await failure(describeInstances())).toEqual({ code: 'no error' });
  });

  it('the FC 3.0 SDK (ACS3): a ClientError for an expired x-acs-date, a ThrottlingError when throttled', async () => {
    const get = () => fc().getAlias('demo-api', 'prod');
    skew = HOUR;
    expect(await failure(get())).toMatchObject({
      name: 'ClientError',
      code: 'InvalidTimeStamp.Expired',
      status: 400,
    });
    skew = 0;
    sandbox.faults.set('GetAlias', { failNext: 1, failWith: 'throttle' });
    expect(await failure(get())).toMatchObject({ name: 'ThrottlingError', code: 'Throttling.User' });
    const alias = await get();
    expect(alias.body).toBeInstanceOf($fc.Alias);
    expect(alias.body?.aliasName).toBe('prod');
  });

  it('ali-oss (signature V4): RequestTimeTooSkewed for a request time far from the cloud’s', async () => {
    skew = HOUR;
    expect(await failure(oss().put('skew/a.txt', Buffer.from('a')))).toMatchObject({
      code: 'RequestTimeTooSkewed',
      status: 403,
    });
    skew = 0;
    await oss().put('skew/a.txt', Buffer.from('a'));
    expect((await oss().get('skew/a.txt')).content.toString()).toBe('a');
  });
});
