// A scaling target in the cloud: what it is now, setting its size, following the change to its end.
import type { Cloud } from '../../shared/cloud/cloud.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import { UpstreamError } from '../../shared/runtime/errors.ts';

export type TargetConfig = Config['scaling']['targets'][string];

/** What the cloud says about a target now. */
export interface Observed {
  desired: number;
  /** The group's or pool's own bounds (the change must also fit them). */
  min: number;
  max: number;
  busy?: { id: string; kind: string; since: string };
  load: { count: number; why: string };
  autoscaler: boolean;
}

export async function observe(cloud: Cloud, t: TargetConfig): Promise<Observed> {
  if (t.kind === 'ess') {
    const [group] = await cloud.ess.scalingGroups([t.scalingGroupId]);
    if (!group) throw new UpstreamError('ess', `no scaling group ${t.scalingGroupId}`, { retryable: false });
    const running = (await cloud.ess.scalingActivities(t.scalingGroupId)).find(
      (a) => a.StatusCode === 'InProgress',
    );
    // Instances still joining belong to a running activity, which holds every change back anyway.
    const kept = (await cloud.ess.scalingInstances(t.scalingGroupId)).filter(
      (i) => i.LifecycleState === 'Protected',
    );
    return {
      desired: group.DesiredCapacity ?? group.TotalCapacity ?? 0,
      min: group.MinSize,
      max: group.MaxSize,
      ...(running
        ? { busy: { id: running.ScalingActivityId, kind: 'scaling activity', since: running.StartTime } }
        : {}),
      load: {
        count: kept.length,
        why: `${kept.length} instance(s) protected from scale-in`,
      },
      autoscaler: false,
    };
  }
  const pool = (await cloud.ack.nodePools(t.clusterId)).find(
    (p) => p.nodepool_info.nodepool_id === t.nodePoolId,
  );
  if (!pool)
    throw new UpstreamError('cs', `no node pool ${t.nodePoolId} in cluster ${t.clusterId}`, {
      retryable: false,
    });
  const state = pool.status.state;
  return {
    desired: pool.scaling_group.desired_size,
    min: 0,
    max: 1000,
    ...(state !== 'active' ? { busy: { id: t.nodePoolId, kind: `node pool (${state})`, since: 'now' } } : {}),
    // Which nodes still hold workload pods is the cluster's API to say, which fc-devops does not read yet.
    load: { count: 0, why: 'nodes holding workload are not read from the cluster yet' },
    autoscaler: pool.auto_scaling.enable,
  };
}

/** Set the size; the activity or task that carries it out. */
export async function setSize(
  cloud: Cloud,
  t: TargetConfig,
  desired: number,
): Promise<{ id: string; kind: string }> {
  if (t.kind === 'ess') {
    await cloud.ess.modifyScalingGroup(t.scalingGroupId, { desiredCapacity: desired });
    const started = (await cloud.ess.scalingActivities(t.scalingGroupId)).find(
      (a) => a.StatusCode === 'InProgress',
    );
    return { id: started?.ScalingActivityId ?? 'none', kind: 'scaling activity' };
  }
  const { taskId } = await cloud.ack.setDesiredSize(t.clusterId, t.nodePoolId, desired);
  return { id: taskId, kind: 'node pool task' };
}

/** Whether the activity or task ended, and how. */
export async function progress(
  cloud: Cloud,
  t: TargetConfig,
  id: string,
): Promise<{ done: boolean; ok: boolean; detail: string }> {
  if (t.kind === 'ess') {
    const [a] = await cloud.ess.scalingActivities(t.scalingGroupId, { ids: [id] });
    if (!a) return { done: true, ok: false, detail: `activity ${id} is not listed` };
    return {
      done: a.StatusCode !== 'InProgress',
      ok: a.StatusCode === 'Successful',
      detail: `${a.StatusCode} (${a.Progress} %)`,
    };
  }
  const task = await cloud.ack.task(id);
  return { done: task.state !== 'running', ok: task.state === 'success', detail: task.state };
}
