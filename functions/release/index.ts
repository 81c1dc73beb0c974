// release: promote and roll back FC alias versions (with canaries), image channels and Kubernetes
// Deployments, over authenticated HTTP; the timer moves canaries and watched rollouts on.
import { RELEASE_ROLLBACK_JOB, ReleaseRollbackJob } from '../../shared/jobs/release-rollback.ts';
import { defineHandler, jobRoute } from '../../shared/runtime/define-handler.ts';
import { ConflictError } from '../../shared/runtime/errors.ts';
import { own } from '../../shared/util/records.ts';
import { advanceAll } from './advance.ts';
import { handle } from './api.ts';
import { isBusy, releaseDeps, withTargetLock } from './state.ts';
import { reconcile, rollback } from './target.ts';

export const handler = defineHandler({
  http: (request, ctx) => handle(request, ctx),
  timer: {
    // "Now" is the trigger time when it is ahead of the clock (a test moving time on), else the clock.
    run: (input, ctx) =>
      advanceAll(
        {
          ...releaseDeps(ctx),
          now: () => new Date(Math.max(input.triggerTime.getTime(), ctx.now().getTime())),
        },
        ctx.requestId,
      ),
  },
  jobs: {
    // Once per asking (its idempotency key), under the target's lock like every other change; a
    // target someone holds fails the job for FC to retry it.
    [RELEASE_ROLLBACK_JOB]: jobRoute(ReleaseRollbackJob, (job, _m, ctx) =>
      ctx.once(
        async () => {
          const target = own(ctx.config.releases.targets, job.target);
          if (!target) {
            ctx.log.error('rollback asked for an unknown release target', { target: job.target, by: job.by });
            return { refused: `no release target named ${job.target}` };
          }
          const d = releaseDeps(ctx);
          const outcome = await withTargetLock(d, job.target, ctx.requestId, async (l) => {
            await reconcile(l, job.target, target);
            return rollback(
              l,
              job.target,
              target,
              { dryRun: false, reason: job.reason },
              { kind: 'system', name: job.by },
            );
          });
          if (isBusy(outcome)) throw new ConflictError(`${job.target} is held by ${outcome.holder}`);
          return outcome;
        },
        { kind: RELEASE_ROLLBACK_JOB, subject: job.target },
      ),
    ),
  },
});
