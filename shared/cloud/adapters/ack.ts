import type { RoaClient } from '../roa.ts';

export interface NodePool {
  nodepool_info: { nodepool_id: string; name: string };
  status: { state: string; total_nodes: number; healthy_nodes: number };
  scaling_group: { desired_size: number };
  auto_scaling: { enable: boolean; min_instances: number; max_instances: number };
}

/** ACK / Container Service (2015-12-15, ROA): node pools and their tasks. */
export class AckAdapter {
  constructor(private readonly roa: RoaClient) {}

  async nodePools(clusterId: string): Promise<NodePool[]> {
    const r = await this.roa.request<{ nodepools: NodePool[] }>(
      'GET',
      `/clusters/${encodeURIComponent(clusterId)}/nodepools`,
      { action: 'DescribeClusterNodePools' },
    );
    return r.nodepools ?? [];
  }

  async setDesiredSize(
    clusterId: string,
    nodePoolId: string,
    desiredSize: number,
  ): Promise<{ taskId: string }> {
    const r = await this.roa.request<{ task_id: string }>(
      'PUT',
      `/clusters/${encodeURIComponent(clusterId)}/nodepools/${encodeURIComponent(nodePoolId)}`,
      {
        action: 'ModifyClusterNodePool',
        body: { scaling_group: { desired_size: desiredSize } },
      },
    );
    return { taskId: r.task_id };
  }

  /**
   * DescribeClusterUserKubeconfig: a kubeconfig for the caller (its RAM identity, with the RBAC
   * grants that identity has in the cluster), valid for `temporaryMinutes` (15 to 4320).
   * `privateIp` asks for the cluster's intranet endpoint, for a function in the cluster's VPC.
   */
  async userKubeconfig(
    clusterId: string,
    options: { temporaryMinutes: number; privateIp?: boolean },
  ): Promise<{ config: string; expiration: string }> {
    return this.roa.request('GET', `/k8s/${encodeURIComponent(clusterId)}/user_config`, {
      action: 'DescribeClusterUserKubeconfig',
      query: {
        TemporaryDurationMinutes: String(options.temporaryMinutes),
        ...(options.privateIp ? { PrivateIpAddress: 'true' } : {}),
      },
    });
  }

  async task(
    taskId: string,
  ): Promise<{ state: 'running' | 'fail' | 'success'; error?: { code?: string; message?: string } }> {
    return this.roa.request('GET', `/tasks/${encodeURIComponent(taskId)}`, { action: 'DescribeTaskInfo' });
  }
}
