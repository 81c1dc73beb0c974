import * as z from 'zod';
import { glob, repository } from './common.ts';

export const workspace = z.strictObject({
  repository: repository.optional(),
  /** Directory of the Terraform root module inside the repository or the uploaded bundle. */
  dir: z.string().default('.'),
  branches: z.array(glob).default(['main']),
  paths: z.array(glob).default(['**']),
  variables: z.record(z.string(), z.string()).default({}),
  /** Destroy the environment this long after it was applied. */
  ttlHours: z
    .number()
    .positive()
    .max(24 * 365)
    .optional(),
  requireApproval: z.boolean().default(true),
  driftCheck: z.string().optional(),
});

export const terraform = z
  .strictObject({
    binary: z.string().default('terraform'),
    workspaces: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/), workspace).default({}),
  })
  .default({ binary: 'terraform', workspaces: {} });
