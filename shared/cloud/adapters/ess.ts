import { collect, pagesByNumber } from '../paging.ts';
import type { RpcClient } from '../rpc.ts';

export interface ScalingGroup {
  ScalingGroupId: string;
  ScalingGroupName: string;
  MinSize: number;
  MaxSize: number;
  DesiredCapacity?: number;
  TotalCapacity?: number;
  LifecycleState: 'Active' | 'Inactive' | 'Deleting';
  ActiveScalingConfigurationId?: string;
}

export interface ScalingActivity {
  ScalingActivityId: string;
  ScalingGroupId: string;
  StatusCode: 'Successful' | 'Warning' | 'Failed' | 'InProgress' | 'Rejected';
  Progress: number;
  StartTime: string;
  EndTime?: string;
}

/** Auto Scaling (2014-08-28): groups, configurations, activities, rules. */
export class EssAdapter {
  constructor(
    private readonly rpc: RpcClient,
    private readonly region: string,
  ) {}

  async scalingGroups(ids: string[] = []): Promise<ScalingGroup[]> {
    const idParams = Object.fromEntries(ids.map((id, i) => [`ScalingGroupId.${i + 1}`, id]));
    return collect(
      pagesByNumber(async (page) => {
        const r = await this.rpc.call<{
          ScalingGroups: { ScalingGroup: ScalingGroup[] };
          TotalCount: number;
        }>('DescribeScalingGroups', {
          RegionId: this.region,
          ...idParams,
          PageSize: 50,
          PageNumber: page,
        });
        return { items: r.ScalingGroups?.ScalingGroup ?? [], total: Number(r.TotalCount) };
      }),
    );
  }

  async modifyScalingGroup(
    id: string,
    change: { minSize?: number; maxSize?: number; desiredCapacity?: number },
  ): Promise<void> {
    await this.rpc.call('ModifyScalingGroup', {
      RegionId: this.region,
      ScalingGroupId: id,
      MinSize: change.minSize,
      MaxSize: change.maxSize,
      DesiredCapacity: change.desiredCapacity,
    });
  }

  async scalingConfigurations(
    groupId: string,
  ): Promise<{ ScalingConfigurationId: string; ImageId: string; LifecycleState: string }[]> {
    return collect(
      pagesByNumber(async (page) => {
        const r = await this.rpc.call<{
          ScalingConfigurations: {
            ScalingConfiguration: {
              ScalingConfigurationId: string;
              ImageId: string;
              LifecycleState: string;
            }[];
          };
          TotalCount: number;
        }>('DescribeScalingConfigurations', {
          RegionId: this.region,
          ScalingGroupId: groupId,
          PageSize: 50,
          PageNumber: page,
        });
        return { items: r.ScalingConfigurations?.ScalingConfiguration ?? [], total: Number(r.TotalCount) };
      }),
    );
  }

  async modifyScalingConfiguration(id: string, change: { imageId: string }): Promise<void> {
    await this.rpc.call('ModifyScalingConfiguration', {
      RegionId: this.region,
      ScalingConfigurationId: id,
      ImageId: change.imageId,
    });
  }

  async scalingActivities(groupId: string, options: { ids?: string[] } = {}): Promise<ScalingActivity[]> {
    const idParams = Object.fromEntries(
      (options.ids ?? []).map((id, i) => [`ScalingActivityId.${i + 1}`, id]),
    );
    return collect(
      pagesByNumber(
        async (page) => {
          const r = await this.rpc.call<{
            ScalingActivities: { ScalingActivity: ScalingActivity[] };
            TotalCount: number;
          }>('DescribeScalingActivities', {
            RegionId: this.region,
            ScalingGroupId: groupId,
            ...idParams,
            PageSize: 50,
            PageNumber: page,
          });
          return { items: r.ScalingActivities?.ScalingActivity ?? [], total: Number(r.TotalCount) };
        },
        { maxPages: 20 },
      ),
    );
  }

  /** A group's instances and their lifecycle (`InService`, `Pending`, `Protected`, `Removing`, …). */
  async scalingInstances(
    groupId: string,
  ): Promise<{ InstanceId: string; LifecycleState: string; HealthStatus?: string }[]> {
    return collect(
      pagesByNumber(
        async (page) => {
          const r = await this.rpc.call<{
            ScalingInstances: {
              ScalingInstance: { InstanceId: string; LifecycleState: string; HealthStatus?: string }[];
            };
            TotalCount: number;
          }>('DescribeScalingInstances', {
            RegionId: this.region,
            ScalingGroupId: groupId,
            PageSize: 50,
            PageNumber: page,
          });
          return { items: r.ScalingInstances?.ScalingInstance ?? [], total: Number(r.TotalCount) };
        },
        { maxPages: 40 },
      ),
    );
  }

  async executeScalingRule(ruleAri: string): Promise<{ activityId: string }> {
    const r = await this.rpc.call<{ ScalingActivityId: string }>(
      'ExecuteScalingRule',
      { RegionId: this.region, ScalingRuleAri: ruleAri },
      { clientToken: true },
    );
    return { activityId: r.ScalingActivityId };
  }
}
