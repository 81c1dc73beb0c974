import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { CloudError, NetworkError } from '../../shared/cloud/errors.ts';
import { cloudFor, KEY, startSandbox } from './harness.ts';

describe('retries against injected faults', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => sandbox?.stop());

  const calls = (action: string) => sandbox.calls.filter((c) => c.action === action);

  it('gets throttled and failing calls through by retrying', async () => {
    sandbox.faults.set('DescribeScalingGroups', { failNext: 2, failWith: 'throttle' });
    sandbox.faults.set('DescribeDBInstanceAttribute', { failNext: 2, failWith: 'error' });
    sandbox.faults.set('DescribeClusterNodePools', { failNext: 1, failWith: 'unavailable' });
    const cloud = cloudFor(sandbox);
    expect((await cloud.ess.scalingGroups(['asg-bp1sandbox0001']))[0]?.ScalingGroupId).toBe(
      'asg-bp1sandbox0001',
    );
    expect((await cloud.rds.instanceAttribute('rm-bp1sandbox0001')).DBInstanceId).toBe('rm-bp1sandbox0001');
    expect(await cloud.ack.nodePools('c-sandbox0001')).toHaveLength(1);
    expect(calls('DescribeScalingGroups').map((c) => c.code)).toEqual([
      'Throttling.User',
      'Throttling.User',
      undefined,
    ]);
    expect(calls('DescribeDBInstanceAttribute').map((c) => c.code)).toEqual([
      'InternalError',
      'InternalError',
      undefined,
    ]);
  });

  it('fails at once, with the code, on errors a retry cannot fix', async () => {
    const before = calls('DescribeDBInstanceAttribute').length;
    const error = await cloudFor(sandbox)
      .rds.instanceAttribute('rm-missing')
      .catch((e) => e);
    expect(error).toBeInstanceOf(CloudError);
    expect(error).toMatchObject({
      upstreamCode: 'InvalidDBInstanceId.NotFound',
      status: 404,
      retryable: false,
    });
    expect(calls('DescribeDBInstanceAttribute').length).toBe(before + 1);
  });

  it('gives up after the last attempt on a service that keeps failing', async () => {
    sandbox.faults.set('DescribeImages', { failNext: 10, failWith: 'unavailable' });
    const error = await cloudFor(sandbox)
      .ecs.describeImages()
      .catch((e) => e);
    expect(error).toMatchObject({ upstreamCode: 'ServiceUnavailable', retryable: true });
    expect(calls('DescribeImages').length).toBe(5);
    sandbox.faults.clear();
  });

  it('does a retried mutating call once: the ClientToken is the same on every attempt', async () => {
    const before = Object.keys(sandbox.state.ecs.instances).length;
    sandbox.faults.set('RunInstances', { loseResponseNext: 2 });
    const cloud = cloudFor(sandbox);
    const { instanceId } = await cloud.ecs.runInstance({
      imageId: 'm-bp1sandboxweb03',
      instanceType: 'ecs.g7.large',
      vSwitchId: 'v',
      securityGroupId: 's',
      autoReleaseTime: new Date(Date.now() + 3_600_000),
    });
    expect(calls('RunInstances').map((c) => c.status)).toEqual([503, 503, 200]);
    expect(Object.keys(sandbox.state.ecs.instances).length).toBe(before + 1);
    expect(sandbox.state.ecs.instances[instanceId]).toBeDefined();
  });

  it('times out a slow call and retries it as a network error', async () => {
    sandbox.faults.set('DescribeScalingActivities', { latencyMs: 400, failNext: 0 });
    const cloud = createCloud({
      region: 'cn-hangzhou',
      accountId: '1',
      baseUrl: sandbox.url,
      credentials: async () => KEY,
      timeoutMs: 100,
      retry: { attempts: 2, baseMs: 1, maxMs: 5 },
    });
    const error = await cloud.ess.scalingActivities('asg-bp1sandbox0001').catch((e) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toMatch(/DescribeScalingActivities did not complete/);
    sandbox.faults.clear();
  });

  it('reads credentials afresh for every call, so rotated STS keys are used', async () => {
    let reads = 0;
    const cloud = createCloud({
      region: 'cn-hangzhou',
      accountId: '1',
      baseUrl: sandbox.url,
      credentials: async () => {
        reads++;
        return KEY;
      },
    });
    await cloud.rds.instanceAttribute('rm-bp1sandbox0001');
    await cloud.fc.getAlias('demo-api', 'prod');
    await cloud.oss.put('fc-devops-artifacts', 'k', Buffer.from('v'));
    expect(reads).toBe(3);
  });

  it('keeps secrets out of error messages', async () => {
    const error = await cloudFor(sandbox, {
      accessKeyId: KEY.accessKeyId,
      accessKeySecret: 'wrong-secret-value',
    })
      .rds.instanceAttribute('rm-bp1sandbox0001')
      .catch((e) => e);
    expect(error.upstreamCode).toBe('SignatureDoesNotMatch');
    expect(error.message).not.toMatch(/Signature=|wrong-secret-value|sandbox-test-secret/);
  });
});
