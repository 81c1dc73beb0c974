import { ApiError, notFound } from '../api-error.ts';
import { userKubeconfig } from '../kube/server.ts';
import { nextId } from '../state.ts';
import {
  json,
  type RestContext,
  type RestRequest,
  type RestResponse,
  readJson,
  unknownRoute,
} from './rest.ts';

const TASK_MS = 3 * 60_000;

/** ACK (ROA): DescribeClusterNodePools, ModifyClusterNodePool, DescribeTaskInfo, DescribeClusterUserKubeconfig. */
export function csRoute(ctx: RestContext, req: RestRequest): { action: string; run: () => RestResponse } {
  const pools = /^\/clusters\/([^/]+)\/nodepools$/.exec(req.path);
  if (pools && req.method === 'GET') {
    return {
      action: 'DescribeClusterNodePools',
      run: () => {
        const cluster = ctx.state.cs.clusters[decodeURIComponent(pools[1]!)];
        if (!cluster) throw notFound('ErrorClusterNotFound', `cluster ${pools[1]}`);
        return json(200, {
          nodepools: Object.values(cluster.nodepools).map((p) => {
            const task = Object.values(ctx.state.cs.tasks).find(
              (t) => t.nodePoolId === p.id && t.createdAt + t.durationMs > ctx.now,
            );
            return {
              nodepool_info: { nodepool_id: p.id, name: p.name, type: 'ess', is_default: false },
              status: {
                state: task ? 'scaling' : 'active',
                total_nodes: p.nodes,
                healthy_nodes: p.nodes,
                serving_nodes: p.nodes,
                failed_nodes: 0,
              },
              scaling_group: { desired_size: p.desired },
              auto_scaling: { enable: p.autoScaling, min_instances: p.min, max_instances: p.max },
            };
          }),
        });
      },
    };
  }
  const pool = /^\/clusters\/([^/]+)\/nodepools\/([^/]+)$/.exec(req.path);
  if (pool && req.method === 'PUT') {
    return {
      action: 'ModifyClusterNodePool',
      run: () => {
        const cluster = ctx.state.cs.clusters[decodeURIComponent(pool[1]!)];
        const p = cluster?.nodepools[decodeURIComponent(pool[2]!)];
        if (!cluster || !p) throw notFound('ErrorNodePoolNotFound', `node pool ${pool[2]}`);
        let body: Record<string, unknown>;
        try {
          body = readJson(req);
        } catch {
          throw new ApiError(400, 'InvalidParameter', 'The request body is not valid JSON.');
        }
        const desired = (body.scaling_group as { desired_size?: unknown } | undefined)?.desired_size;
        if (
          desired !== undefined &&
          (!Number.isInteger(desired) || (desired as number) < 0 || (desired as number) > 1000)
        ) {
          throw new ApiError(
            400,
            'InvalidParameter',
            'scaling_group.desired_size must be an integer from 0 to 1000.',
          );
        }
        if (
          Object.values(ctx.state.cs.tasks).some(
            (t) => t.nodePoolId === p.id && t.createdAt + t.durationMs > ctx.now,
          )
        ) {
          throw new ApiError(
            409,
            'ErrorNodePoolStatus',
            'The node pool is being updated; try again when its task finished.',
          );
        }
        const taskId = nextId(ctx.state, 'T-');
        ctx.state.cs.tasks[taskId] = {
          id: taskId,
          clusterId: cluster.id,
          nodePoolId: p.id,
          createdAt: ctx.now,
          durationMs: TASK_MS,
          to: (desired as number | undefined) ?? p.desired,
        };
        if (desired !== undefined) {
          p.desired = desired as number;
          p.nodes = desired as number;
        }
        return json(202, { nodepool_id: p.id, task_id: taskId, request_id: taskId });
      },
    };
  }
  const kubeconfig = /^\/k8s\/([^/]+)\/user_config$/.exec(req.path);
  if (kubeconfig && req.method === 'GET') {
    return {
      action: 'DescribeClusterUserKubeconfig',
      run: () =>
        json(
          200,
          userKubeconfig(
            ctx.state,
            ctx.kubeUrl ?? '',
            decodeURIComponent(kubeconfig[1]!),
            ctx.caller ?? 'anonymous',
            req.query.TemporaryDurationMinutes,
            ctx.now,
          ),
        ),
    };
  }
  const task = /^\/tasks\/([^/]+)$/.exec(req.path);
  if (task && req.method === 'GET') {
    return {
      action: 'DescribeTaskInfo',
      run: () => {
        const t = ctx.state.cs.tasks[decodeURIComponent(task[1]!)];
        if (!t) throw notFound('ErrorTaskNotFound', `task ${task[1]}`);
        const done = t.createdAt + t.durationMs <= ctx.now;
        return json(200, {
          task_id: t.id,
          cluster_id: t.clusterId,
          state: done ? 'success' : 'running',
          task_type: 'nodepool_update',
          created: new Date(t.createdAt).toISOString(),
        });
      },
    };
  }
  return unknownRoute(req);
}
