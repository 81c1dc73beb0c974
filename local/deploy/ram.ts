import type { Config } from '../../shared/config/schema/index.ts';

/**
 * From an API the functions call to the RAM action that allows it and the resources it is scoped to.
 * Keyed `product:Api` as `reach.ts` reports them. Scopes follow each API's "RAM authorization" table
 * in Alibaba Cloud's API reference: RDS authorizes every API on `dbinstance`; ESS group operations on
 * `scalinggroup`; ACK cluster operations on `cluster`; OSS on buckets and objects. Where the
 * reference lists "All Resources" (FC's alias and version APIs, list and describe calls) or a resource
 * id is not known before the call (the instance a restore drill creates), the scope is `*` or the
 * product's wildcard in this account and region.
 */
type Scope =
  | 'all'
  | 'rds-instance'
  | 'rds-any-instance'
  | 'ess-group'
  | 'cs-cluster'
  | 'oss-bucket'
  | 'oss-object'
  | 'fc-function';

export const RAM_ACTIONS: Record<string, { action: string; scope: Scope }> = {
  'cs:DescribeClusterNodePools': { action: 'cs:DescribeClusterNodePools', scope: 'cs-cluster' },
  'cs:ModifyClusterNodePool': { action: 'cs:ModifyClusterNodePool', scope: 'cs-cluster' },
  'cs:DescribeClusterUserKubeconfig': { action: 'cs:DescribeClusterUserKubeconfig', scope: 'cs-cluster' },
  'cs:DescribeTaskInfo': { action: 'cs:DescribeTaskInfo', scope: 'all' },
  'dm:SingleSendMail': { action: 'dm:SingleSendMail', scope: 'all' },
  'ecs:DescribeImages': { action: 'ecs:DescribeImages', scope: 'all' },
  'ecs:DeleteImage': { action: 'ecs:DeleteImage', scope: 'all' },
  'ecs:ImportImage': { action: 'ecs:ImportImage', scope: 'all' },
  'ecs:CopyImage': { action: 'ecs:CopyImage', scope: 'all' },
  'ecs:DeleteSnapshot': { action: 'ecs:DeleteSnapshot', scope: 'all' },
  'ecs:DescribeLaunchTemplates': { action: 'ecs:DescribeLaunchTemplates', scope: 'all' },
  'ecs:TagResources': { action: 'ecs:TagResources', scope: 'all' },
  'ecs:DescribeInstances': { action: 'ecs:DescribeInstances', scope: 'all' },
  'ecs:RunInstances': { action: 'ecs:RunInstances', scope: 'all' },
  'ecs:DeleteInstance': { action: 'ecs:DeleteInstance', scope: 'all' },
  'ecs:RunCommand': { action: 'ecs:RunCommand', scope: 'all' },
  'ecs:DescribeInvocationResults': { action: 'ecs:DescribeInvocationResults', scope: 'all' },
  'ecs:CreateLaunchTemplateVersion': { action: 'ecs:CreateLaunchTemplateVersion', scope: 'all' },
  'ecs:ModifyLaunchTemplateDefaultVersion': {
    action: 'ecs:ModifyLaunchTemplateDefaultVersion',
    scope: 'all',
  },
  'ecs:DescribeLaunchTemplateVersions': { action: 'ecs:DescribeLaunchTemplateVersions', scope: 'all' },
  'ess:DescribeScalingGroups': { action: 'ess:DescribeScalingGroups', scope: 'all' },
  'ess:ModifyScalingGroup': { action: 'ess:ModifyScalingGroup', scope: 'ess-group' },
  'ess:DescribeScalingConfigurations': { action: 'ess:DescribeScalingConfigurations', scope: 'all' },
  'ess:ModifyScalingConfiguration': { action: 'ess:ModifyScalingConfiguration', scope: 'all' },
  'ess:DescribeScalingActivities': { action: 'ess:DescribeScalingActivities', scope: 'all' },
  'ess:DescribeScalingInstances': { action: 'ess:DescribeScalingInstances', scope: 'all' },
  'ess:ExecuteScalingRule': { action: 'ess:ExecuteScalingRule', scope: 'all' },
  'rds:CreateBackup': { action: 'rds:CreateBackup', scope: 'rds-instance' },
  'rds:DescribeBackupTasks': { action: 'rds:DescribeBackupTasks', scope: 'rds-instance' },
  'rds:DescribeBackups': { action: 'rds:DescribeBackups', scope: 'rds-instance' },
  'rds:DeleteBackup': { action: 'rds:DeleteBackup', scope: 'rds-instance' },
  'rds:DescribeDBInstances': { action: 'rds:DescribeDBInstances', scope: 'all' },
  'rds:DescribeDBInstanceAttribute': { action: 'rds:DescribeDBInstanceAttribute', scope: 'rds-any-instance' },
  'rds:CloneDBInstance': { action: 'rds:CloneDBInstance', scope: 'rds-instance' },
  // The restore drill's clone gets its id when it is created.
  'rds:DescribeDBInstanceNetInfo': { action: 'rds:DescribeDBInstanceNetInfo', scope: 'rds-any-instance' },
  'rds:DeleteDBInstance': { action: 'rds:DeleteDBInstance', scope: 'rds-any-instance' },
  // Cross-region backup: the policy on the source instance, the copies, and a restore in the other region.
  'rds:DescribeAvailableCrossRegion': { action: 'rds:DescribeAvailableCrossRegion', scope: 'all' },
  'rds:DescribeInstanceCrossBackupPolicy': {
    action: 'rds:DescribeInstanceCrossBackupPolicy',
    scope: 'rds-instance',
  },
  'rds:ModifyInstanceCrossBackupPolicy': {
    action: 'rds:ModifyInstanceCrossBackupPolicy',
    scope: 'rds-instance',
  },
  'rds:DescribeCrossRegionBackups': { action: 'rds:DescribeCrossRegionBackups', scope: 'rds-instance' },
  'rds:CreateDdrInstance': { action: 'rds:CreateDdrInstance', scope: 'rds-any-instance' },
  'fc:InvokeFunction': { action: 'fc:InvokeFunction', scope: 'fc-function' },
  'fc:PublishFunctionVersion': { action: 'fc:PublishFunctionVersion', scope: 'all' },
  'fc:ListFunctionVersions': { action: 'fc:ListFunctionVersions', scope: 'all' },
  'fc:GetAlias': { action: 'fc:GetAlias', scope: 'all' },
  'fc:CreateAlias': { action: 'fc:CreateAlias', scope: 'all' },
  'fc:UpdateAlias': { action: 'fc:UpdateAlias', scope: 'all' },
  // Multipart uploads are authorized as PutObject, HeadObject as GetObject (OSS's RAM reference).
  'oss:PutObject': { action: 'oss:PutObject', scope: 'oss-object' },
  'oss:InitiateMultipartUpload': { action: 'oss:PutObject', scope: 'oss-object' },
  'oss:UploadPart': { action: 'oss:PutObject', scope: 'oss-object' },
  'oss:CompleteMultipartUpload': { action: 'oss:PutObject', scope: 'oss-object' },
  'oss:AbortMultipartUpload': { action: 'oss:AbortMultipartUpload', scope: 'oss-object' },
  'oss:GetObject': { action: 'oss:GetObject', scope: 'oss-object' },
  'oss:HeadObject': { action: 'oss:GetObject', scope: 'oss-object' },
  'oss:DeleteObject': { action: 'oss:DeleteObject', scope: 'oss-object' },
  'oss:ListObjects': { action: 'oss:ListObjects', scope: 'oss-bucket' },
};

export interface PolicyDocument {
  Version: '1';
  Statement: { Effect: 'Allow'; Action: string[]; Resource: string[] }[];
}

/** The resources the configuration names, by kind; empty when it names none. */
export function namedResources(config: Config, functionNames: string[]) {
  const uniq = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => !!x))].sort();
  const rdsPolicies = Object.values(config.backups.policies).filter((p) => p.engine === 'rds');
  const targets = Object.values(config.releases.targets);
  const scaling = Object.values(config.scaling.targets);
  return {
    // A policy that picks instances by tag may reach any instance.
    rdsInstances: rdsPolicies.some((p) => Object.keys(p.tags).length > 0)
      ? []
      : uniq(rdsPolicies.flatMap((p) => p.instances)),
    scalingGroups: uniq([
      ...scaling.map((t) => (t.kind === 'ess' ? t.scalingGroupId : undefined)),
      ...targets.map((t) =>
        t.kind === 'image-channel' ? t.scalingConfiguration?.scalingGroupId : undefined,
      ),
    ]),
    clusters: uniq([
      ...scaling.map((t) => (t.kind === 'ack-nodepool' ? t.clusterId : undefined)),
      ...targets.map((t) => (t.kind === 'k8s-deployment' ? t.cluster : undefined)),
    ]),
    buckets: uniq([
      config.bucket,
      config.terraform.bundles?.bucket,
      ...Object.values(config.backups.policies).map((p) => p.database?.bucket),
      ...Object.values(config.backups.policies).map((p) => p.crossRegion?.bucket),
    ]),
    // Restore drills make instances in the policies' other regions too.
    drillRegions: uniq([config.region, ...rdsPolicies.map((p) => p.crossRegion?.region)]),
    // Jobs and events go to fc-devops's own functions only.
    functions: uniq(functionNames),
  };
}

/**
 * The RAM policy for one function: exactly the actions of the APIs it can call, each on the
 * resources the configuration names (or the product's wildcard in this account when it names none).
 */
export function policyFor(
  apis: string[],
  config: Config,
  functionNames: string[],
): { policy: PolicyDocument; unknown: string[] } {
  const account = config.accountId ?? '*';
  const region = config.region;
  const named = namedResources(config, functionNames);
  const arns = (ids: string[], each: (id: string) => string, wildcard: string) =>
    ids.length ? ids.map(each) : [wildcard];
  const resources = (scope: Scope): string[] => {
    switch (scope) {
      case 'all':
        return ['*'];
      case 'rds-instance':
        return arns(
          named.rdsInstances,
          (id) => `acs:rds:${region}:${account}:dbinstance/${id}`,
          `acs:rds:${region}:${account}:dbinstance/*`,
        );
      case 'rds-any-instance':
        return named.drillRegions.map((r) => `acs:rds:${r}:${account}:dbinstance/*`);
      case 'ess-group':
        return arns(
          named.scalingGroups,
          (id) => `acs:ess:${region}:${account}:scalinggroup/${id}`,
          `acs:ess:${region}:${account}:scalinggroup/*`,
        );
      case 'cs-cluster':
        return arns(
          named.clusters,
          (id) => `acs:cs:${region}:${account}:cluster/${id}`,
          `acs:cs:${region}:${account}:cluster/*`,
        );
      case 'oss-bucket':
        return arns(named.buckets, (b) => `acs:oss:*:${account}:${b}`, `acs:oss:*:${account}:*`);
      case 'oss-object':
        return arns(named.buckets, (b) => `acs:oss:*:${account}:${b}/*`, `acs:oss:*:${account}:*/*`);
      case 'fc-function':
        return arns(
          named.functions,
          (f) => `acs:fc:${region}:${account}:functions/${f}`,
          `acs:fc:${region}:${account}:functions/*`,
        );
    }
  };
  const unknown: string[] = [];
  const byResources = new Map<string, Set<string>>();
  for (const api of apis) {
    const entry = RAM_ACTIONS[api];
    if (!entry) {
      unknown.push(api);
      continue;
    }
    const key = JSON.stringify(resources(entry.scope));
    const set = byResources.get(key) ?? new Set<string>();
    set.add(entry.action);
    byResources.set(key, set);
  }
  const Statement = [...byResources.entries()]
    .map(([key, actions]) => ({
      Effect: 'Allow' as const,
      Action: [...actions].sort(),
      Resource: JSON.parse(key) as string[],
    }))
    .sort((a, b) => a.Action[0]!.localeCompare(b.Action[0]!));
  return { policy: { Version: '1', Statement }, unknown };
}

/** The actions a policy allows, for comparing against what a function can call. */
export const actionsOf = (policy: PolicyDocument) =>
  [...new Set(policy.Statement.flatMap((s) => s.Action))].sort();
