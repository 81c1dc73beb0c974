import * as z from 'zod';
import { name, schedule } from './common.ts';

const bounds = {
  min: z.number().int().min(0),
  max: z.number().int().min(0),
  maxStep: z.number().int().min(1).optional(),
};

export const scalingTarget = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('ess'), scalingGroupId: z.string().min(1), ...bounds }),
    z.strictObject({
      kind: z.literal('ack-nodepool'),
      clusterId: z.string().min(1),
      nodePoolId: z.string().min(1),
      ...bounds,
    }),
  ])
  .refine((t) => t.min <= t.max, { message: 'min must not exceed max', path: ['min'] });

export const scalingSchedule = z.strictObject({
  target: name,
  schedule,
  desired: z.number().int().min(0),
});

export const scaling = z
  .strictObject({
    targets: z.record(name, scalingTarget).default({}),
    schedules: z.array(scalingSchedule).default([]),
  })
  .default({ targets: {}, schedules: [] });
