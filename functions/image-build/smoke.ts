import type { EcsAdapter } from '../../shared/cloud/adapters/ecs.ts';
import { pollUntil } from '../../shared/cloud/poll.ts';
import type { Logger } from '../../shared/runtime/logger.ts';

export interface SmokeSpec {
  instanceType: string;
  vSwitchId: string;
  securityGroupId: string;
  script: string;
  timeoutMinutes: number;
}

export interface SmokeResult {
  passed: boolean;
  instanceId?: string;
  exitCode?: number;
  output: string;
  reason?: string;
}

const FINAL = new Set(['Success', 'Failed', 'Error', 'Timeout', 'Cancelled', 'Terminated', 'Stopped']);
/** ECS refuses an AutoReleaseTime less than 30 minutes ahead. */
const MIN_AUTO_RELEASE_MS = 30 * 60_000;

/**
 * Boot one instance from the image, run the test script on it with Cloud Assistant, and delete the
 * instance whatever happened. AutoReleaseTime is the safety net if this function dies half way.
 */
export async function smokeTest(
  ecs: EcsAdapter,
  imageId: string,
  spec: SmokeSpec,
  deps: {
    now: () => Date;
    log: Logger;
    tags: Record<string, string>;
    intervalMs?: number;
    /** The instance is running; the test script starts. */
    onBooted?: () => void;
  },
): Promise<SmokeResult> {
  const budget = spec.timeoutMinutes * 60_000;
  const start = deps.now();
  const { instanceId } = await ecs.runInstance({
    imageId,
    instanceType: spec.instanceType,
    vSwitchId: spec.vSwitchId,
    securityGroupId: spec.securityGroupId,
    autoReleaseTime: new Date(
      start.getTime() + Math.max(MIN_AUTO_RELEASE_MS + 5 * 60_000, budget + 30 * 60_000),
    ),
    tags: deps.tags,
  });
  deps.log.info('smoke test instance started', { instanceId, imageId });
  try {
    const deadline = new Date(start.getTime() + budget);
    const poll = { deadline, intervalMs: deps.intervalMs ?? 5000, maxIntervalMs: 15_000, now: deps.now };
    const running = await pollUntil(
      async () => (await ecs.describeInstances({ ids: [instanceId] }))[0]?.Status,
      (s) => s === 'Running',
      poll,
    );
    if (running.status !== 'done')
      return { passed: false, instanceId, output: '', reason: 'the instance did not reach Running in time' };
    deps.onBooted?.();
    const remaining = Math.max(60, Math.floor((deadline.getTime() - deps.now().getTime()) / 1000));
    const { invokeId } = await ecs.runCommand({
      instanceIds: [instanceId],
      script: spec.script,
      timeoutSeconds: remaining,
    });
    const done = await pollUntil(
      async () => (await ecs.invocationResults(invokeId))[0],
      (r) => !!r && FINAL.has(r.InvocationStatus),
      poll,
    );
    if (done.status !== 'done' || !done.value)
      return { passed: false, instanceId, output: '', reason: 'the test script did not finish in time' };
    const r = done.value;
    const passed = r.InvocationStatus === 'Success' && Number(r.ExitCode) === 0;
    return {
      passed,
      instanceId,
      exitCode: Number(r.ExitCode),
      output: r.Output ?? '',
      ...(passed
        ? {}
        : { reason: `the test script ended ${r.InvocationStatus} with exit code ${r.ExitCode}` }),
    };
  } finally {
    await ecs.deleteInstance(instanceId).then(
      () => deps.log.info('smoke test instance deleted', { instanceId }),
      (error) =>
        deps.log.error('smoke test instance not deleted; AutoReleaseTime will release it', {
          instanceId,
          error: (error as Error).message,
        }),
    );
  }
}
