import * as z from 'zod';
import { name } from './common.ts';
import { secretRef } from './secret.ts';

/** A Kubernetes object name (RFC 1123 label). */
const k8sName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes name: lowercase letters, digits and -');

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
  z
    .strictObject({
      kind: z.literal('k8s-deployment'),
      /** The ACK cluster: fc-devops asks ACK for a short-lived kubeconfig of its own role for each operation. */
      cluster: z
        .string()
        .regex(/^c[a-z0-9-]{5,63}$/, 'an ACK cluster id such as c82e6987e2961451182edacd74faf0f53')
        .optional(),
      /** Or a kubeconfig given as a secret (`${env:NAME}`), for a cluster fc-devops cannot ask ACK about. */
      kubeconfig: secretRef.optional(),
      /** Ask ACK for the cluster's intranet endpoint (the function then needs VPC access to it). */
      privateEndpoint: z.boolean().default(false),
      /** How long each temporary kubeconfig is valid (ACK allows 15 to 4320). */
      kubeconfigMinutes: z.number().int().min(15).max(4320).default(15),
      namespace: k8sName,
      deployment: k8sName,
      container: k8sName,
      /** A promote without an image takes this image channel's current image for the region. */
      channel: name.optional(),
      /** After the rollout completes, the health checks must keep passing this long. */
      healthySeconds: z.number().int().min(0).max(86_400).default(120),
      healthChecks: z.array(healthCheck).default([]),
      /** On a missed progress deadline or failed health checks: undo to the previous revision, or pause the rollout. */
      onFailure: z.enum(['rollback', 'pause']).default('rollback'),
      requireApproval: z.boolean().default(false),
    })
    .refine((t) => (t.cluster === undefined) !== (t.kubeconfig === undefined), {
      message: 'give exactly one of cluster (an ACK cluster id) and kubeconfig (a secret reference)',
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
    /**
     * The same in other regions: each gets that region's copy of the image (the channel records an
     * image id per region), so a promote rolls every region, or none when a region has no copy.
     */
    regions: z
      .record(
        z.string().regex(/^[a-z]{2}(-[a-z0-9]+)+$/, 'expected a region id such as cn-shanghai'),
        z.strictObject({
          scalingConfiguration: z
            .strictObject({ scalingGroupId: z.string(), scalingConfigurationId: z.string() })
            .optional(),
          launchTemplate: z.strictObject({ launchTemplateId: z.string() }).optional(),
        }),
      )
      .default({}),
    requireApproval: z.boolean().default(false),
  }),
]);

export const releases = z
  .strictObject({ targets: z.record(name, releaseTarget).default({}) })
  .default({ targets: {} });
