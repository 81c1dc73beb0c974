import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Cloud } from '../../shared/cloud/cloud.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import { type BuildJob, type ChannelEntry, channelKey, TAG } from '../../shared/images/build-job.ts';
import { selectedPaths } from '../../shared/images/match.ts';
import type { EventInput, Events } from '../../shared/notify/publish.ts';
import { UpstreamError } from '../../shared/runtime/errors.ts';
import type { Logger } from '../../shared/runtime/logger.ts';
import type { RunHandle } from '../../shared/runtime/once.ts';
import { runLog } from '../../shared/runtime/run-log.ts';
import type { Store } from '../../shared/store/port.ts';
import { changedPaths, checkoutCommit, GitError } from '../../shared/tools/git.ts';
import { type PackerCredentials, runPacker } from '../../shared/tools/packer.ts';
import { own } from '../../shared/util/records.ts';
import {
  type Collected,
  collectArtifacts,
  type ImageRef,
  type StoredFile,
  tagWhereTheyLive,
} from './artifacts.ts';
import { copyToRegions } from './copies.ts';
import { type SmokeResult, smokeTest } from './smoke.ts';

export interface BuildDeps {
  config: Config;
  store: Store;
  cloud: Cloud;
  /** The cloud in another region (images copied by `image_copy_regions` are tagged there). */
  cloudIn: (region: string) => Cloud;
  events: Events;
  credentials: PackerCredentials;
  now: () => Date;
  log: Logger;
  run: RunHandle;
  /** Where checkouts and packer's scratch go (under /tmp on FC). */
  scratchRoot: string;
  /** The most this build may take (the pipeline's timeout, capped by the function's). */
  timeoutMs: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  smokeIntervalMs?: number;
}

export type BuildOutcome =
  | {
      status: 'succeeded';
      pipeline: string;
      commit: string;
      images: Record<string, string>;
      allImages: ImageRef[];
      files: StoredFile[];
      channel: string | null;
      smoke: SmokeResult | null;
      /** Regions the image was to be copied to and is not (the build stands without them). */
      notCopied?: { region: string; reason: string }[];
    }
  | { status: 'skipped'; pipeline: string; commit: string; reason: string };

/** A build that cannot succeed by retrying it (bad template, failed test): the run fails, FC does not retry. */
export class BuildFailed extends UpstreamError {
  override name = 'BuildFailed';
  constructor(
    readonly stage: string,
    message: string,
  ) {
    super('image-build', message, { retryable: false, code: `BuildFailed.${stage}` });
  }
}

/** Fetch, packer validate + build, collect and tag, smoke-test, put on the channel; events throughout. */
export async function buildImage(deps: BuildDeps, job: BuildJob): Promise<BuildOutcome> {
  const pipeline = own(deps.config.images.pipelines, job.pipeline);
  if (!pipeline) throw new BuildFailed('config', `no image pipeline named ${job.pipeline}`);
  const subject = `pipeline ${job.pipeline} @ ${job.commit.slice(0, 12)}`;
  const publish = (e: Omit<EventInput, 'subject' | 'runId'>) =>
    deps.events
      .publish({ subject, runId: deps.run.id, labels: { pipeline: job.pipeline }, ...e })
      .catch((error) =>
        deps.log.warn('event not published', { kind: e.kind, error: (error as Error).message }),
      );

  const scratch = join(deps.scratchRoot, `build-${deps.run.id}`);
  const log = runLog(deps.run);
  try {
    mkdirSync(scratch, { recursive: true });
    const dir = join(scratch, 'src');
    const source = {
      url: pipeline.repository.url,
      token: pipeline.repository.token ? resolveSecret(pipeline.repository.token, deps.env) : undefined,
      host: pipeline.repository.host,
    };
    await deps.run.stage('fetch');
    log.line(`fetching ${job.commit} (${job.ref || 'no ref'})`);
    await checkoutCommit(source, job.commit, dir).catch((error) => {
      // A missing commit stays missing; a network failure may pass, so FC retries the job.
      if (error instanceof GitError && !error.permanent)
        throw new UpstreamError('git', error.message, { retryable: true });
      throw new BuildFailed('fetch', (error as Error).message);
    });

    if (job.paths === 'unknown') {
      const changed = await changedPaths(source, dir, job.before, job.commit);
      const selected = selectedPaths(pipeline.paths, changed);
      log.line(
        `the host did not list changed paths; the diff has ${changed.length}, ${selected.length} selected`,
      );
      if (selected.length === 0) {
        const reason = `no changed path matches ${pipeline.paths.join(', ')}`;
        log.line(`skipped: ${reason}`);
        return { status: 'skipped', pipeline: job.pipeline, commit: job.commit, reason };
      }
    }

    await publish({
      kind: 'image.build.started',
      severity: 'info',
      summary: `building ${pipeline.template} at ${job.refName || job.commit.slice(0, 12)}`,
      details: { commit: job.commit, ref: job.ref, trigger: job.trigger },
    });
    const started = deps.now();
    const variables = {
      ...pipeline.variables,
      commit: job.commit,
      branch: job.refKind === 'branch' ? job.refName : '',
      tag: job.refKind === 'tag' ? job.refName : '',
      run_id: deps.run.id,
      build_time: started.toISOString(),
      pipeline: job.pipeline,
    };
    const result = await runPacker({
      bin: deps.config.images.packer,
      dir,
      template: pipeline.template,
      variables,
      credentials: deps.credentials,
      region: deps.config.region,
      timeoutMs: deps.timeoutMs,
      scratch: join(scratch, 'packer'),
      onLog: log.line,
      onStage: (stage, detail) => void deps.run.stage(stage, detail ? { detail } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    if (!result.ok) {
      const what =
        result.stage === 'validate'
          ? 'the template does not validate'
          : result.stage === 'init'
            ? 'packer could not install the plugins the template needs'
            : `packer build ${result.reason}`;
      throw new BuildFailed(`packer-${result.stage}`, `${what}: ${result.message}`);
    }
    log.line(`packer made ${result.output.artifacts.length} artifact(s)`);

    const tags: Record<string, string> = {
      [TAG.pipeline]: job.pipeline,
      [TAG.commit]: job.commit,
      [TAG.runId]: deps.run.id,
    };
    if (job.ref) tags[TAG.ref] = job.ref.slice(0, 128);
    let collected: Collected;
    await deps.run.stage('import');
    try {
      collected = await collectArtifacts(
        { cloud: deps.cloud, config: deps.config, log: deps.log, now: deps.now },
        {
          pipelineName: job.pipeline,
          pipeline,
          commit: job.commit,
          dir,
          artifacts: result.output.artifacts,
          tags,
          runId: deps.run.id,
        },
      );
    } catch (error) {
      throw new BuildFailed('artifacts', (error as Error).message);
    }
    for (const [region, ids] of await tagWhereTheyLive(collected.images, tags, (region) =>
      region === deps.config.region ? deps.cloud : deps.cloudIn(region),
    ))
      log.line(`tagged ${ids.join(', ')} in ${region}`);
    const images: Record<string, string> = {};
    for (const i of collected.images) images[i.region] ??= i.imageId;

    let smoke: SmokeResult | null = null;
    if (pipeline.smokeTest) {
      const imageId = images[deps.config.region];
      if (!imageId)
        throw new BuildFailed('smoke-test', `the build made no image in ${deps.config.region} to smoke-test`);
      log.line(`smoke test of ${imageId} on ${pipeline.smokeTest.instanceType}`);
      await deps.run.stage('boot');
      smoke = await smokeTest(deps.cloud.ecs, imageId, pipeline.smokeTest, {
        onBooted: () => void deps.run.stage('test'),
        now: deps.now,
        log: deps.log,
        tags,
        ...(deps.smokeIntervalMs ? { intervalMs: deps.smokeIntervalMs } : {}),
      });
      log.line(`smoke test ${smoke.passed ? 'passed' : `failed: ${smoke.reason}`}`);
      if (smoke.output) log.line(smoke.output);
      if (!smoke.passed)
        throw new BuildFailed('smoke-test', `smoke test of ${imageId} failed: ${smoke.reason}`);
    }

    let copyFailed: { region: string; reason: string }[] = [];
    if (pipeline.copyRegions.length > 0) {
      await deps.run.stage('copy', { detail: pipeline.copyRegions.join(', ') });
      const made = await copyToRegions(
        {
          cloud: deps.cloud,
          cloudIn: deps.cloudIn,
          homeRegion: deps.config.region,
          now: deps.now,
          line: (text) => log.line(text),
        },
        images,
        pipeline.copyRegions,
        {
          tags,
          runId: deps.run.id,
          // Within the build's own time: what is left of it, less a minute to record the channel.
          timeoutMinutes: Math.max(
            0,
            Math.min(
              pipeline.copyTimeoutMinutes,
              (started.getTime() + deps.timeoutMs - deps.now().getTime() - 60_000) / 60_000,
            ),
          ),
        },
      );
      Object.assign(images, made.copied);
      copyFailed = made.failed;
    }

    let channel: string | null = null;
    if (pipeline.channel && Object.keys(images).length > 0) {
      channel = pipeline.channel;
      const entry: ChannelEntry = { images, pipeline: job.pipeline, commit: job.commit, runId: deps.run.id };
      await deps.store.appendHistory(
        channelKey(channel),
        { value: entry, actor: 'image-build', note: `built from ${job.refName || job.commit.slice(0, 12)}` },
        deps.run.fence ? { fence: deps.run.fence } : {},
      );
      log.line(`channel ${channel} now holds ${Object.values(images).join(', ')}`);
    }
    const seconds = Math.round((deps.now().getTime() - started.getTime()) / 1000);
    const list = Object.entries(images).map(([r, id]) => `${r}: ${id}`);
    const notCopied = copyFailed.map((f) => `${f.region}: ${f.reason}`).join('; ');
    await publish({
      kind: 'image.build.succeeded',
      severity: copyFailed.length ? 'warning' : 'info',
      summary: list.length
        ? `built ${list.join(', ')} in ${seconds} s${channel ? `; on channel ${channel}` : ''}${notCopied ? `; NOT copied to ${notCopied}` : ''}`
        : `built ${collected.files.length} file(s) in ${seconds} s (no ECS image)`,
      details: {
        notCopied: notCopied || null,
        commit: job.commit,
        images: list.join(', ') || null,
        files: collected.files.map((f) => f.key).join(', ') || null,
        channel,
        smokeTest: smoke ? 'passed' : null,
      },
    });
    return {
      status: 'succeeded',
      pipeline: job.pipeline,
      commit: job.commit,
      images,
      allImages: collected.images,
      files: collected.files,
      channel,
      smoke,
      ...(copyFailed.length ? { notCopied: copyFailed } : {}),
    };
  } catch (error) {
    const message = (error as Error).message;
    log.line(`FAILED: ${message}`);
    await publish({
      kind: 'image.build.failed',
      severity: 'error',
      summary: message.slice(0, 2000),
      details: {
        commit: job.commit,
        stage: error instanceof BuildFailed ? error.stage : 'internal',
        logTail: log.tail(15).slice(-3000),
      },
    });
    throw error;
  } finally {
    await log.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
