import { createHash, createHmac } from 'node:crypto';
import RPCClient from '@alicloud/pop-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { NonceCache } from '../../local/sandbox/signatures.ts';
import { percentEncode } from '../../shared/cloud/acs3.ts';
import { cloudFor, KEY, startSandbox } from './harness.ts';

/** Sign an RPC call by hand so each part of the signature can be got wrong on purpose. */
function rpcUrl(base: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.keys(params)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join('&');
  const signature = createHmac('sha1', `${secret}&`)
    .update(`GET&%2F&${percentEncode(canonical)}`)
    .digest('base64');
  return `${base}/rds/?${canonical}&Signature=${percentEncode(signature)}`;
}

const rpcParams = (overrides: Record<string, string> = {}) => ({
  Action: 'DescribeDBInstanceAttribute',
  Version: '2014-08-15',
  Format: 'JSON',
  AccessKeyId: KEY.accessKeyId,
  SignatureMethod: 'HMAC-SHA1',
  SignatureVersion: '1.0',
  SignatureNonce: createHash('sha1').update(String(Math.random())).digest('hex'),
  Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  DBInstanceId: 'rm-bp1sandbox0001',
  ...overrides,
});

describe('sandbox signature checks', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => sandbox?.stop());

  const code = async (url: string) => {
    const r = await fetch(url);
    return { status: r.status, code: ((await r.json()) as { Code?: string }).Code };
  };

  it('accepts a correctly signed RPC request', async () => {
    const r = await fetch(rpcUrl(sandbox.url, rpcParams(), KEY.accessKeySecret));
    expect(r.status).toBe(200);
    expect(
      ((await r.json()) as { Items: { DBInstanceAttribute: { DBInstanceId: string }[] } }).Items
        .DBInstanceAttribute[0]?.DBInstanceId,
    ).toBe('rm-bp1sandbox0001');
  });

  it('answers a wrong secret with SignatureDoesNotMatch', async () => {
    expect(await code(rpcUrl(sandbox.url, rpcParams(), 'not-the-secret'))).toEqual({
      status: 400,
      code: 'SignatureDoesNotMatch',
    });
  });

  it('answers an unknown key id with InvalidAccessKeyId.NotFound', async () => {
    expect(
      await code(rpcUrl(sandbox.url, rpcParams({ AccessKeyId: 'LTAIunknown' }), KEY.accessKeySecret)),
    ).toEqual({ status: 404, code: 'InvalidAccessKeyId.NotFound' });
  });

  it('answers a stale timestamp with InvalidTimeStamp.Expired', async () => {
    const stale = new Date(Date.now() - 20 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(await code(rpcUrl(sandbox.url, rpcParams({ Timestamp: stale }), KEY.accessKeySecret))).toEqual({
      status: 400,
      code: 'InvalidTimeStamp.Expired',
    });
  });

  it('refuses a replayed nonce', async () => {
    const url = rpcUrl(sandbox.url, rpcParams({ SignatureNonce: 'fixed-nonce-1' }), KEY.accessKeySecret);
    expect((await fetch(url)).status).toBe(200);
    expect(await code(url)).toEqual({ status: 400, code: 'SignatureNonceUsed' });
  });

  it('remembers a nonce for fifteen minutes, and forgets the expired ones as time passes', () => {
    const nonces = new NonceCache();
    const t0 = Date.UTC(2026, 11, 2);
    const minute = 60_000;
    for (let i = 0; i < 10; i++) nonces.use(`n${i}`, t0 + i * minute);
    expect(nonces.size).toBe(10);
    // Fifteen minutes after n0 it is still a replay; a millisecond later it has been forgotten.
    expect(() => nonces.use('n0', t0 + 15 * minute)).toThrow(
      expect.objectContaining({ code: 'SignatureNonceUsed' }),
    );
    nonces.use('fresh', t0 + 15 * minute + 1);
    expect(nonces.size).toBe(10); // n0 went, fresh came
    nonces.use('n0', t0 + 15 * minute + 2);
    // Twenty minutes on, only what was used in the last fifteen is kept: n6 to n9, fresh, n0, late.
    nonces.use('late', t0 + 20 * minute + 3);
    expect(nonces.size).toBe(7);
    expect(() => nonces.use('n6', t0 + 20 * minute + 4)).toThrow(
      expect.objectContaining({ code: 'SignatureNonceUsed' }),
    );
    nonces.use('n5', t0 + 20 * minute + 5);
  });

  it('answers unknown actions and versions with their codes, and missing parameters by name', async () => {
    expect(
      await code(rpcUrl(sandbox.url, rpcParams({ Action: 'DescribeNothing' }), KEY.accessKeySecret)),
    ).toEqual({ status: 404, code: 'InvalidAction.NotFound' });
    expect(
      await code(rpcUrl(sandbox.url, rpcParams({ Version: '2099-01-01' }), KEY.accessKeySecret)),
    ).toEqual({ status: 400, code: 'InvalidVersion' });
    const { DBInstanceId: _, ...without } = rpcParams();
    const r = await fetch(rpcUrl(sandbox.url, without, KEY.accessKeySecret));
    expect(await r.json()).toMatchObject({
      Code: 'MissingParameter',
      Message: expect.stringContaining('"DBInstanceId"'),
    });
    const bad = await fetch(
      rpcUrl(sandbox.url, rpcParams({ Action: 'DescribeBackups', PageSize: '7' }), KEY.accessKeySecret),
    );
    expect(await bad.json()).toMatchObject({
      Code: 'InvalidParameter',
      Message: expect.stringContaining('"PageSize"'),
    });
  });

  it('checks ROA, FC (ACS3) and OSS signatures too', async () => {
    const wrong = cloudFor(sandbox, { accessKeyId: KEY.accessKeyId, accessKeySecret: 'wrong' });
    await expect(wrong.ack.nodePools('c-sandbox0001')).rejects.toMatchObject({
      upstreamCode: 'SignatureDoesNotMatch',
      retryable: false,
    });
    await expect(wrong.fc.getAlias('demo-api', 'prod')).rejects.toMatchObject({
      upstreamCode: 'SignatureDoesNotMatch',
    });
    await expect(wrong.oss.get('fc-devops-artifacts', 'x')).rejects.toMatchObject({
      upstreamCode: 'SignatureDoesNotMatch',
      status: 403,
    });
    const unknown = cloudFor(sandbox, { accessKeyId: 'LTAInobody', accessKeySecret: 'x' });
    await expect(unknown.fc.getAlias('demo-api', 'prod')).rejects.toMatchObject({
      upstreamCode: 'InvalidAccessKeyId.NotFound',
    });
    await expect(unknown.ack.nodePools('c-sandbox0001')).rejects.toMatchObject({
      upstreamCode: 'InvalidAccessKeyId.NotFound',
    });
  });

  it('gives the official SDK (@alicloud/pop-core) the same answers as the adapters', async () => {
    const sdk = new RPCClient({
      endpoint: `${sandbox.url}/rds`,
      apiVersion: '2014-08-15',
      accessKeyId: KEY.accessKeyId,
      accessKeySecret: KEY.accessKeySecret,
    });
    const viaSdk = await sdk.request<{ Items: { Backup: { BackupId: string }[] }; TotalRecordCount: string }>(
      'DescribeBackups',
      { DBInstanceId: 'rm-bp1sandbox0001', PageSize: 100 },
      { method: 'GET' },
    );
    const viaAdapter = await cloudFor(sandbox).rds.listBackups('rm-bp1sandbox0001', {
      start: new Date(Date.now() - 400 * 86_400_000),
      end: new Date(Date.now() + 86_400_000),
    });
    expect(viaSdk.Items.Backup.map((b) => b.BackupId)).toEqual(viaAdapter.map((b) => b.BackupId));
    expect(Number(viaSdk.TotalRecordCount)).toBe(viaAdapter.length);
    const error = await sdk
      .request('DescribeDBInstanceAttribute', { DBInstanceId: 'rm-nope' }, { method: 'POST' })
      .catch((e: unknown) => e as { code: string });
    expect((error as { code: string }).code).toBe('InvalidDBInstanceId.NotFound');
    const ecs = new RPCClient({
      endpoint: `${sandbox.url}/ecs`,
      apiVersion: '2014-05-26',
      accessKeyId: KEY.accessKeyId,
      accessKeySecret: KEY.accessKeySecret,
    });
    const images = await ecs.request<{ TotalCount: number }>(
      'DescribeImages',
      { RegionId: 'cn-hangzhou', PageSize: 100 },
      { method: 'POST' },
    );
    expect(images.TotalCount).toBe(
      (await cloudFor(sandbox).ecs.describeImages({ status: 'Available' })).length,
    );
  });

  it('survives requests it cannot parse', async () => {
    const garbage = [
      fetch(`${sandbox.url}/rds/?%%%`, { method: 'POST', body: '\u0000\u00ff' }),
      fetch(`${sandbox.url}/cs/clusters/x/nodepools/y`, { method: 'PUT', body: '{not json' }),
      fetch(`${sandbox.url}/fc/2023-03-30/functions`, { method: 'DELETE' }),
      fetch(`${sandbox.url}/oss/INVALID_BUCKET/k`, { method: 'PUT', body: 'x' }),
      fetch(`${sandbox.url}/nowhere`),
      fetch(`${sandbox.url}/sinks/dingtalk/robot/send`, { method: 'POST', body: 'x' }),
    ];
    const statuses = (await Promise.all(garbage)).map((r) => r.status);
    expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
    expect((await fetch(`${sandbox.url}/_sandbox/faults`)).status).toBe(200);
  });
});
