import * as z from 'zod';
import { CALENDARS } from '../../schedule/calendar.ts';
import { name, schedule } from './common.ts';
import { secretRef } from './secret.ts';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

/** What every target shares: the bounds fc-devops keeps to, and how fast it may move. */
const common = {
  min: z.number().int().min(0).max(2000),
  max: z.number().int().min(0).max(2000),
  /** At most this many added or removed by one change (default: no limit within the bounds). */
  maxStep: z.number().int().min(1).optional(),
  /** After a change out (in), schedules and alarms leave that direction alone this long. */
  cooldownOutSeconds: z.number().int().min(0).max(86_400).default(300),
  cooldownInSeconds: z.number().int().min(0).max(86_400).default(900),
  /** A change by hand holds against schedules this long. */
  holdMinutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60)
    .default(120),
  /**
   * CloudMonitor alarm callbacks: `POST <scale URL>/alarms/<target>/<secret>`; each rule names a
   * metric and how many to add while its alarm fires (negative: to remove).
   */
  alarms: z
    .strictObject({
      secret: secretRef,
      rules: z
        .array(
          z.strictObject({
            metric: z.string().min(1).max(256),
            step: z
              .number()
              .int()
              .min(-100)
              .max(100)
              .refine((n) => n !== 0, 'a step of 0 does nothing'),
          }),
        )
        .min(1),
    })
    .optional(),
};

export const scalingTarget = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('ess'), scalingGroupId: z.string().min(1), ...common }),
    z.strictObject({
      kind: z.literal('ack-nodepool'),
      clusterId: z.string().min(1),
      nodePoolId: z.string().min(1),
      ...common,
    }),
  ])
  .refine((t) => t.min <= t.max, { message: 'min must not exceed max', path: ['min'] });

export const scalingSchedule = z
  .strictObject({
    target: name,
    schedule,
    desired: z.number().int().min(0).max(2000),
    /** On which days the schedule applies: every day, or the working days (days off) of a calendar. */
    days: z.enum(['every-day', 'workdays', 'non-workdays']).default('every-day'),
    calendar: z.string().optional(),
  })
  .superRefine((s, ctx) => {
    if (s.days !== 'every-day' && !s.calendar)
      ctx.addIssue({ code: 'custom', path: ['calendar'], message: `days: ${s.days} needs a calendar (cn)` });
    if (s.calendar && !Object.hasOwn(CALENDARS, s.calendar))
      ctx.addIssue({
        code: 'custom',
        path: ['calendar'],
        message: `no calendar ${s.calendar}; there is ${Object.keys(CALENDARS).join(', ')}`,
      });
  });

export const scaling = z
  .strictObject({
    targets: z.record(name, scalingTarget).default({}),
    schedules: z.array(scalingSchedule).default([]),
    /** Windows in which nothing changes the targets named (by schedule, alarm or hand): release weeks, sales. */
    freezes: z
      .array(
        z
          .strictObject({
            targets: z.array(z.string().min(1)).min(1),
            from: z.iso.datetime({ offset: true }),
            to: z.iso.datetime({ offset: true }),
            reason: z.string().min(1).max(500),
          })
          .refine((f) => Date.parse(f.from) < Date.parse(f.to), {
            message: 'from must be before to',
            path: ['to'],
          }),
      )
      .default([]),
    /** The team's own dates on top of a calendar (its days off, extra working days): they win. */
    calendarDates: z
      .record(
        z.string(),
        z.strictObject({ daysOff: z.array(date).default([]), workdays: z.array(date).default([]) }),
      )
      .default({}),
  })
  .default({ targets: {}, schedules: [], freezes: [], calendarDates: {} });
