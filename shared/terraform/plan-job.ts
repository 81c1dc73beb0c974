import * as z from 'zod';

export const PLAN_JOB = 'terraform.plan';

/**
 * What `git-webhook` (or the terraform function's own HTTP API) hands the terraform function to plan.
 * Example: `{ "workspace": "loadtest", "trigger": "push", "requestedBy": "git:github",
 *   "source": { "kind": "commit", "repository": "acme/infra", "commit": "9c1e…", "ref": "refs/heads/main" } }`
 */
export const PlanJobSchema = z.object({
  workspace: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
  trigger: z.enum(['push', 'http', 'bundle', 'env']),
  requestedBy: z.string().min(1).max(200),
  source: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('commit'),
      repository: z.string().max(500).default(''),
      commit: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a full commit id'),
      ref: z.string().max(512).default(''),
    }),
    z.object({
      kind: z.literal('bundle'),
      bucket: z.string().min(3).max(63),
      key: z.string().min(1).max(1023),
      eTag: z.string().min(1).max(128),
    }),
  ]),
  /** The template in the config when `workspace` is an environment made from it. */
  template: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/)
    .optional(),
  /** What the plan is for: its approval rule follows (see approvalRule). */
  purpose: z.enum(['env-create', 'env-destroy']).optional(),
  /** An environment's own input variables, over the template's. */
  variables: z.record(z.string(), z.string().max(4096)).optional(),
  /** Which attempt of an environment's operation this is (keys the job). */
  attempt: z.number().int().min(1).optional(),
});
export type PlanJob = z.infer<typeof PlanJobSchema>;

/** A push plans a workspace at a commit once, however many deliveries name it. */
export const planKey = (workspace: string, commit: string) => `plan:${workspace}:${commit}`;
