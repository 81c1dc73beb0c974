import * as z from 'zod';
import { glob, name, severity } from './common.ts';
import { secretRef } from './secret.ts';

const email = z.email();

/** Where notifications go. Webhook URLs carry tokens, so they are secrets too. */
export const channel = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('dingtalk'),
    webhook: secretRef,
    secret: secretRef.optional(),
    atMobiles: z.array(z.string().regex(/^\+?\d{5,20}$/)).default([]),
    atAll: z.boolean().default(false),
  }),
  z.strictObject({ type: z.literal('lark'), webhook: secretRef, secret: secretRef.optional() }),
  z.strictObject({
    type: z.literal('wecom'),
    webhook: secretRef,
    mentionedList: z.array(z.string()).default([]),
  }),
  z.strictObject({ type: z.literal('slack'), webhook: secretRef }),
  z.strictObject({
    type: z.literal('email'),
    from: email,
    fromAlias: z.string().max(15).optional(),
    to: z.array(email).min(1).max(100),
  }),
  z.strictObject({
    type: z.literal('webhook'),
    url: secretRef,
    secret: secretRef,
    headers: z.record(z.string(), z.string()).default({}),
  }),
]);

export const route = z.strictObject({
  match: z
    .strictObject({
      kinds: z.array(glob).default(['**']),
      severity: severity.default('info'),
      labels: z.record(z.string(), z.string()).default({}),
    })
    .default({ kinds: ['**'], severity: 'info', labels: {} }),
  channels: z.array(name).min(1),
  /** Keep matching later routes after this one. */
  continue: z.boolean().default(false),
  /** Channel to use when delivery to this route's channels fails for good. */
  fallback: name.optional(),
  groupWindowSeconds: z.number().int().min(0).max(86_400).default(60),
});

export const notifications = z
  .strictObject({
    channels: z.record(name, channel).default({}),
    routes: z.array(route).default([]),
    /** Channels for events no route matched. */
    defaultChannels: z.array(name).default([]),
  })
  .default({ channels: {}, routes: [], defaultChannels: [] });
