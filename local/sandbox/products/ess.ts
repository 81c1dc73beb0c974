import { ApiError, intParam, listParam, notFound, optional, param } from '../api-error.ts';
import { iso } from '../clock.ts';
import { nextId, type SandboxState } from '../state.ts';
import { type Action, type ActionContext, idempotent, page } from './context.ts';

const ACTIVITY_MS = 2 * 60_000;

function group(ctx: ActionContext) {
  const id = param(ctx.params, 'ScalingGroupId');
  const g = ctx.state.ess.groups[id];
  if (!g) throw notFound('InvalidScalingGroupId.NotFound', `ScalingGroupId ${id}`);
  return g;
}

function inProgress(state: SandboxState, groupId: string, now: number) {
  return Object.values(state.ess.activities).find(
    (a) => a.groupId === groupId && a.createdAt + a.durationMs > now,
  );
}

function startActivity(ctx: ActionContext, groupId: string, to: number, cause: string): string {
  const g = ctx.state.ess.groups[groupId]!;
  const id = nextId(ctx.state, 'asa-sbx');
  ctx.state.ess.activities[id] = {
    id,
    groupId,
    createdAt: ctx.now,
    durationMs: ACTIVITY_MS,
    from: g.capacity,
    to,
    cause,
  };
  g.capacity = to;
  return id;
}

/** The sandbox's instances of a group are numbered: `i-<group>-<n>`. */
export const instanceIdOf = (groupId: string, n: number) => `i-${groupId.replace(/^asg-/, '')}-${n}`;

/**
 * A group's instances now: 1..capacity in service, those an activity is adding still Pending, those
 * it is removing Removing; protected ones say Protected (they stay through any scale-in).
 */
function instancesOf(state: SandboxState, groupId: string, now: number) {
  const g = state.ess.groups[groupId]!;
  const running = inProgress(state, groupId, now);
  const count = running ? Math.max(running.from, running.to) : g.capacity;
  return Array.from({ length: count }, (_, i) => {
    const id = instanceIdOf(groupId, i + 1);
    const n = i + 1;
    const lifecycle = g.protected?.includes(id)
      ? 'Protected'
      : running && n > running.from
        ? 'Pending'
        : running && n > running.to
          ? 'Removing'
          : 'InService';
    return { id, lifecycle };
  });
}

export const essActions: Record<string, Action> = {
  DescribeScalingInstances(ctx) {
    const g = group(ctx);
    const pageSize = intParam(ctx.params, 'PageSize', { min: 1, max: 50, fallback: 10 });
    const pageNumber = intParam(ctx.params, 'PageNumber', { min: 1, fallback: 1 });
    const all = instancesOf(ctx.state, g.id, ctx.now);
    return {
      ScalingInstances: {
        ScalingInstance: page(all, pageNumber, pageSize).map((i) => ({
          InstanceId: i.id,
          ScalingGroupId: g.id,
          ScalingConfigurationId: g.configurationId,
          LifecycleState: i.lifecycle,
          HealthStatus: 'Healthy',
          CreationType: 'AutoCreated',
        })),
      },
      TotalCount: all.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
    };
  },

  SetInstancesProtection(ctx) {
    const g = group(ctx);
    const ids = listParam(ctx.params, 'InstanceId');
    if (ids.length === 0 || ids.length > 20)
      throw new ApiError(400, 'InvalidParameter', 'InstanceId.N must name 1 to 20 instances.');
    const known = new Set(instancesOf(ctx.state, g.id, ctx.now).map((i) => i.id));
    const unknown = ids.find((id) => !known.has(id));
    if (unknown) throw notFound('InvalidInstanceId.NotFound', `InstanceId ${unknown}`);
    const on = param(ctx.params, 'ProtectedFromScaleIn') === 'true';
    const set = new Set(g.protected ?? []);
    for (const id of ids) on ? set.add(id) : set.delete(id);
    g.protected = [...set];
    return {};
  },

  DescribeScalingGroups(ctx) {
    param(ctx.params, 'RegionId');
    const pageSize = intParam(ctx.params, 'PageSize', { min: 1, max: 50, fallback: 10 });
    const pageNumber = intParam(ctx.params, 'PageNumber', { min: 1, fallback: 1 });
    const ids = listParam(ctx.params, 'ScalingGroupId');
    const all = Object.values(ctx.state.ess.groups).filter((g) => ids.length === 0 || ids.includes(g.id));
    return {
      ScalingGroups: {
        ScalingGroup: page(all, pageNumber, pageSize).map((g) => {
          const running = inProgress(ctx.state, g.id, ctx.now);
          return {
            ScalingGroupId: g.id,
            ScalingGroupName: g.name,
            MinSize: g.min,
            MaxSize: g.max,
            DesiredCapacity: g.desired,
            TotalCapacity: running ? running.from : g.capacity,
            PendingCapacity: running && running.to > running.from ? running.to - running.from : 0,
            LifecycleState: 'Active',
            ActiveScalingConfigurationId: g.configurationId,
            RegionId: ctx.region,
            // ESS writes minutes, UTC: 2014-08-14T10:58Z.
            CreationTime: new Date(g.createdAt ?? 0).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z'),
          };
        }),
      },
      TotalCount: all.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
    };
  },

  ModifyScalingGroup(ctx) {
    const g = group(ctx);
    const min =
      optional(ctx.params, 'MinSize') === undefined
        ? g.min
        : intParam(ctx.params, 'MinSize', { min: 0, max: 2000 });
    const max =
      optional(ctx.params, 'MaxSize') === undefined
        ? g.max
        : intParam(ctx.params, 'MaxSize', { min: 0, max: 2000 });
    const desired =
      optional(ctx.params, 'DesiredCapacity') === undefined
        ? g.desired
        : intParam(ctx.params, 'DesiredCapacity', { min: 0, max: 2000 });
    if (min > max)
      throw new ApiError(400, 'InvalidParameter.Conflict', 'MinSize must not be greater than MaxSize.');
    if (desired < min || desired > max)
      throw new ApiError(
        400,
        'InvalidParameter.Conflict',
        `DesiredCapacity ${desired} must lie within [${min}, ${max}].`,
      );
    Object.assign(g, { min, max, desired });
    if (g.capacity !== desired)
      startActivity(ctx, g.id, desired, `the desired capacity changed to ${desired}`);
    return {};
  },

  DescribeScalingConfigurations(ctx) {
    const g = group(ctx);
    const configs = Object.values(ctx.state.ess.configurations).filter((c) => c.groupId === g.id);
    return {
      ScalingConfigurations: {
        ScalingConfiguration: configs.map((c) => ({
          ScalingConfigurationId: c.id,
          ScalingGroupId: c.groupId,
          ImageId: c.imageId,
          InstanceType: c.instanceType,
          LifecycleState: c.id === g.configurationId ? 'Active' : 'Inactive',
        })),
      },
      TotalCount: configs.length,
      PageNumber: 1,
      PageSize: 50,
    };
  },

  ModifyScalingConfiguration(ctx) {
    const id = param(ctx.params, 'ScalingConfigurationId');
    const c = ctx.state.ess.configurations[id];
    if (!c) throw notFound('InvalidScalingConfigurationId.NotFound', `ScalingConfigurationId ${id}`);
    const imageId = optional(ctx.params, 'ImageId');
    if (imageId) {
      if (!ctx.state.ecs.images[imageId]) throw notFound('InvalidImageId.NotFound', `ImageId ${imageId}`);
      c.imageId = imageId;
    }
    return {};
  },

  DescribeScalingActivities(ctx) {
    const groupId = optional(ctx.params, 'ScalingGroupId');
    const ids = listParam(ctx.params, 'ScalingActivityId');
    if (!groupId && ids.length === 0)
      throw new ApiError(
        400,
        'MissingParameter',
        'The input parameter "ScalingGroupId" that is mandatory for processing this request is not supplied.',
      );
    const pageSize = intParam(ctx.params, 'PageSize', { min: 1, max: 50, fallback: 10 });
    const pageNumber = intParam(ctx.params, 'PageNumber', { min: 1, fallback: 1 });
    const all = Object.values(ctx.state.ess.activities)
      .filter((a) => (!groupId || a.groupId === groupId) && (ids.length === 0 || ids.includes(a.id)))
      .sort((a, b) => b.createdAt - a.createdAt);
    return {
      ScalingActivities: {
        ScalingActivity: page(all, pageNumber, pageSize).map((a) => {
          const done = a.createdAt + a.durationMs <= ctx.now;
          return {
            ScalingActivityId: a.id,
            ScalingGroupId: a.groupId,
            Cause: a.cause,
            Description: `${a.to > a.from ? 'Add' : 'Remove'} ${Math.abs(a.to - a.from)} ECS instance(s)`,
            StatusCode: done ? 'Successful' : 'InProgress',
            Progress: done ? 100 : Math.floor(((ctx.now - a.createdAt) / a.durationMs) * 100),
            StartTime: iso(a.createdAt),
            ...(done ? { EndTime: iso(a.createdAt + a.durationMs) } : {}),
            TotalCapacity: String(done ? a.to : a.from),
          };
        }),
      },
      TotalCount: all.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
    };
  },

  ExecuteScalingRule(ctx) {
    const ari = param(ctx.params, 'ScalingRuleAri');
    const rule = ctx.state.ess.rules[ari];
    if (!rule) throw notFound('InvalidScalingRuleAri.NotFound', `ScalingRuleAri ${ari}`);
    return idempotent(ctx, 'ExecuteScalingRule', () => {
      if (inProgress(ctx.state, rule.groupId, ctx.now)) {
        throw new ApiError(
          403,
          'ScalingActivityInProgress',
          'A scaling activity is in progress in the scaling group.',
        );
      }
      const g = ctx.state.ess.groups[rule.groupId]!;
      const to = Math.max(g.min, Math.min(g.max, g.capacity + rule.adjustment));
      g.desired = to;
      return { ScalingActivityId: startActivity(ctx, g.id, to, `rule ${ari} was executed`) };
    });
  },
};
