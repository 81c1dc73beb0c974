import * as z from 'zod';

export const BUILD_JOB = 'image.build';

/**
 * What `git-webhook` (or a manual rebuild) hands `image-build`. Example:
 * `{ "pipeline": "web", "commit": "9c1e…", "ref": "refs/heads/main", "refKind": "branch", "refName": "main",
 *    "before": "51f3…", "paths": "known", "trigger": "push", "delivery": "github:72d3162e-…" }`
 */
export const BuildJobSchema = z.object({
  pipeline: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
  commit: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a full commit id'),
  ref: z.string().max(512).default(''),
  refKind: z.enum(['branch', 'tag', 'commit']).default('commit'),
  refName: z.string().max(512).default(''),
  before: z.string().max(64).optional(),
  /** Whether the webhook already checked the pipeline's path filters; if not, the build diffs. */
  paths: z.enum(['known', 'unknown']).default('known'),
  trigger: z.enum(['push', 'rebuild']).default('push'),
  delivery: z.string().max(300).optional(),
  requestedBy: z.string().max(128).optional(),
});
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
