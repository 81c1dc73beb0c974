import { describe, expect, it } from 'vitest';
import { credentialsFrom } from '../../shared/cloud/credentials.ts';
import { endpointFor } from '../../shared/cloud/endpoints.ts';
import { CloudError, isRetryableCode, NetworkError } from '../../shared/cloud/errors.ts';
import { collect, pagesByNumber, pagesByToken } from '../../shared/cloud/paging.ts';
import { pollUntil } from '../../shared/cloud/poll.ts';
import { withRetry } from '../../shared/cloud/retry.ts';
import { ConfigError } from '../../shared/runtime/errors.ts';

describe('retry policy', () => {
  const run = async (errors: Error[], random = 1) => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        const e = errors[calls++];
        if (e) throw e;
        return 'ok';
      },
      {
        attempts: 5,
        baseMs: 100,
        maxMs: 1000,
        sleep: async (ms) => void delays.push(ms),
        random: () => random,
      },
    ).catch((e) => e);
    return { result, delays, calls };
  };
  const throttled = (retryAfterMs?: number) =>
    new CloudError('ecs', 'DescribeImages', {
      code: 'Throttling.User',
      status: 400,
      ...(retryAfterMs ? { retryAfterMs } : {}),
    });

  it('backs off exponentially with full jitter up to the cap', async () => {
    const { result, delays } = await run([throttled(), throttled(), throttled(), throttled()]);
    expect(result).toBe('ok');
    expect(delays).toEqual([100, 200, 400, 800]);
    expect((await run([throttled(), throttled()], 0.5)).delays).toEqual([50, 100]);
  });

  it('waits as long as x-acs-retry-after asks', async () => {
    expect((await run([throttled(3000), throttled(500)])).delays).toEqual([1000, 500]);
  });

  it('does not retry errors a retry cannot fix, and stops after the last attempt', async () => {
    const notFound = new CloudError('rds', 'DescribeBackups', {
      code: 'InvalidDBInstanceId.NotFound',
      status: 404,
    });
    expect(await run([notFound])).toMatchObject({ result: notFound, calls: 1, delays: [] });
    const fiveFailures = Array.from(
      { length: 6 },
      () => new NetworkError('rds', 'DescribeBackups', new Error('ECONNRESET')),
    );
    expect(await run(fiveFailures)).toMatchObject({ calls: 5 });
  });

  it('classifies codes as the SDKs and Terraform provider do', () => {
    for (const code of [
      'Throttling',
      'Throttling.User',
      'Throttling.Api',
      'Rejected.Throttling',
      'ServiceUnavailable',
      'InternalError',
    ]) {
      expect(isRetryableCode(code, 400)).toBe(true);
    }
    for (const code of [
      'SignatureDoesNotMatch',
      'InvalidAccessKeyId.NotFound',
      'MissingParameter',
      'InvalidParameter',
      'InvalidTimeStamp.Expired',
      'InvalidImageId.NotFound',
    ]) {
      expect(isRetryableCode(code, 400)).toBe(false);
    }
    expect(isRetryableCode('SomethingOdd', 502)).toBe(true);
    expect(isRetryableCode('SomethingOdd', 403)).toBe(false);
  });
});

describe('pagination and polling', () => {
  it('walks PageNumber pages until TotalCount', async () => {
    const pages: number[] = [];
    const items = await collect(
      pagesByNumber(async (n) => {
        pages.push(n);
        return { items: Array.from({ length: n < 3 ? 10 : 5 }, (_, i) => (n - 1) * 10 + i), total: 25 };
      }),
    );
    expect(items).toHaveLength(25);
    expect(pages).toEqual([1, 2, 3]);
  });

  it('follows NextToken until it is empty', async () => {
    const tokens: (string | undefined)[] = [];
    const items = await collect(
      pagesByToken(async (t) => {
        tokens.push(t);
        return t === undefined ? { items: [1, 2], nextToken: 'b' } : { items: [3], nextToken: undefined };
      }),
    );
    expect(items).toEqual([1, 2, 3]);
    expect(tokens).toEqual([undefined, 'b']);
  });

  it('polls to a terminal state, or reports the deadline with the last state', async () => {
    let t = 0;
    const now = () => new Date(t);
    const sleep = async (ms: number) => {
      t += ms;
    };
    let n = 0;
    const done = await pollUntil(
      async () => ++n,
      (v) => v === 3,
      { deadline: new Date(60_000), intervalMs: 1000, now, sleep },
    );
    expect(done).toEqual({ status: 'done', value: 3, polls: 3 });
    const late = await pollUntil(
      async () => 'Uploading',
      (v) => v === 'Finished',
      { deadline: new Date(t + 5000), intervalMs: 1000, now, sleep },
    );
    expect(late).toMatchObject({ status: 'deadline', last: 'Uploading' });
  });
});

describe('credentials and endpoints', () => {
  it('prefers the FC context, falls back to the environment, and says what is missing', async () => {
    const ctx = { credentials: { accessKeyId: 'STS.a', accessKeySecret: 's', securityToken: 'tok' } };
    expect(await credentialsFrom(ctx, {})()).toEqual({
      accessKeyId: 'STS.a',
      accessKeySecret: 's',
      securityToken: 'tok',
    });
    const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI1', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'x' };
    expect(await credentialsFrom(undefined, env)()).toEqual({ accessKeyId: 'LTAI1', accessKeySecret: 'x' });
    await expect(credentialsFrom(undefined, {})()).rejects.toBeInstanceOf(ConfigError);
  });

  it('maps products to regional endpoints, or everything under the sandbox URL', () => {
    expect(endpointFor('ecs', { region: 'cn-shanghai', accountId: '1' })).toBe(
      'https://ecs.cn-shanghai.aliyuncs.com',
    );
    expect(endpointFor('ess', { region: 'cn-zhangjiakou', accountId: '1' })).toBe(
      'https://ess.cn-zhangjiakou.aliyuncs.com',
    );
    expect(endpointFor('ess', { region: 'cn-hangzhou', accountId: '1' })).toBe('https://ess.aliyuncs.com');
    expect(endpointFor('fc', { region: 'cn-hangzhou', accountId: '123' })).toBe(
      'https://123.cn-hangzhou.fc.aliyuncs.com',
    );
    expect(
      endpointFor('rds', { region: 'cn-hangzhou', accountId: '1', baseUrl: 'http://127.0.0.1:8788/' }),
    ).toBe('http://127.0.0.1:8788/rds');
    // FC 3.0 and OSS path-style live at the root of the sandbox, as on the cloud.
    expect(
      endpointFor('oss', { region: 'cn-hangzhou', accountId: '1', baseUrl: 'http://127.0.0.1:8788/' }),
    ).toBe('http://127.0.0.1:8788');
    expect(
      endpointFor('fc', { region: 'cn-hangzhou', accountId: '1', baseUrl: 'http://127.0.0.1:8788' }),
    ).toBe('http://127.0.0.1:8788');
    expect(
      endpointFor('rds', { region: 'x', accountId: '1', overrides: { rds: 'https://rds-vpc.example/' } }),
    ).toBe('https://rds-vpc.example');
  });
});

describe('launch template data', () => {
  it("flattens a version's data into CreateLaunchTemplateVersion parameters", async () => {
    const { flattenTemplateData } = await import('../../shared/cloud/adapters/ecs.ts');
    expect(
      flattenTemplateData({
        ImageId: 'm-1',
        InstanceType: 'ecs.g7.large',
        'SystemDisk.Category': 'cloud_essd',
        InternetMaxBandwidthOut: 0,
        Description: '',
        DataDisks: { DataDisk: [{ Size: 40, Category: 'cloud_essd', SnapshotId: '' }] },
        Tags: { InstanceTag: [{ Key: 'team', Value: 'web' }] },
        SecurityGroupIds: { SecurityGroupId: ['sg-1', 'sg-2'] },
      }),
    ).toEqual({
      ImageId: 'm-1',
      InstanceType: 'ecs.g7.large',
      'SystemDisk.Category': 'cloud_essd',
      InternetMaxBandwidthOut: 0,
      'DataDisk.1.Size': 40,
      'DataDisk.1.Category': 'cloud_essd',
      'Tag.1.Key': 'team',
      'Tag.1.Value': 'web',
      'SecurityGroupIds.1': 'sg-1',
      'SecurityGroupIds.2': 'sg-2',
    });
  });
});
