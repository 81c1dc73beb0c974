// image-build: a commit of a pipeline's repository -> packer -> tagged, smoke-tested ECS images on a channel.
import { tmpdir } from 'node:os';
import * as z from 'zod';
import { guardRunEndpoint } from '../../shared/auth/guard.ts';
import { cloudFromContext } from '../../shared/cloud/cloud.ts';
import { configPath, loadConfig } from '../../shared/config/load.ts';
import { json, parseJsonBody } from '../../shared/events/http.ts';
import { createJob } from '../../shared/events/job.ts';
import { BUILD_JOB, type BuildJob, BuildJobSchema, buildKey } from '../../shared/images/build-job.ts';
import { eventsVia } from '../../shared/notify/publish.ts';
import { defineHandler, type HandlerContext, jobRoute } from '../../shared/runtime/define-handler.ts';
import { ConflictError } from '../../shared/runtime/errors.ts';
import { storeFromEnv } from '../../shared/store/open.ts';
import { buildImage } from './build.ts';

const config = loadConfig(configPath());
const store = storeFromEnv();
const SELF = process.env.FC_FUNCTION_NAME ?? 'image-build';
/** Leave this long before FC's own timeout to kill packer (it then deletes its temporary instance). */
const MARGIN_MS = 30_000;

const RebuildBody = z.strictObject({
  commit: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a full commit id'),
  ref: z.string().max(512).optional(),
});

async function build(job: BuildJob, ctx: HandlerContext, key: string | undefined) {
  const pipeline = config.images.pipelines[job.pipeline];
  const fnBudget = ctx.fc.function.timeout * 1000 - MARGIN_MS;
  const timeoutMs = Math.max(10_000, Math.min((pipeline?.timeoutMinutes ?? 60) * 60_000, fnBudget));
  const cancel = new AbortController();
  const timer = setTimeout(() => cancel.abort(), Math.max(10_000, fnBudget));
  timer.unref();
  try {
    const outcome = await once(job, key, async () =>
      ctx.once(
        async (run) =>
          buildImage(
            {
              config,
              store: await store(),
              cloud: cloudFromContext(ctx.fc, process.env, ctx.log),
              cloudIn: (region) => cloudFromContext({ ...ctx.fc, region }, process.env, ctx.log),
              events: eventsVia(cloudFromContext(ctx.fc).fc),
              credentials: ctx.fc.credentials,
              now: ctx.now,
              log: run.log,
              run,
              scratchRoot: process.env.FC_DEVOPS_SCRATCH ?? tmpdir(),
              timeoutMs,
              signal: cancel.signal,
            },
            job,
          ),
        { kind: BUILD_JOB, subject: `${job.pipeline}@${job.commit.slice(0, 12)}`, ...(key ? { key } : {}) },
      ),
    );
    if (outcome.status === 'building') return outcome;
    return outcome.status === 'duplicate'
      ? { duplicate: true, ...(outcome.result as object) }
      : { runId: outcome.runId, ...outcome.result };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Another delivery of the same commit while its build runs is a duplicate, not a conflict to retry:
 * FC would retry it for the length of the build and then give up on it anyway.
 */
async function once<T>(
  job: BuildJob,
  key: string | undefined,
  work: () => Promise<T>,
): Promise<T | { status: 'building'; duplicate: true; message: string }> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ConflictError && key && job.trigger === 'push')
      return { status: 'building', duplicate: true, message: error.message };
    throw error;
  }
}

export const handler = defineHandler({
  store,
  jobs: {
    // A push builds a commit once, however many deliveries or pipelines' pushes name it.
    [BUILD_JOB]: jobRoute(BuildJobSchema, (job, _m, ctx) =>
      build(job, ctx, job.trigger === 'push' ? buildKey(job.pipeline, job.commit) : undefined),
    ),
  },
  // POST /pipelines/<name>/builds {commit, ref?}: build that commit again (authenticated, action `run`).
  http: async (request, ctx) => {
    const gate = await guardRunEndpoint(
      request,
      /^\/pipelines\/([a-z][a-z0-9-]{0,62})\/builds\/?$/,
      (m) => m[1]!,
      { keys: config.access.keys, store: await store(), now: ctx.now },
    );
    if (!gate.ok) return gate.response;
    const name = gate.target;
    if (!config.images.pipelines[name])
      return json(404, { error: 'PipelineNotFound', message: `no image pipeline named ${name}` });
    const body = parseJsonBody(request, RebuildBody);
    const job: BuildJob = {
      pipeline: name,
      commit: body.commit,
      ref: body.ref ?? '',
      refKind: body.ref?.startsWith('refs/tags/') ? 'tag' : body.ref ? 'branch' : 'commit',
      refName: body.ref?.replace(/^refs\/(heads|tags)\//, '') ?? '',
      paths: 'known',
      trigger: 'rebuild',
      requestedBy: gate.keyId,
    };
    const idempotencyKey = `rebuild:${gate.keyId}:${name}:${body.commit}:${request.headers['idempotency-key'] ?? request.requestId}`;
    const { message, bytes } = createJob({
      kind: BUILD_JOB,
      idempotencyKey,
      payload: job,
      correlationId: ctx.correlationId,
    });
    await cloudFromContext(ctx.fc).fc.invokeAsync(SELF, bytes);
    return json(202, { pipeline: name, commit: body.commit, job: message.id, idempotencyKey });
  },
});
