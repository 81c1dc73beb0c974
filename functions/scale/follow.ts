// Following a change to its end: the activity (ESS) or task (ACK) is polled until it finishes,
// then its end is announced; a follow that outlives the function hands over to the next one.
import * as z from 'zod/mini';
import { enqueueJob } from '../../shared/cloud/jobs.ts';
import { pollUntil } from '../../shared/cloud/poll.ts';
import { lazySchema } from '../../shared/events/parse.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import { targetOf } from './change.ts';
import { progress } from './target.ts';

export const FOLLOW_JOB = 'scale.follow';
const MAX_ROUNDS = 30;

export const FollowJob = lazySchema(() =>
  z.object({
    target: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/)),
    activity: z.object({
      id: z.string().check(z.minLength(1), z.maxLength(200)),
      kind: z.string().check(z.maxLength(100)),
    }),
    from: z.int(),
    to: z.int(),
    reason: z.string().check(z.maxLength(2000)),
    round: z._default(z.int().check(z.gte(1)), 1),
  }),
);
export type FollowJob = z.infer<typeof FollowJob>;

export const followKey = (job: Pick<FollowJob, 'target' | 'activity' | 'round'>) =>
  `follow:${job.target}:${job.activity.id}:${job.round}`;

export async function startFollow(ctx: HandlerContext, self: string, job: FollowJob) {
  await enqueueJob(ctx.cloud.fc, self, {
    kind: FOLLOW_JOB,
    idempotencyKey: followKey(job),
    payload: job,
    correlationId: ctx.correlationId,
  });
}

export async function follow(ctx: HandlerContext, self: string, job: FollowJob) {
  const t = targetOf(ctx, job.target);
  if (!t) return { skipped: `no scaling target named ${job.target}` };
  const deadline = new Date(Date.now() + Math.max(5_000, ctx.fc.function.timeout * 1000 - 15_000));
  const outcome = await pollUntil(
    () => progress(ctx.cloud, t, job.activity.id),
    (p) => p.done,
    { deadline, intervalMs: 1000, maxIntervalMs: 15_000 },
  );
  if (outcome.status === 'deadline') {
    if (job.round >= MAX_ROUNDS) {
      await tellEnd(
        ctx,
        job,
        'scale.failed',
        'error',
        `did not finish after ${MAX_ROUNDS} rounds of following`,
      );
      return { ended: false, rounds: job.round };
    }
    await startFollow(ctx, self, { ...job, round: job.round + 1 });
    return { ended: false, handedOver: job.round + 1 };
  }
  const p = outcome.value;
  await tellEnd(
    ctx,
    job,
    p.ok ? 'scale.completed' : 'scale.failed',
    p.ok ? 'info' : 'error',
    `${job.activity.kind} ${job.activity.id} ${p.ok ? 'finished' : 'failed'}: ${p.detail}`,
  );
  return { ended: true, ok: p.ok, detail: p.detail };
}

async function tellEnd(
  ctx: HandlerContext,
  job: FollowJob,
  kind: string,
  severity: 'info' | 'error',
  what: string,
) {
  await ctx.events
    .publish({
      kind,
      severity,
      subject: job.target,
      summary: `${job.target} ${job.from} → ${job.to}: ${what}`,
      details: {
        from: job.from,
        to: job.to,
        reason: job.reason,
        activity: `${job.activity.kind} ${job.activity.id}`,
      },
    })
    .catch((error: Error) => ctx.log.warn('event not published', { error: error.message }));
}
