import * as z from 'zod';
import { access } from './access.ts';
import { backups } from './backups.ts';
import { images } from './images.ts';
import { monitoring } from './monitoring.ts';
import { notifications } from './notifications.ts';
import { releases } from './releases.ts';
import { scaling } from './scaling.ts';
import { secretRef } from './secret.ts';
import { terraform } from './terraform.ts';

/** The whole of fc-devops.yaml. Every section has defaults, so a small file is a valid file. */
export const ConfigSchema = z
  .strictObject({
    version: z.literal(1).default(1),
    region: z.string().regex(/^[a-z]{2}(-[a-z0-9]+)+$/, 'expected a region id such as cn-hangzhou'),
    accountId: z
      .string()
      .regex(/^\d{6,20}$/)
      .optional(),
    state: z
      .strictObject({
        /** PostgreSQL URL; PGlite under `dir` when absent. */
        databaseUrl: secretRef.optional(),
        dir: z.string().default('.fc-devops/state'),
        idempotencyTtlHours: z.number().positive().default(24),
      })
      .default({ dir: '.fc-devops/state', idempotencyTtlHours: 24 }),
    /** Bucket for artifacts, logs and large job payloads. */
    bucket: z.string().min(3).max(63).optional(),
    notifications,
    images,
    terraform,
    backups,
    scaling,
    monitoring,
    releases,
    access,
  })
  .superRefine((c, ctx) => {
    const channels = new Set(Object.keys(c.notifications.channels));
    const missing = (path: (string | number)[], kind: string, value: string, known: Set<string>) => {
      if (!known.has(value)) {
        const list = known.size ? [...known].join(', ') : 'none defined';
        ctx.addIssue({ code: 'custom', path, message: `unknown ${kind} "${value}" (known: ${list})` });
      }
    };
    for (const [i, r] of c.notifications.routes.entries()) {
      for (const [j, ch] of r.channels.entries()) {
        missing(['notifications', 'routes', i, 'channels', j], 'channel', ch, channels);
      }
      if (r.fallback) missing(['notifications', 'routes', i, 'fallback'], 'channel', r.fallback, channels);
    }
    for (const [j, ch] of c.notifications.defaultChannels.entries()) {
      missing(['notifications', 'defaultChannels', j], 'channel', ch, channels);
    }
    const imageChannels = new Set(Object.keys(c.images.channels));
    for (const [p, pipeline] of Object.entries(c.images.pipelines)) {
      if (pipeline.import && !c.bucket)
        ctx.addIssue({
          code: 'custom',
          path: ['images', 'pipelines', p, 'import'],
          message: 'importing disk images needs the top-level `bucket` to upload them to',
        });
      if (pipeline.channel)
        missing(['images', 'pipelines', p, 'channel'], 'image channel', pipeline.channel, imageChannels);
    }
    for (const [t, target] of Object.entries(c.releases.targets)) {
      if (target.kind === 'k8s-deployment' && target.channel)
        missing(['releases', 'targets', t, 'channel'], 'image channel', target.channel, imageChannels);
      if (target.kind === 'image-channel') {
        missing(['releases', 'targets', t, 'from'], 'image channel', target.from, imageChannels);
        missing(['releases', 'targets', t, 'to'], 'image channel', target.to, imageChannels);
      }
    }
    const scalingTargets = new Set(Object.keys(c.scaling.targets));
    const releaseTargets = new Set(Object.keys(c.releases.targets));
    const actions: [(string | number)[], { rollback: string } | { scale: { target: string } } | undefined][] =
      [
        ...Object.entries(c.monitoring.checks).map(
          ([n, check]) =>
            [['monitoring', 'checks', n, 'action'], check.action] as [
              (string | number)[],
              typeof check.action,
            ],
        ),
        ...Object.entries(c.monitoring.alarms?.actions ?? {}).map(
          ([n, a]) => [['monitoring', 'alarms', 'actions', n], a] as [(string | number)[], typeof a],
        ),
      ];
    for (const [path, a] of actions) {
      if (a && 'rollback' in a) missing([...path, 'rollback'], 'release target', a.rollback, releaseTargets);
      if (a && 'scale' in a)
        missing([...path, 'scale', 'target'], 'scaling target', a.scale.target, scalingTargets);
    }
    for (const [name, policy] of Object.entries(c.backups.policies)) {
      if (policy.crossRegion?.region === c.region)
        ctx.addIssue({
          code: 'custom',
          path: ['backups', 'policies', name, 'crossRegion', 'region'],
          message: `${c.region} is the region the backups are made in: a copy there survives nothing; name another region`,
        });
    }
    for (const [i, s] of c.scaling.schedules.entries()) {
      missing(['scaling', 'schedules', i, 'target'], 'scaling target', s.target, scalingTargets);
    }
  });

export type Config = z.infer<typeof ConfigSchema>;
