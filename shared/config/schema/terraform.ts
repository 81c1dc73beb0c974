import * as z from 'zod';
import { glob, repository, schedule } from './common.ts';
import { secretRef } from './secret.ts';

/** A value passed to Terraform: a literal, or a `${env:NAME}` reference resolved when it runs. */
const value = z.string().max(4096);

/**
 * Where a workspace keeps its state. `fc-devops` (the default): the function serves Terraform's
 * `http` backend on loopback for each run and keeps every state version in the state store, locked
 * with its leased locks. `pg` or `oss`: the workspace's own backend, configured with
 * `-backend-config` (secrets as `${env:NAME}`, passed through the environment, never argv).
 */
export const backend = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('fc-devops') }),
  z.strictObject({ type: z.literal('pg'), config: z.record(z.string(), value).default({}) }),
  z.strictObject({ type: z.literal('oss'), config: z.record(z.string(), value).default({}) }),
]);

/** What environments made from a workspace may ask for, and how their end is handled. */
export const environments = z
  .strictObject({
    /** The time to live when `env create` does not say. */
    defaultTtlHours: z
      .number()
      .positive()
      .max(24 * 365)
      .default(4),
    /** No environment lives longer, counted from its creation (extensions included). */
    maxTtlHours: z
      .number()
      .positive()
      .max(24 * 365)
      .default(72),
    /** The owner is reminded this long before the destroy (0: no reminder). */
    remindMinutesBefore: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(30),
    /** The destroy at expiry waits for an approver (by default it goes ahead: that is the point). */
    destroyNeedsApproval: z.boolean().default(false),
    /** Attempts at a failing destroy (with growing pauses) before it waits for a person. */
    destroyAttempts: z.number().int().min(1).max(20).default(5),
  })
  .refine((e) => e.defaultTtlHours <= e.maxTtlHours, {
    message: 'defaultTtlHours is more than maxTtlHours',
    path: ['defaultTtlHours'],
  });

export const workspace = z.strictObject({
  repository: repository.optional(),
  /** Directory of the Terraform root module inside the repository or the uploaded bundle. */
  dir: z
    .string()
    .default('.')
    .refine((d) => !d.startsWith('/') && !d.split('/').includes('..'), 'a path inside the repository'),
  branches: z.array(glob).default(['main']),
  paths: z.array(glob).default(['**']),
  /** Input variables (passed as TF_VAR_<name>); `${env:NAME}` values are resolved at run time. */
  variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/), value).default({}),
  /**
   * Makes the workspace a template of environments (`fc-devops env create <workspace>`): each one
   * its own state, owner and time to live, destroyed when its time is up.
   */
  environments: environments.optional(),
  requireApproval: z.boolean().default(true),
  /** Apply a plan with changes and nothing destroyed or replaced without waiting for anyone. */
  autoApply: z.boolean().default(false),
  /** What a plan that destroys or replaces something needs: more approvers, and/or a named action. */
  destructive: z
    .strictObject({
      approvers: z.number().int().min(1).max(2).default(1),
      /** Each approver must also be allowed this action on the workspace (e.g. `destroy`). */
      action: z.enum(['approve', 'destroy', 'apply']).default('approve'),
    })
    .default({ approvers: 1, action: 'approve' }),
  backend: backend.default({ type: 'fc-devops' }),
  planTtlMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .optional(),
  /**
   * Compare the real infrastructure with the state and the configuration on a schedule (the
   * workspace and each of its environments): `plan -refresh-only` and a normal plan, decided from
   * their JSON. `openPlan` also keeps the normal plan, awaiting approval, to reconcile (never applied
   * by itself).
   */
  driftCheck: z.strictObject({ schedule, openPlan: z.boolean().default(false) }).optional(),
});

export const terraform = z
  .strictObject({
    binary: z.string().default('terraform'),
    /**
     * Key for saved plans at rest (AES-256-GCM): a plan file holds the configuration, the prior
     * state and the backend settings. Needed as soon as there is a workspace.
     */
    planKey: secretRef.optional(),
    /** How long a plan may wait for its apply; a workspace can say otherwise. */
    planTtlMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(120),
    /** How long Terraform waits for the state lock before giving up. */
    lockTimeoutSeconds: z.number().int().min(0).max(3600).default(300),
    /** Providers without the internet: a filesystem mirror (from a layer) and a plugin cache. */
    providers: z
      .strictObject({ mirror: z.string().optional(), pluginCacheDir: z.string().optional() })
      .default({}),
    /** Workspace bundles uploaded to OSS: `<prefix><workspace>/<name>.tar.gz|.zip` is planned once per eTag. */
    bundles: z
      .strictObject({
        bucket: z.string().min(3).max(63),
        prefix: z.string().default('terraform/'),
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(50 * 1024 * 1024),
        maxFiles: z.number().int().positive().default(5000),
      })
      .optional(),
    workspaces: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/), workspace).default({}),
  })
  .superRefine((t, ctx) => {
    for (const [name, ws] of Object.entries(t.workspaces))
      if (ws.environments && ws.backend.type !== 'fc-devops')
        ctx.addIssue({
          code: 'custom',
          path: ['workspaces', name, 'environments'],
          message: 'environments keep their state in fc-devops: the workspace needs backend type fc-devops',
        });
    if (Object.keys(t.workspaces).length > 0 && !t.planKey)
      ctx.addIssue({
        code: 'custom',
        path: ['planKey'],
        message: 'workspaces need a planKey (${env:NAME}): saved plans hold state and are encrypted with it',
      });
  })
  .default({
    binary: 'terraform',
    planTtlMinutes: 120,
    lockTimeoutSeconds: 300,
    providers: {},
    workspaces: {},
  });
