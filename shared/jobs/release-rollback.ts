import * as z from 'zod';

/** A rollback asked of `release` by another function (a monitoring check that went down, an alarm). */
export const RELEASE_ROLLBACK_JOB = 'release.rollback';

export const ReleaseRollbackJob = z.object({
  target: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
  by: z.string().min(1).max(300),
  reason: z.string().max(500),
});
export type ReleaseRollbackJob = z.infer<typeof ReleaseRollbackJob>;
