// What a check or an alarm does when it fires: a job for the function that owns the change, so its
// guard rails (the release target's lock, the scaling planner's bounds and cooldowns) decide.
import { enqueueJob } from '../../shared/cloud/jobs.ts';
import type { MonitorAction } from '../../shared/config/schema/monitoring.ts';
import { RELEASE_ROLLBACK_JOB, type ReleaseRollbackJob } from '../../shared/jobs/release-rollback.ts';
import { SCALE_ALARM_JOB, type ScaleAlarmJob } from '../../shared/jobs/scale-alarm.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';

/** Enqueue the action once per `key` (an incident, an alarm firing): FC keeps the first task. */
export async function takeAction(
  ctx: Pick<HandlerContext, 'cloud' | 'correlationId'>,
  action: MonitorAction,
  key: string,
  by: string,
  reason: string,
): Promise<string> {
  if ('rollback' in action) {
    const job = await enqueueJob<ReleaseRollbackJob>(ctx.cloud.fc, 'release', {
      kind: RELEASE_ROLLBACK_JOB,
      idempotencyKey: `monitor:${key}`,
      payload: { target: action.rollback, by, reason: reason.slice(0, 500) },
      correlationId: ctx.correlationId,
    });
    return `rollback of ${action.rollback} (job ${job.id})`;
  }
  const job = await enqueueJob<ScaleAlarmJob>(ctx.cloud.fc, 'scale', {
    kind: SCALE_ALARM_JOB,
    idempotencyKey: `monitor:${key}`,
    payload: {
      target: action.scale.target,
      key: `monitor:${key}`.slice(0, 600),
      step: action.scale.step,
      alarm: by.slice(0, 256),
      metric: 'monitor',
      value: '',
    },
    correlationId: ctx.correlationId,
  });
  return `scale ${action.scale.target} by ${action.scale.step} (job ${job.id})`;
}
