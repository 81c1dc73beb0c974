import * as z from 'zod/mini';
import { lazySchema } from '../events/parse.ts';

export const PLAN_JOB = 'terraform.plan';

/**
 * What `git-webhook` (or the terraform function's own HTTP API) hands the terraform function to plan.
 * Example: `{ "workspace": "loadtest", "trigger": "push", "requestedBy": "git:github",
 *   "source": { "kind": "commit", "repository": "acme/infra", "commit": "9c1e…", "ref": "refs/heads/main" } }`
 */
export const PlanJobSchema = lazySchema(() =>
  z.object({
    workspace: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/)),
    trigger: z.enum(['push', 'http', 'bundle', 'env']),
    requestedBy: z.string().check(z.minLength(1), z.maxLength(200)),
    source: z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('commit'),
        repository: z._default(z.string().check(z.maxLength(500)), ''),
        commit: z.string().check(z.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a full commit id')),
        ref: z._default(z.string().check(z.maxLength(512)), ''),
      }),
      z.object({
        kind: z.literal('bundle'),
        bucket: z.string().check(z.minLength(3), z.maxLength(63)),
        key: z.string().check(z.minLength(1), z.maxLength(1023)),
        eTag: z.string().check(z.minLength(1), z.maxLength(128)),
      }),
    ]),
    /** The template in the config when `workspace` is an environment made from it. */
    template: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/))),
    /** What the plan is for: its approval rule follows (see approvalRule). */
    purpose: z.optional(z.enum(['env-create', 'env-destroy'])),
    /** An environment's own input variables, over the template's. */
    variables: z.optional(z.record(z.string(), z.string().check(z.maxLength(4096)))),
    /** Which attempt of an environment's operation this is (keys the job). */
    attempt: z.optional(z.int().check(z.gte(1))),
  }),
);
export type PlanJob = z.infer<typeof PlanJobSchema>;

/** A push plans a workspace at a commit once, however many deliveries name it. */
export const planKey = (workspace: string, commit: string) => `plan:${workspace}:${commit}`;
