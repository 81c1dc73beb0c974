// git-webhook: verify a push from GitHub, GitLab, Codeup or Gitee, match pipelines, enqueue builds, answer 202.

import { enqueueJob } from '../../shared/cloud/jobs.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import {
  hostOf,
  MAX_WEBHOOK_BYTES,
  readDelivery,
  UnsupportedDelivery,
} from '../../shared/events/git/delivery.ts';
import { json } from '../../shared/events/http.ts';
import { BUILD_JOB, type BuildJob } from '../../shared/images/build-job.ts';
import { matchPipelines, type PipelineFilter } from '../../shared/images/match.ts';
import { defineHandler } from '../../shared/runtime/define-handler.ts';
import { PLAN_JOB, type PlanJob } from '../../shared/terraform/plan-job.ts';
import { authenticate, candidateSecrets } from './authenticate.ts';

const BUILDER = process.env.FC_DEVOPS_IMAGE_BUILD_FUNCTION ?? 'image-build';
const TERRAFORM = process.env.FC_DEVOPS_TERRAFORM_FUNCTION ?? 'terraform';

/** The workspaces that follow a repository, as filters `matchPipelines` reads. */
function workspaceFilters(config: Config) {
  const out: Record<string, PipelineFilter> = {};
  for (const [name, ws] of Object.entries(config.terraform.workspaces)) {
    if (ws.repository)
      out[name] = { repository: ws.repository, branches: ws.branches, tags: [], paths: ws.paths };
  }
  return out;
}

export const handler = defineHandler({
  http: async (request, ctx) => {
    if (request.method !== 'POST')
      return json(405, { error: 'MethodNotAllowed', message: 'webhooks are POSTed' }, { allow: 'POST' });
    if (request.body.length > MAX_WEBHOOK_BYTES)
      return json(413, {
        error: 'PayloadTooLarge',
        message: `${request.body.length} bytes; a webhook is at most ${MAX_WEBHOOK_BYTES}`,
      });
    let delivery: ReturnType<typeof readDelivery>;
    try {
      delivery = readDelivery(request.headers, request.body);
    } catch (error) {
      if (error instanceof UnsupportedDelivery)
        return json(400, { error: 'UnsupportedDelivery', message: error.message });
      // A body that is not a push: only a sender holding some pipeline's secret hears what is wrong with it.
      const host = hostOf(request.headers);
      const auth = authenticate(
        host,
        request.headers,
        request.body,
        candidateSecrets(ctx.config, undefined),
        ctx.now(),
      );
      if (!auth.ok) return json(401, { error: 'Unauthenticated', message: auth.reason });
      throw error;
    }
    const push = delivery.kind === 'push' ? delivery.push : undefined;
    const auth = authenticate(
      delivery.host,
      request.headers,
      request.body,
      candidateSecrets(ctx.config, push),
      ctx.now(),
    );
    if (!auth.ok) {
      ctx.log.warn('webhook refused', { host: delivery.host, delivery: delivery.id, reason: auth.reason });
      return json(401, { error: 'Unauthenticated', message: auth.reason });
    }
    if (delivery.kind === 'ping')
      return json(200, { pong: true, host: delivery.host, delivery: delivery.id });
    if (!push)
      return json(202, { delivery: delivery.id, jobs: [], ignored: 'the ref is neither a branch nor a tag' });

    const matches = matchPipelines(push, ctx.config.images.pipelines);
    const skipped = matches
      .filter((m) => !m.matched)
      .map((m) => ({ pipeline: m.pipeline, reason: m.reason }));
    // Terraform workspaces are matched exactly as pipelines are (no tags: a workspace follows branches).
    const workspaces = matchPipelines(push, workspaceFilters(ctx.config));
    const skippedWorkspaces = workspaces
      .filter((m) => !m.matched)
      .map((m) => ({ workspace: m.pipeline, reason: m.reason }));
    const done = await ctx.once(
      async () => {
        const jobs: { pipeline: string; job: string; idempotencyKey: string }[] = [];
        for (const m of matches) {
          if (!m.matched) continue;
          const payload: BuildJob = {
            pipeline: m.pipeline,
            commit: push.after,
            ref: push.ref,
            refKind: push.kind,
            refName: push.name,
            before: push.before,
            paths: m.paths,
            trigger: 'push',
            delivery: `${delivery.host}:${delivery.id}`,
          };
          const idempotencyKey = `delivery:${delivery.host}:${delivery.id}:pipeline:${m.pipeline}`;
          const message = await enqueueJob(ctx.cloud.fc, BUILDER, {
            kind: BUILD_JOB,
            idempotencyKey,
            payload,
            correlationId: ctx.correlationId,
          });
          jobs.push({ pipeline: m.pipeline, job: message.id, idempotencyKey });
        }
        const plans: { workspace: string; job: string; idempotencyKey: string }[] = [];
        for (const m of workspaces) {
          if (!m.matched) continue;
          const payload: PlanJob = {
            workspace: m.pipeline,
            trigger: 'push',
            requestedBy: `git:${delivery.host}`,
            source: { kind: 'commit', repository: push.repository, commit: push.after, ref: push.ref },
          };
          const idempotencyKey = `delivery:${delivery.host}:${delivery.id}:workspace:${m.pipeline}`;
          const message = await enqueueJob(ctx.cloud.fc, TERRAFORM, {
            kind: PLAN_JOB,
            idempotencyKey,
            payload,
            correlationId: ctx.correlationId,
          });
          plans.push({ workspace: m.pipeline, job: message.id, idempotencyKey });
        }
        return {
          delivery: delivery.id,
          host: delivery.host,
          commit: push.after,
          ref: push.ref,
          jobs,
          skipped,
          ...(plans.length || skippedWorkspaces.length ? { plans, skippedWorkspaces } : {}),
        };
      },
      {
        key: `delivery:${delivery.host}:${delivery.id}`,
        kind: 'git.push',
        subject: `${push.repository}@${push.ref}`,
      },
    );
    if (done.status === 'duplicate') return json(200, { duplicate: true, ...(done.result as object) });
    ctx.log.info('push accepted', {
      delivery: delivery.id,
      jobs: done.result.jobs.length,
      plans: done.result.plans?.length ?? 0,
    });
    return json(202, done.result);
  },
});
