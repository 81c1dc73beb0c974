import { collect, pagesByNumber, pagesByToken } from '../paging.ts';
import type { RpcClient } from '../rpc.ts';

export interface EcsImage {
  ImageId: string;
  ImageName: string;
  ImageFamily?: string;
  CreationTime: string;
  Status: string;
  Progress?: string;
  Tags?: { Tag: { TagKey: string; TagValue: string }[] };
  DiskDeviceMappings?: { DiskDeviceMapping: { SnapshotId: string }[] };
}

export interface EcsInstance {
  InstanceId: string;
  ImageId: string;
  Status: string;
}

// Response list wrappers and the request parameter each becomes (UNVERIFIED beyond tags and disks).
const LIST_NAMES: Record<string, string> = { InstanceTag: 'Tag', SecurityGroupId: 'SecurityGroupIds' };

/** DescribeLaunchTemplateVersions' LaunchTemplateData as CreateLaunchTemplateVersion parameters. */
export function flattenTemplateData(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (value === null || value === undefined || value === '') continue;
    if (typeof value !== 'object') {
      out[key] = value;
      continue;
    }
    const [inner, list] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    if (!inner || !Array.isArray(list)) continue;
    const name = LIST_NAMES[inner] ?? inner;
    for (const [i, item] of list.entries()) {
      if (item && typeof item === 'object') {
        for (const [field, v] of Object.entries(item))
          if (v !== null && v !== undefined && v !== '') out[`${name}.${i + 1}.${field}`] = v;
      } else out[`${name}.${i + 1}`] = item;
    }
  }
  return out;
}

const tagParams = (tags: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(tags).flatMap(([k, v], i) => [
      [`Tag.${i + 1}.Key`, k],
      [`Tag.${i + 1}.Value`, v],
    ]),
  );

/** ECS (2014-05-26): images, instances for smoke tests, Cloud Assistant commands, launch templates. */
export class EcsAdapter {
  constructor(
    private readonly rpc: RpcClient,
    private readonly region: string,
  ) {}

  async describeImages(
    filter: { ids?: string[]; tags?: Record<string, string>; family?: string; status?: string } = {},
  ): Promise<EcsImage[]> {
    return collect(
      pagesByNumber(async (page) => {
        const r = await this.rpc.call<{ Images: { Image: EcsImage[] }; TotalCount: number }>(
          'DescribeImages',
          {
            RegionId: this.region,
            ImageOwnerAlias: 'self',
            ImageId: filter.ids?.join(','),
            ImageFamily: filter.family,
            Status: filter.status ?? 'Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated',
            ...tagParams(filter.tags ?? {}),
            PageSize: 100,
            PageNumber: page,
          },
        );
        return { items: r.Images?.Image ?? [], total: Number(r.TotalCount) };
      }),
    );
  }

  /**
   * Copy an image of this region to another (CopyImage): the copy's id in `destination`, where it is
   * Creating until it has arrived. ClientToken makes a retried copy one copy.
   */
  async copyImage(
    imageId: string,
    destination: string,
    options: { name?: string; tags?: Record<string, string>; clientToken?: string } = {},
  ): Promise<string> {
    const r = await this.rpc.call<{ ImageId: string }>(
      'CopyImage',
      {
        RegionId: this.region,
        ImageId: imageId,
        DestinationRegionId: destination,
        DestinationImageName: options.name,
        ClientToken: options.clientToken,
        ...tagParams(options.tags ?? {}),
      },
      { clientToken: true },
    );
    return r.ImageId;
  }

  async deleteImage(imageId: string, options: { force?: boolean } = {}): Promise<void> {
    await this.rpc.call('DeleteImage', {
      RegionId: this.region,
      ImageId: imageId,
      Force: options.force ?? false,
    });
  }

  /** Import a disk image file from OSS as a custom image (asynchronous: Creating, then Available). */
  async importImage(input: {
    bucket: string;
    key: string;
    format: string;
    name: string;
    family?: string | undefined;
    platform: string;
    osType: string;
    architecture: string;
    tags?: Record<string, string>;
  }): Promise<{ imageId: string }> {
    const r = await this.rpc.call<{ ImageId: string }>('ImportImage', {
      RegionId: this.region,
      ImageName: input.name,
      ImageFamily: input.family,
      Platform: input.platform,
      OSType: input.osType,
      Architecture: input.architecture,
      'DiskDeviceMapping.1.OSSBucket': input.bucket,
      'DiskDeviceMapping.1.OSSObject': input.key,
      'DiskDeviceMapping.1.Format': input.format,
      ...tagParams(input.tags ?? {}),
    });
    return { imageId: r.ImageId };
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    await this.rpc.call('DeleteSnapshot', { SnapshotId: snapshotId });
  }

  async launchTemplates(): Promise<{ LaunchTemplateId: string; LaunchTemplateName: string }[]> {
    return collect(
      pagesByNumber(async (page) => {
        const r = await this.rpc.call<{
          LaunchTemplateSets: {
            LaunchTemplateSet: { LaunchTemplateId: string; LaunchTemplateName: string }[];
          };
          TotalCount: number;
        }>('DescribeLaunchTemplates', { RegionId: this.region, PageSize: 50, PageNumber: page });
        return { items: r.LaunchTemplateSets?.LaunchTemplateSet ?? [], total: Number(r.TotalCount) };
      }),
    );
  }

  async tagImages(imageIds: string[], tags: Record<string, string>): Promise<void> {
    for (let i = 0; i < imageIds.length; i += 50) {
      const ids = Object.fromEntries(imageIds.slice(i, i + 50).map((id, j) => [`ResourceId.${j + 1}`, id]));
      await this.rpc.call('TagResources', {
        RegionId: this.region,
        ResourceType: 'image',
        ...ids,
        ...tagParams(tags),
      });
    }
  }

  async describeInstances(filter: { imageId?: string; ids?: string[] } = {}): Promise<EcsInstance[]> {
    return collect(
      pagesByNumber(async (page) => {
        const r = await this.rpc.call<{ Instances: { Instance: EcsInstance[] }; TotalCount: number }>(
          'DescribeInstances',
          {
            RegionId: this.region,
            ImageId: filter.imageId,
            InstanceIds: filter.ids ? JSON.stringify(filter.ids) : undefined,
            PageSize: 100,
            PageNumber: page,
          },
        );
        return { items: r.Instances?.Instance ?? [], total: Number(r.TotalCount) };
      }),
    );
  }

  /** One pay-as-you-go instance that releases itself at `autoReleaseTime` even if nobody deletes it. */
  async runInstance(input: {
    imageId: string;
    instanceType: string;
    vSwitchId: string;
    securityGroupId: string;
    autoReleaseTime: Date;
    tags?: Record<string, string>;
  }): Promise<{ instanceId: string }> {
    const r = await this.rpc.call<{ InstanceIdSets: { InstanceIdSet: string[] } }>(
      'RunInstances',
      {
        RegionId: this.region,
        ImageId: input.imageId,
        InstanceType: input.instanceType,
        VSwitchId: input.vSwitchId,
        SecurityGroupId: input.securityGroupId,
        Amount: 1,
        InstanceChargeType: 'PostPaid',
        AutoReleaseTime: input.autoReleaseTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...tagParams(input.tags ?? {}),
      },
      { clientToken: true },
    );
    const id = r.InstanceIdSets?.InstanceIdSet?.[0];
    if (!id) throw new Error('RunInstances returned no instance id');
    return { instanceId: id };
  }

  async deleteInstance(instanceId: string): Promise<void> {
    await this.rpc.call('DeleteInstance', { InstanceId: instanceId, Force: true });
  }

  async runCommand(input: {
    instanceIds: string[];
    script: string;
    timeoutSeconds?: number;
  }): Promise<{ invokeId: string; commandId: string }> {
    const ids = Object.fromEntries(input.instanceIds.map((id, i) => [`InstanceId.${i + 1}`, id]));
    const r = await this.rpc.call<{ InvokeId: string; CommandId: string }>(
      'RunCommand',
      {
        RegionId: this.region,
        Type: 'RunShellScript',
        CommandContent: input.script,
        Timeout: input.timeoutSeconds ?? 600,
        ...ids,
      },
      { clientToken: true },
    );
    return { invokeId: r.InvokeId, commandId: r.CommandId };
  }

  async invocationResults(
    invokeId: string,
  ): Promise<{ InstanceId: string; InvocationStatus: string; ExitCode: number; Output: string }[]> {
    return collect(
      pagesByToken(async (token) => {
        const r = await this.rpc.call<{
          Invocation: {
            InvocationResults: {
              InvocationResult: {
                InstanceId: string;
                InvocationStatus: string;
                ExitCode: number;
                Output: string;
              }[];
            };
            NextToken?: string;
          };
        }>('DescribeInvocationResults', {
          RegionId: this.region,
          InvokeId: invokeId,
          ContentEncoding: 'PlainText',
          NextToken: token,
          MaxResults: 50,
        });
        return {
          items: r.Invocation?.InvocationResults?.InvocationResult ?? [],
          nextToken: r.Invocation?.NextToken || undefined,
        };
      }),
    );
  }

  /**
   * A new launch template version: the given template data (normally the default version's) with
   * a new image. Field names follow DescribeLaunchTemplateVersions; lists are flattened to `Name.N`.
   */
  async createLaunchTemplateVersion(
    templateId: string,
    data: Record<string, unknown>,
    description: string,
  ): Promise<{ versionNumber: number }> {
    const r = await this.rpc.call<{ LaunchTemplateVersionNumber: number }>('CreateLaunchTemplateVersion', {
      RegionId: this.region,
      LaunchTemplateId: templateId,
      VersionDescription: description,
      ...flattenTemplateData(data),
    });
    return { versionNumber: Number(r.LaunchTemplateVersionNumber) };
  }

  async setDefaultLaunchTemplateVersion(templateId: string, versionNumber: number): Promise<void> {
    await this.rpc.call('ModifyLaunchTemplateDefaultVersion', {
      RegionId: this.region,
      LaunchTemplateId: templateId,
      DefaultVersionNumber: versionNumber,
    });
  }

  async launchTemplateVersions(templateId: string): Promise<
    {
      VersionNumber: number;
      DefaultVersion: boolean;
      LaunchTemplateData: { ImageId: string } & Record<string, unknown>;
    }[]
  > {
    return collect(
      pagesByNumber(async (page) => {
        const r = await this.rpc.call<{
          LaunchTemplateVersionSets: {
            LaunchTemplateVersionSet: {
              VersionNumber: number;
              DefaultVersion: boolean;
              LaunchTemplateData: { ImageId: string };
            }[];
          };
          TotalCount: number;
        }>('DescribeLaunchTemplateVersions', {
          RegionId: this.region,
          LaunchTemplateId: templateId,
          PageSize: 50,
          PageNumber: page,
        });
        return {
          items: r.LaunchTemplateVersionSets?.LaunchTemplateVersionSet ?? [],
          total: Number(r.TotalCount),
        };
      }),
    );
  }
}
