import { ApiError, intParam, listParam, notFound, optional, param, tagParams } from '../api-error.ts';
import { iso } from '../clock.ts';
import { nextId } from '../state.ts';
import { type Action, idempotent, page } from './context.ts';

const INSTANCE_MS = 60_000;
// Real imports take minutes; a minute of sandbox time keeps `npm start` demos short.
const IMPORT_MS = 60_000;
const COMMAND_MS = 30_000;
/** A copy to another region takes longer than an import: it is not there the moment it is asked for. */
const COPY_MS = 5 * 60_000;

export const ecsActions: Record<string, Action> = {
  DescribeImages(ctx) {
    param(ctx.params, 'RegionId');
    const pageSize = intParam(ctx.params, 'PageSize', { min: 1, max: 100, fallback: 10 });
    const pageNumber = intParam(ctx.params, 'PageNumber', { min: 1, fallback: 1 });
    const ids = optional(ctx.params, 'ImageId')?.split(',');
    const family = optional(ctx.params, 'ImageFamily');
    const statuses = (optional(ctx.params, 'Status') ?? 'Available').split(',');
    const tags = tagParams(ctx.params);
    const all = Object.values(ctx.state.ecs.images)
      .map((i) => ({ ...i, status: i.readyAt > ctx.now ? 'Creating' : 'Available' }))
      .filter((i) => (!ids || ids.includes(i.id)) && (!family || i.family === family))
      .filter((i) => statuses.includes('ALL') || statuses.includes(i.status))
      .filter((i) => Object.entries(tags).every(([k, v]) => i.tags[k] === v))
      .sort((a, b) => b.createdAt - a.createdAt);
    return {
      Images: {
        Image: page(all, pageNumber, pageSize).map((i) => ({
          ImageId: i.id,
          ImageName: i.name,
          ImageFamily: i.family,
          CreationTime: iso(i.createdAt),
          Status: i.status,
          Progress: i.status === 'Available' ? '100%' : '50%',
          Usage: Object.values(ctx.state.ecs.instances).some((x) => x.imageId === i.id) ? 'instance' : 'none',
          Tags: { Tag: Object.entries(i.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
          DiskDeviceMappings: { DiskDeviceMapping: [{ SnapshotId: i.snapshotId }] },
          // Fields the official SDK's Image model has and image-prune's peers read.
          ImageOwnerAlias: 'self',
          OSType: 'linux',
          Architecture: 'x86_64',
          Size: 40,
          IsCopied: !!i.copiedFrom,
        })),
      },
      TotalCount: all.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
      RegionId: ctx.region,
    };
  },

  DeleteImage(ctx) {
    const id = param(ctx.params, 'ImageId');
    if (!ctx.state.ecs.images[id]) throw notFound('InvalidImageId.NotFound', `ImageId ${id}`);
    const inUse = Object.values(ctx.state.ecs.instances).some((i) => i.imageId === id);
    if (inUse && optional(ctx.params, 'Force') !== 'true') {
      throw new ApiError(
        403,
        'ImageUsedByInstance',
        `Image ${id} is used by an instance; pass Force to delete it anyway.`,
      );
    }
    // As in ECS, the image's snapshot stays behind until someone deletes it.
    ctx.state.ecs.snapshots.push(ctx.state.ecs.images[id]!.snapshotId);
    delete ctx.state.ecs.images[id];
    return {};
  },

  ImportImage(ctx) {
    param(ctx.params, 'RegionId');
    const bucket = param(ctx.params, 'DiskDeviceMapping.1.OSSBucket');
    const key = param(ctx.params, 'DiskDeviceMapping.1.OSSObject');
    const format = (optional(ctx.params, 'DiskDeviceMapping.1.Format') ?? 'RAW').toUpperCase();
    if (!['RAW', 'VHD', 'QCOW2'].includes(format))
      throw new ApiError(400, 'InvalidParameter.Format', `Format ${format} is not one of RAW, VHD, qcow2.`);
    const name = optional(ctx.params, 'ImageName') ?? `import-${ctx.state.seq}`;
    if (!/^[A-Za-z\u4e00-\u9fa5][\w.:\-\u4e00-\u9fa5]{1,127}$/.test(name) || /^https?:\/\//.test(name))
      throw new ApiError(400, 'InvalidImageName.Malformed', `ImageName ${name} is malformed.`);
    if (Object.values(ctx.state.ecs.images).some((i) => i.name === name))
      throw new ApiError(403, 'InvalidImageName.Duplicated', `The image name ${name} already exists.`);
    if (!ctx.objects?.get(bucket, key))
      throw new ApiError(404, 'InvalidOSSObject.NotFound', `The OSS object ${bucket}/${key} does not exist.`);
    const id = nextId(ctx.state, 'm-sbx');
    const task = nextId(ctx.state, 't-sbx');
    ctx.state.ecs.images[id] = {
      id,
      name,
      family: optional(ctx.params, 'ImageFamily') ?? '',
      createdAt: ctx.now,
      readyAt: ctx.now + IMPORT_MS,
      tags: tagParams(ctx.params),
      snapshotId: nextId(ctx.state, 's-sbx'),
    };
    return { ImageId: id, TaskId: task, RegionId: ctx.region };
  },

  /** Copy an Available image to another region: the copy is Creating there until it has arrived. */
  CopyImage(ctx) {
    param(ctx.params, 'RegionId');
    const imageId = param(ctx.params, 'ImageId');
    const destination = param(ctx.params, 'DestinationRegionId');
    const source = ctx.state.ecs.images[imageId];
    if (!source) throw notFound('InvalidImageId.NotFound', `ImageId ${imageId}`);
    if (source.readyAt > ctx.now)
      throw new ApiError(
        403,
        'IncorrectImageStatus',
        `The image ${imageId} is not Available and cannot be copied.`,
      );
    if (destination === ctx.region)
      throw new ApiError(400, 'InvalidRegionId.Malformed', 'DestinationRegionId must differ from RegionId.');
    if (!ctx.stateIn) throw new ApiError(500, 'InternalError', 'the sandbox cannot reach other regions here');
    const there = ctx.stateIn(destination);
    return idempotent(ctx, 'CopyImage', () => {
      const id = nextId(ctx.state, 'm-sbx');
      there.ecs.images[id] = {
        id,
        name: optional(ctx.params, 'DestinationImageName') ?? source.name,
        family: source.family,
        createdAt: ctx.now,
        readyAt: ctx.now + COPY_MS,
        tags: tagParams(ctx.params),
        snapshotId: nextId(ctx.state, 's-sbx'),
        copiedFrom: { region: ctx.region, imageId },
      };
      return { ImageId: id };
    });
  },

  DeleteSnapshot(ctx) {
    const id = param(ctx.params, 'SnapshotId');
    const owner = Object.values(ctx.state.ecs.images).find((i) => i.snapshotId === id);
    if (owner)
      throw new ApiError(
        403,
        'IncorrectSnapshotStatus',
        `The snapshot ${id} is used by image ${owner.id}; delete the image first.`,
      );
    if (!ctx.state.ecs.snapshots.includes(id))
      throw notFound('InvalidSnapshotId.NotFound', `SnapshotId ${id}`);
    ctx.state.ecs.snapshots = ctx.state.ecs.snapshots.filter((s) => s !== id);
    return {};
  },

  DescribeLaunchTemplates(ctx) {
    param(ctx.params, 'RegionId');
    const pageSize = intParam(ctx.params, 'PageSize', { min: 1, max: 50, fallback: 10 });
    const pageNumber = intParam(ctx.params, 'PageNumber', { min: 1, fallback: 1 });
    const all = Object.values(ctx.state.ecs.launchTemplates);
    return {
      LaunchTemplateSets: {
        LaunchTemplateSet: page(all, pageNumber, pageSize).map((lt) => ({
          LaunchTemplateId: lt.id,
          LaunchTemplateName: lt.id,
          DefaultVersionNumber: lt.versions.find((v) => v.DefaultVersion)?.VersionNumber ?? 1,
          LatestVersionNumber: Math.max(0, ...lt.versions.map((v) => v.VersionNumber)),
        })),
      },
      TotalCount: all.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
    };
  },

  TagResources(ctx) {
    const type = param(ctx.params, 'ResourceType');
    const ids = listParam(ctx.params, 'ResourceId');
    if (ids.length === 0 || ids.length > 50)
      throw new ApiError(
        400,
        'InvalidParameter',
        'The specified parameter "ResourceId.N" must list 1 to 50 resources.',
      );
    const tags = tagParams(ctx.params);
    const table =
      type === 'image' ? ctx.state.ecs.images : type === 'instance' ? ctx.state.ecs.instances : undefined;
    if (!table)
      throw new ApiError(
        400,
        'InvalidResourceType.NotSupported',
        `ResourceType ${type} is not supported by the sandbox.`,
      );
    for (const id of ids) if (!table[id]) throw notFound('InvalidResourceId.NotFound', `ResourceId ${id}`);
    for (const id of ids) Object.assign(table[id]!.tags, tags);
    return {};
  },

  DescribeInstances(ctx) {
    param(ctx.params, 'RegionId');
    const pageSize = intParam(ctx.params, 'PageSize', { min: 1, max: 100, fallback: 10 });
    const pageNumber = intParam(ctx.params, 'PageNumber', { min: 1, fallback: 1 });
    const imageId = optional(ctx.params, 'ImageId');
    const idsRaw = optional(ctx.params, 'InstanceIds');
    const ids = idsRaw ? (JSON.parse(idsRaw) as string[]) : undefined;
    const all = Object.values(ctx.state.ecs.instances).filter(
      (i) => (!imageId || i.imageId === imageId) && (!ids || ids.includes(i.id)),
    );
    return {
      Instances: {
        Instance: page(all, pageNumber, pageSize).map((i) => ({
          InstanceId: i.id,
          ImageId: i.imageId,
          InstanceType: i.instanceType,
          Status: i.readyAt > ctx.now ? 'Pending' : 'Running',
          AutoReleaseTime: i.autoReleaseTime ?? '',
          CreationTime: iso(i.createdAt),
        })),
      },
      TotalCount: all.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
    };
  },

  RunInstances(ctx) {
    const imageId = param(ctx.params, 'ImageId');
    const instanceType = param(ctx.params, 'InstanceType');
    if (!ctx.state.ecs.images[imageId]) throw notFound('InvalidImageId.NotFound', `ImageId ${imageId}`);
    const release = optional(ctx.params, 'AutoReleaseTime');
    if (release) {
      const at = Date.parse(release);
      // Clients compute the time from their own clocks; under a scaled sandbox clock the earliest
      // allowed time is taken from the wall clock, so a fast sandbox does not reject honest requests.
      const earliest = Math.min(ctx.now, Date.now()) + 30 * 60_000;
      if (Number.isNaN(at) || at < earliest || at > ctx.now + 3 * 365 * 86_400_000) {
        throw new ApiError(
          400,
          'InvalidAutoReleaseTime.Malformed',
          'AutoReleaseTime must be at least 30 minutes and at most 3 years ahead.',
        );
      }
    }
    const amount = intParam(ctx.params, 'Amount', { min: 1, max: 100, fallback: 1 });
    return idempotent(ctx, 'RunInstances', () => {
      const ids = Array.from({ length: amount }, () => nextId(ctx.state, 'i-sbx'));
      for (const id of ids) {
        ctx.state.ecs.instances[id] = {
          id,
          imageId,
          instanceType,
          createdAt: ctx.now,
          readyAt: ctx.now + INSTANCE_MS,
          autoReleaseTime: release ?? null,
          tags: tagParams(ctx.params),
        };
      }
      return { InstanceIdSets: { InstanceIdSet: ids }, OrderId: String(ctx.state.seq) };
    });
  },

  DeleteInstance(ctx) {
    const id = param(ctx.params, 'InstanceId');
    const inst = ctx.state.ecs.instances[id];
    if (!inst) throw notFound('InvalidInstanceId.NotFound', `InstanceId ${id}`);
    if (inst.readyAt <= ctx.now && optional(ctx.params, 'Force') !== 'true') {
      throw new ApiError(403, 'IncorrectInstanceStatus', 'The instance is running; stop it or pass Force.');
    }
    delete ctx.state.ecs.instances[id];
    return {};
  },

  RunCommand(ctx) {
    param(ctx.params, 'Type');
    const script = param(ctx.params, 'CommandContent');
    const instanceIds = listParam(ctx.params, 'InstanceId');
    if (instanceIds.length === 0)
      throw new ApiError(
        400,
        'MissingParameter',
        'The input parameter "InstanceId.N" that is mandatory for processing this request is not supplied.',
      );
    for (const id of instanceIds)
      if (!ctx.state.ecs.instances[id]) throw notFound('InvalidInstanceId.NotFound', `InstanceId ${id}`);
    return idempotent(ctx, 'RunCommand', () => {
      const invokeId = nextId(ctx.state, 't-sbx');
      const commandId = nextId(ctx.state, 'c-sbx');
      ctx.state.ecs.invocations[invokeId] = {
        invokeId,
        commandId,
        instanceIds,
        script,
        createdAt: ctx.now,
        durationMs: COMMAND_MS,
      };
      return { InvokeId: invokeId, CommandId: commandId };
    });
  },

  DescribeInvocationResults(ctx) {
    const invokeId = param(ctx.params, 'InvokeId');
    const inv = ctx.state.ecs.invocations[invokeId];
    if (!inv) throw notFound('InvalidInvokeId.NotFound', `InvokeId ${invokeId}`);
    const done = inv.createdAt + inv.durationMs <= ctx.now;
    // The sandbox does not run scripts; a script that says `exit <n>` finishes with that code.
    const exitCode = Number(/\bexit\s+(\d+)/.exec(inv.script)?.[1] ?? 0);
    const encode = (optional(ctx.params, 'ContentEncoding') ?? 'Base64') === 'Base64';
    const output = `sandbox ran ${inv.script.length} bytes of script\n`;
    return {
      Invocation: {
        InvocationResults: {
          InvocationResult: inv.instanceIds.map((id) => ({
            InstanceId: id,
            InvokeId: inv.invokeId,
            CommandId: inv.commandId,
            InvocationStatus: done ? (exitCode === 0 ? 'Success' : 'Failed') : 'Running',
            InvokeRecordStatus: done ? 'Finished' : 'Running',
            ExitCode: done ? exitCode : 0,
            Output: done ? (encode ? Buffer.from(output).toString('base64') : output) : '',
            StartTime: iso(inv.createdAt),
            FinishedTime: done ? iso(inv.createdAt + inv.durationMs) : '',
          })),
        },
        NextToken: '',
      },
    };
  },

  CreateLaunchTemplateVersion(ctx) {
    const id = param(ctx.params, 'LaunchTemplateId');
    const lt = ctx.state.ecs.launchTemplates[id];
    if (!lt) throw notFound('InvalidLaunchTemplate.NotFound', `LaunchTemplateId ${id}`);
    const imageId = optional(ctx.params, 'ImageId');
    if (imageId && !ctx.state.ecs.images[imageId])
      throw notFound('InvalidImageId.NotFound', `ImageId ${imageId}`);
    if (lt.versions.length >= 30)
      throw new ApiError(
        403,
        'QuotaExceed.LaunchTemplateVersion',
        'A launch template has at most 30 versions.',
      );
    const common = new Set([
      'Action',
      'Version',
      'Format',
      'AccessKeyId',
      'SignatureMethod',
      'SignatureVersion',
      'SignatureNonce',
      'Signature',
      'Timestamp',
      'SecurityToken',
      'RegionId',
      'LaunchTemplateId',
      'VersionDescription',
      'ImageId',
    ]);
    const data = Object.fromEntries(Object.entries(ctx.params).filter(([k]) => !common.has(k)));
    const versionNumber = Math.max(0, ...lt.versions.map((v) => v.VersionNumber)) + 1;
    lt.versions.push({ VersionNumber: versionNumber, DefaultVersion: false, ImageId: imageId ?? '', data });
    return { LaunchTemplateId: id, LaunchTemplateVersionNumber: versionNumber };
  },

  ModifyLaunchTemplateDefaultVersion(ctx) {
    const id = param(ctx.params, 'LaunchTemplateId');
    const lt = ctx.state.ecs.launchTemplates[id];
    if (!lt) throw notFound('InvalidLaunchTemplate.NotFound', `LaunchTemplateId ${id}`);
    const version = intParam(ctx.params, 'DefaultVersionNumber', { min: 1 });
    if (!lt.versions.some((v) => v.VersionNumber === version))
      throw notFound('InvalidLaunchTemplateVersion.NotFound', `version ${version} of ${id}`);
    for (const v of lt.versions) v.DefaultVersion = v.VersionNumber === version;
    return {};
  },

  DescribeLaunchTemplateVersions(ctx) {
    const id = param(ctx.params, 'LaunchTemplateId');
    const lt = ctx.state.ecs.launchTemplates[id];
    if (!lt) throw notFound('InvalidLaunchTemplate.NotFound', `LaunchTemplateId ${id}`);
    return {
      LaunchTemplateVersionSets: {
        LaunchTemplateVersionSet: lt.versions.map((v) => ({
          LaunchTemplateId: id,
          VersionNumber: v.VersionNumber,
          DefaultVersion: v.DefaultVersion,
          LaunchTemplateData: { ...v.data, ImageId: v.ImageId },
        })),
      },
      TotalCount: lt.versions.length,
      PageNumber: 1,
      PageSize: 50,
    };
  },
};
