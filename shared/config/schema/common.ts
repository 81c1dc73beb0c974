import * as z from 'zod';
import { parseSchedule } from '../../schedule/cron.ts';
import { secretRef } from './secret.ts';

/** Names of things in the config (channels, pipelines, targets): kebab-case, used in URLs and keys. */
export const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'expected a kebab-case name (a-z, 0-9, -; at most 63)');

/** A schedule in FC timer syntax (`0 0 4 * * *`, `CRON_TZ=Asia/Shanghai 0 0 2 * * *`, `@every 1h`). */
export const schedule = z.string().superRefine((value, ctx) => {
  try {
    parseSchedule(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

/** A glob over names or paths: `*` within a segment, `**` across segments. */
export const glob = z.string().min(1).max(256);

export const severity = z.enum(['info', 'warning', 'error', 'critical']);

export const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'unknown IANA time zone');

/** A git repository: a URL (HTTPS) or, for local use, a path on this machine. */
export const repository = z.strictObject({
  url: z.string().min(1),
  host: z.enum(['github', 'gitlab', 'codeup', 'gitee', 'local']).default('github'),
  /** Token for HTTPS clones of private repositories. */
  token: secretRef.optional(),
  /** Secret the host signs or sends its webhooks with. */
  webhookSecret: secretRef.optional(),
});

/**
 * Alibaba Cloud's public regions. A second region for backups must be one of them: a name outside
 * the list is a typo far more often than a region this list has not heard of yet.
 */
export const REGIONS = [
  'cn-qingdao',
  'cn-beijing',
  'cn-zhangjiakou',
  'cn-huhehaote',
  'cn-wulanchabu',
  'cn-hangzhou',
  'cn-shanghai',
  'cn-nanjing',
  'cn-fuzhou',
  'cn-shenzhen',
  'cn-heyuan',
  'cn-guangzhou',
  'cn-chengdu',
  'cn-wuhan-lr',
  'cn-hongkong',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-3',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'us-east-1',
  'us-west-1',
  'na-south-1',
  'eu-west-1',
  'eu-central-1',
  'me-east-1',
  'me-central-1',
] as const;

export const regionId = z
  .string()
  .regex(/^[a-z]{2}(-[a-z0-9]+)+$/, 'expected a region id such as cn-shanghai');
