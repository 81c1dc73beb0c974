import CsModule, * as $cs from '@alicloud/cs20151215';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { KEY, routeAliyunHostsHere, startSandbox } from './harness.ts';

/**
 * The official Container Service SDK (@alicloud/cs20151215), unmodified, against the sandbox for the
 * four ACK calls the functions make. It calls its API at the root of `cs.<region>.aliyuncs.com`, as
 * the sandbox serves it: the test resolves that name to this machine, nothing else changes.
 */
const CsClient = ((CsModule as unknown as { default?: unknown }).default ??
  CsModule) as typeof CsModule.default;

describe('the official Container Service SDK against the sandbox', () => {
  let sandbox: Sandbox;
  let restoreDns = () => {};
  beforeAll(async () => {
    sandbox = await startSandbox();
    restoreDns = routeAliyunHostsHere();
  });
  afterAll(async () => {
    restoreDns();
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
