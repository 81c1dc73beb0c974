import dns from 'node:dns';
import CsModule, * as $cs from '@alicloud/cs20151215';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { KEY, startSandbox } from './harness.ts';

/**
 * The official Container Service SDK (@alicloud/cs20151215), unmodified, against the sandbox for the
 * four ACK calls the functions make. It calls its API at the root of `cs.<region>.aliyuncs.com`, as
 * the sandbox serves it: the test resolves that name to this machine, nothing else changes.
 */
const CsClient = ((CsModule as unknown as { default?: unknown }).default ??
  CsModule) as typeof CsModule.default;

describe('the official Container Service SDK against the sandbox', () => {
  let sandbox: Sandbox;
  const lookup = dns.lookup;
  beforeAll(async () => {
    sandbox = await startSandbox();
    // The cloud's host names lead here, as a hosts file would make them.
    (dns as { lookup: unknown }).lookup = (
      host: string,
      options: unknown,
      done?: (...args: unknown[]) => void,
    ) => {
      const cb = (typeof options === 'function' ? options : done) as (...args: unknown[]) => void;
      const opts = (typeof options === 'object' && options ? options : {}) as { all?: boolean };
      if (!host.endsWith('.aliyuncs.com')) return (lookup as (...a: unknown[]) => void)(host, options, done);
      return opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
    };
  });
  afterAll(async () => {
    (dns as { lookup: unknown }).lookup = lookup;
    await sandbox?.stop();
  });

  const client = (keys = KEY) =>
    new CsClient(
      new $OpenApiUtil.Config({
        ...keys,
        endpoint: `cs.cn-hangzhou.aliyuncs.com:${new URL(sandbox.url).port}`,
        protocol: 'http',
        regionId: 'cn-hangzhou',
      }),
    );

  it('lists node pools, resizes one and follows its task, and issues a temporary kubeconfig', async () => {
    const cs = client();
    const pools = await cs.describeClusterNodePools(
      'c-sandbox0001',
      new $cs.DescribeClusterNodePoolsRequest({}),
    );
    expect(pools.statusCode).toBe(200);
    const pool = pools.body?.nodepools?.[0];
    expect(pool?.nodepoolInfo?.nodepoolId).toBe('np-sandbox0001');
    expect(pool?.scalingGroup?.desiredSize).toBe(3);

    const resized = await cs.modifyClusterNodePool(
      'c-sandbox0001',
      'np-sandbox0001',
      new $cs.ModifyClusterNodePoolRequest({
        scalingGroup: new $cs.ModifyClusterNodePoolRequestScalingGroup({ desiredSize: 5 }),
      }),
    );
    expect(resized.body?.taskId).toEqual(expect.any(String));
    const task = await cs.describeTaskInfo(resized.body!.taskId!);
    expect(task.body?.taskId).toBe(resized.body!.taskId);
    expect(task.body?.state).toEqual(expect.any(String));

    const kubeconfig = await cs.describeClusterUserKubeconfig(
      'c-sandbox0001',
      new $cs.DescribeClusterUserKubeconfigRequest({ temporaryDurationMinutes: 15 }),
    );
    expect(kubeconfig.body?.config).toContain('kind: Config');
    expect(kubeconfig.body?.expiration).toEqual(expect.any(String));
  });

  it('refuses a wrong secret and an unknown cluster as ACK does', async () => {
    const wrong = await client({ ...KEY, accessKeySecret: 'wrong' })
      .describeClusterNodePools('c-sandbox0001', new $cs.DescribeClusterNodePoolsRequest({}))
      .catch((e: { code?: string }) => e);
    expect((wrong as { code?: string }).code).toBe('SignatureDoesNotMatch');
    const missing = await client()
      .describeClusterNodePools('c-nope', new $cs.DescribeClusterNodePoolsRequest({}))
      .catch((e: { code?: string; statusCode?: number }) => e);
    expect((missing as { statusCode?: number }).statusCode).toBe(404);
  });
});
