import * as z from 'zod/mini';
import { lazySchema } from '../events/parse.ts';

/** A rollback asked of `release` by another function (a monitoring check that went down, an alarm). */
export const RELEASE_ROLLBACK_JOB = 'release.rollback';

export const ReleaseRollbackJob = lazySchema(() =>
  z.object({
    target: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/)),
    by: z.string().check(z.minLength(1), z.maxLength(300)),
    reason: z.string().check(z.maxLength(500)),
  }),
);
export type ReleaseRollbackJob = z.infer<typeof ReleaseRollbackJob>;
