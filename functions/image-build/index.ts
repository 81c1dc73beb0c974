// image-build: a commit of a pipeline's repository -> packer -> tagged, smoke-tested ECS images on a channel.
import { tmpdir } from 'node:os';
import * as z from 'zod/mini';
import { guardedRun } from '../../shared/auth/guard.ts';
import { enqueueJob } from '../../shared/cloud/jobs.ts';
import { type HttpRequest, json, parseJsonBody } from '../../shared/events/http.ts';
import { lazySchema } from '../../shared/events/parse.ts';
import { BUILD_JOB, type BuildJob, BuildJobSchema, buildKey } from '../../shared/images/build-job.ts';
import { defineHandler, type HandlerContext, jobRoute } from '../../shared/runtime/define-handler.ts';
import { own } from '../../shared/util/records.ts';
import { buildImage } from './build.ts';

const SELF = process.env.FC_FUNCTION_NAME ?? 'image-build';
/** Leave this long before FC's own timeout to kill packer (it then deletes its temporary instance). */
const MARGIN_MS = 30_000;

const RebuildBody = lazySchema(() =>
  z.strictObject({
    commit: z.string().check(z.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a full commit id')),
    ref: z.optional(z.string().check(z.maxLength(512))),
  }),
);

/**
 * One build per pipeline and commit at a time, whichever delivery or rebuild asked for it (the lock);
 * a push builds a commit once however many deliveries name it (the key). Another delivery of a
 * commit whose build is running is answered "building", not retried: FC would retry it for the
 * length of the build and give up anyway. A rebuild has a key of its own and waits its turn.
 */
async function build(job: BuildJob, ctx: HandlerContext) {
  const pipeline = own(ctx.config.images.pipelines, job.pipeline);
  const fnBudget = ctx.fc.function.timeout * 1000 - MARGIN_MS;
  const timeoutMs = Math.max(10_000, Math.min((pipeline?.timeoutMinutes ?? 60) * 60_000, fnBudget));
  const cancel = new AbortController();
  const timer = setTimeout(() => cancel.abort(), Math.max(10_000, fnBudget));
  timer.unref();
  const push = job.trigger === 'push';
  try {
    const outcome = await ctx.once(
      (run) =>
        buildImage(
          {
            config: ctx.config,
            store: ctx.store,
            cloud: ctx.cloud,
            cloudIn: ctx.cloudIn,
            events: ctx.events,
            credentials: ctx.fc.credentials,
            now: ctx.now,
            log: run.log,
            run,
            scratchRoot: process.env.FC_DEVOPS_SCRATCH ?? tmpdir(),
            timeoutMs,
            signal: AbortSignal.any([cancel.signal, run.signal]),
          },
          job,
        ),
      {
        kind: BUILD_JOB,
        subject: `${job.pipeline}@${job.commit.slice(0, 12)}`,
        key: push ? buildKey(job.pipeline, job.commit) : undefined,
        // Deliveries and pipelines name the same commit in different words; what is built is the same.
        payload: { pipeline: job.pipeline, commit: job.commit, trigger: job.trigger },
        lock: buildKey(job.pipeline, job.commit),
        whenBusy: push ? 'report' : 'conflict',
      },
    );
    if (outcome.status === 'busy') return { status: 'building', duplicate: true, message: outcome.message };
    return outcome.status === 'duplicate'
      ? { duplicate: true, ...(outcome.result as object) }
      : { runId: outcome.runId, ...outcome.result };
  } finally {
    clearTimeout(timer);
  }
}

export const handler = defineHandler({
  jobs: {
    [BUILD_JOB]: jobRoute(BuildJobSchema, (job, _m, ctx) => build(job, ctx)),
  },
  // POST /pipelines/<name>/builds {commit, ref?}: build that commit again (authenticated, action `run`).
  http: (request, ctx) =>
    guardedRun(
      request,
      /^\/pipelines\/([a-z][a-z0-9-]{0,62})\/builds\/?$/,
      (m) => m[1]!,
      ctx.guardDeps,
      (keyId, name) => rebuild(request, ctx, keyId, name),
    ),
});

async function rebuild(request: HttpRequest, ctx: HandlerContext, keyId: string, name: string) {
  if (!own(ctx.config.images.pipelines, name))
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
    requestedBy: keyId,
  };
  const idempotencyKey = `rebuild:${keyId}:${name}:${body.commit}:${request.headers['idempotency-key'] ?? request.requestId}`;
  const message = await enqueueJob(ctx.cloud.fc, SELF, {
    kind: BUILD_JOB,
    idempotencyKey,
    payload: job,
    correlationId: ctx.correlationId,
  });
  return json(202, { pipeline: name, commit: body.commit, job: message.id, idempotencyKey });
}
