import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { Cloud } from '../../shared/cloud/cloud.ts';
import { pollUntil } from '../../shared/cloud/poll.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import { UpstreamError } from '../../shared/runtime/errors.ts';
import type { Logger } from '../../shared/runtime/logger.ts';
import { alicloudImages, type PackerArtifact } from '../../shared/tools/packer-output.ts';
import { globMatches } from '../../shared/util/glob.ts';

type Pipeline = Config['images']['pipelines'][string];

export interface ImageRef {
  region: string;
  imageId: string;
  build: string;
  /** Made by importing this file (object key), not by the alicloud builder. */
  importedFrom?: string;
}

export interface StoredFile {
  build: string;
  path: string;
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
}

export interface Collected {
  images: ImageRef[];
  files: StoredFile[];
}

/** The ECS images of alicloud-ecs artifacts, one per region each (copies included). */
export function imagesOf(artifacts: PackerArtifact[]): ImageRef[] {
  return artifacts.flatMap((a) =>
    Object.entries(alicloudImages(a)).map(([region, imageId]) => ({ region, imageId, build: a.build })),
  );
}

/** The files of other builders' artifacts, relative to the checkout. */
export function filesOf(artifacts: PackerArtifact[], dir: string): { build: string; path: string }[] {
  return artifacts.flatMap((a) =>
    a.files
      .filter((f): f is string => !!f)
      .map((f) => ({ build: a.build || a.builderId, path: isAbsolute(f) ? relative(dir, f) : f })),
  );
}

/**
 * Image names allow letters, digits, `.`, `_`, `-` and `:`, 2-128 characters with a letter first, and
 * must be unique in the region: a rebuild of the same commit gets its own (the run id ends it).
 */
export function imageName(pipeline: string, commit: string, now: Date, build: string, runId: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 13);
  const name = `${pipeline}-${build}-${commit.slice(0, 12)}-${stamp}`.replace(/[^A-Za-z0-9._:-]/g, '-');
  return `${name.slice(0, 110)}-${runId.slice(-12)}`;
}

/**
 * Store other builders' files in OSS (recorded with size and SHA-256) and import those the pipeline
 * marks as disk images; collect the alicloud builder's images as they are.
 */
export async function collectArtifacts(
  deps: { cloud: Cloud; config: Config; log: Logger; now: () => Date },
  input: {
    pipelineName: string;
    pipeline: Pipeline;
    commit: string;
    dir: string;
    artifacts: PackerArtifact[];
    tags: Record<string, string>;
    runId: string;
  },
): Promise<Collected> {
  const images = imagesOf(input.artifacts);
  const files: StoredFile[] = [];
  const localFiles = filesOf(input.artifacts, input.dir);
  if (localFiles.length > 0 && !deps.config.bucket)
    throw new UpstreamError(
      'artifacts',
      'the build made files but the config names no `bucket` to keep them in',
      {
        retryable: false,
      },
    );
  for (const f of localFiles) {
    const abs = join(input.dir, f.path);
    const key = `artifacts/${input.pipelineName}/${input.commit}/${f.build}/${f.path}`;
    const { bytes } = await deps.cloud.oss.putFile(deps.config.bucket!, key, abs);
    const stored = {
      build: f.build,
      path: f.path,
      bucket: deps.config.bucket!,
      key,
      bytes,
      sha256: await sha256File(abs),
    };
    files.push(stored);
    deps.log.info('artifact stored', { key, bytes: stored.bytes });
    const imp = input.pipeline.import;
    if (!imp?.files.some((g) => globMatches(g, f.path))) continue;
    const { imageId } = await deps.cloud.ecs.importImage({
      bucket: stored.bucket,
      key,
      format: imp.format,
      name: imageName(input.pipelineName, input.commit, deps.now(), f.build, input.runId),
      family: input.pipeline.family,
      platform: imp.platform,
      osType: imp.osType,
      architecture: imp.architecture,
      tags: input.tags,
    });
    deps.log.info('importing disk image', { key, imageId });
    const ready = await pollUntil(
      async () => (await deps.cloud.ecs.describeImages({ ids: [imageId] }))[0]?.Status,
      (s) => s === 'Available' || s === 'CreateFailed' || s === 'UnAvailable',
      {
        deadline: new Date(deps.now().getTime() + imp.timeoutMinutes * 60_000),
        intervalMs: 2000,
        now: deps.now,
      },
    );
    if (ready.status !== 'done' || ready.value !== 'Available')
      throw new UpstreamError(
        'ecs',
        `importing ${key} as ${imageId} ended ${ready.status === 'done' ? ready.value : 'past its deadline'}`,
        { retryable: false },
      );
    images.push({ region: deps.config.region, imageId, build: f.build, importedFrom: key });
  }
  return { images, files };
}

/**
 * Tag the builder's images in the region each lives in (copies from `image_copy_regions` included);
 * imported images were tagged when they were created. Returns the ids tagged per region.
 */
export async function tagWhereTheyLive(
  images: ImageRef[],
  tags: Record<string, string>,
  cloudIn: (region: string) => Cloud,
): Promise<Map<string, string[]>> {
  const byRegion = new Map<string, string[]>();
  for (const i of images)
    if (!i.importedFrom) byRegion.set(i.region, [...(byRegion.get(i.region) ?? []), i.imageId]);
  for (const [region, ids] of byRegion) await cloudIn(region).ecs.tagImages(ids, tags);
  return byRegion;
}

/** SHA-256 of a file, read as a stream (disk images do not fit in memory). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
