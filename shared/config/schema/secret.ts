import * as z from 'zod';
import { ENV_REF } from '../secret-ref.ts';

/** `${env:NAME}`: how a secret is written in fc-devops.yaml (the CLI checks it; functions only resolve it). */
export const secretRef = z
  .string()
  .regex(ENV_REF, 'must be a ${env:NAME} reference; secrets are never written into the file');

export type SecretRef = z.infer<typeof secretRef>;
