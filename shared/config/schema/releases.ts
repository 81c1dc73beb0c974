import * as z from 'zod';
import { name } from './common.ts';

export const healthCheck = z.strictObject({
  url: z.url(),
  expectStatus: z.number().int().min(100).max(599).default(200),
  maxLatencyMs: z.number().int().positive().default(2000),
  passes: z.number().int().min(1).default(3),
  intervalSeconds: z.number().min(1).default(10),
});

export const releaseTarget = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('fc-alias'),
    function: z.string().min(1),
    alias: z.string().min(1),
    /** Canary weights in percent, ending at 100; empty promotes directly. */
    steps: z
      .array(z.number().min(1).max(100))
      .default([])
      .refine((s) => s.every((v, i) => i === 0 || v > s[i - 1]!), 'steps must increase'),
    stepWaitSeconds: z.number().int().min(0).default(300),
    healthChecks: z.array(healthCheck).default([]),
    requireApproval: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal('image-channel'),
    from: name,
    to: name,
    scalingConfiguration: z
      .strictObject({ scalingGroupId: z.string(), scalingConfigurationId: z.string() })
      .optional(),
    /** Promote and rollback add a version with the image to this launch template and make it the default. */
    launchTemplate: z.strictObject({ launchTemplateId: z.string() }).optional(),
    requireApproval: z.boolean().default(false),
  }),
]);

export const releases = z
  .strictObject({ targets: z.record(name, releaseTarget).default({}) })
  .default({ targets: {} });
