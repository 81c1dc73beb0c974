import * as z from 'zod';
import { glob } from './common.ts';
import { secretRef } from './secret.ts';

export const action = z.enum([
  'view',
  'promote',
  'rollback',
  'approve',
  'run',
  'scale',
  'plan',
  'apply',
  'destroy',
  'unlock',
  /** Create environments from a template, and extend or destroy one's own. */
  'env',
  /** Silence a monitoring check's alerts until a given time. */
  'silence',
]);

export const accessKey = z
  .strictObject({
    /** HMAC secret for signed requests. */
    secret: secretRef.optional(),
    /** SHA-256 (hex) of a bearer token; the token itself is never stored. */
    tokenSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'expected the hex SHA-256 of the token')
      .optional(),
    roles: z.array(z.strictObject({ targets: z.array(glob).min(1), actions: z.array(action).min(1) })).min(1),
  })
  .refine(
    (k) => k.secret !== undefined || k.tokenSha256 !== undefined,
    'a key needs a secret or a tokenSha256',
  );

export const access = z
  .strictObject({ keys: z.record(z.string().regex(/^[A-Za-z0-9_-]{3,64}$/), accessKey).default({}) })
  .default({ keys: {} });
