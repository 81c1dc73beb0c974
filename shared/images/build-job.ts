import * as z from 'zod/mini';
import { lazySchema } from '../events/parse.ts';

export const BUILD_JOB = 'image.build';

/**
 * What `git-webhook` (or a manual rebuild) hands `image-build`. Example:
 * `{ "pipeline": "web", "commit": "9c1e…", "ref": "refs/heads/main", "refKind": "branch", "refName": "main",
 *    "before": "51f3…", "paths": "known", "trigger": "push", "delivery": "github:72d3162e-…" }`
 */
export const BuildJobSchema = lazySchema(() =>
  z.object({
    pipeline: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/)),
    commit: z.string().check(z.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a full commit id')),
    ref: z._default(z.string().check(z.maxLength(512)), ''),
    refKind: z._default(z.enum(['branch', 'tag', 'commit']), 'commit'),
    refName: z._default(z.string().check(z.maxLength(512)), ''),
    before: z.optional(z.string().check(z.maxLength(64))),
    /** Whether the webhook already checked the pipeline's path filters; if not, the build diffs. */
    paths: z._default(z.enum(['known', 'unknown']), 'known'),
    trigger: z._default(z.enum(['push', 'rebuild']), 'push'),
    delivery: z.optional(z.string().check(z.maxLength(300))),
    requestedBy: z.optional(z.string().check(z.maxLength(128))),
  }),
);
export type BuildJob = z.infer<typeof BuildJobSchema>;

/** One build per pipeline and commit: the key both the job claim and the build lock use. */
export const buildKey = (pipeline: string, commit: string) => `build:${pipeline}:${commit}`;

/** Tags every image a build made carries (what prune and people look for). */
export const TAG = {
  pipeline: 'fc-devops:pipeline',
  commit: 'fc-devops:commit',
  runId: 'fc-devops:run-id',
  ref: 'fc-devops:ref',
} as const;

/** What a channel's history holds per entry; `release` promotes `images` between channels. */
export interface ChannelEntry {
  images: Record<string, string>;
  pipeline?: string;
  commit?: string;
  runId?: string;
}

export const channelKey = (channel: string) => `channel:${channel}`;
