import * as z from 'zod/mini';
import { lazySchema, parseWith } from '../parse.ts';
import {
  CommitIdSchema,
  type GitPush,
  GitRefSchema,
  PushedCommitSchema,
  splitRef,
  unionPaths,
  ZERO_SHA,
} from './push.ts';

/**
 * Gitee's push payload (`hook_name: push_hooks | tag_push_hooks`), GitHub-like. Example (Gitee help):
 * `{ "hook_name": "push_hooks", "ref": "refs/heads/master", "before": "…", "after": "…", "deleted": false,
 *   "commits": [ { "id": "…", "message": "…" } ], "repository": { "full_name": "oschina/git-osc", … } }`
 * Whether commits carry file lists is unverified; without them the build diffs.
 */
export const GiteePushSchema = lazySchema(() =>
  z.looseObject({
    hook_name: z.optional(z.string()),
    ref: GitRefSchema,
    before: CommitIdSchema,
    after: CommitIdSchema,
    deleted: z._default(z.boolean(), false),
    commits: z._default(z.nullable(z.array(PushedCommitSchema)), []),
    repository: z.looseObject({
      full_name: z.optional(z.string()),
      path_with_namespace: z.optional(z.string()),
      clone_url: z.optional(z.string()),
      git_http_url: z.optional(z.string()),
      html_url: z.optional(z.string()),
      ssh_url: z.optional(z.string()),
      url: z.optional(z.string()),
    }),
  }),
);

export function giteePush(value: unknown): GitPush | undefined {
  const p = parseWith(GiteePushSchema, value, 'Gitee push payload', ['body']);
  const ref = splitRef(p.ref);
  if (!ref) return undefined;
  const r = p.repository;
  const commits = p.commits ?? [];
  return {
    host: 'gitee',
    repository: r.full_name ?? r.path_with_namespace ?? '',
    urls: [r.clone_url, r.git_http_url, r.html_url, r.ssh_url, r.url].filter((u): u is string => !!u),
    ref: p.ref,
    ...ref,
    before: p.before,
    after: p.after,
    deleted: p.deleted || ZERO_SHA.test(p.after),
    commits: commits.map((c) => ({ id: c.id, message: c.message })),
    changedPaths: unionPaths(commits),
  };
}
