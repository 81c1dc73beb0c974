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
 * GitHub's push payload (octokit/webhooks `push/event.schema.json`); only the fields fc-devops reads.
 * Example: `{ "ref": "refs/heads/main", "before": "…", "after": "…", "deleted": false,
 *   "commits": [{ "id": "…", "added": ["README.md"], "removed": [], "modified": [] }],
 *   "repository": { "full_name": "Codertocat/Hello-World", "clone_url": "https://github.com/…git" } }`
 */
export const GithubPushSchema = lazySchema(() =>
  z.looseObject({
    ref: GitRefSchema,
    before: CommitIdSchema,
    after: CommitIdSchema,
    deleted: z._default(z.boolean(), false),
    commits: z._default(z.array(PushedCommitSchema), []),
    repository: z.looseObject({
      full_name: z.string(),
      clone_url: z.optional(z.string()),
      html_url: z.optional(z.string()),
      ssh_url: z.optional(z.string()),
    }),
  }),
);

export function githubPush(value: unknown): GitPush | undefined {
  const p = parseWith(GithubPushSchema, value, 'GitHub push payload', ['body']);
  const ref = splitRef(p.ref);
  if (!ref) return undefined;
  const r = p.repository;
  return {
    host: 'github',
    repository: r.full_name,
    urls: [r.clone_url, r.html_url, r.ssh_url].filter((u): u is string => !!u),
    ref: p.ref,
    ...ref,
    before: p.before,
    after: p.after,
    deleted: p.deleted || ZERO_SHA.test(p.after),
    commits: p.commits.map((c) => ({ id: c.id, message: c.message })),
    // GitHub leaves file lists empty for very large commits; an empty union cannot be trusted.
    changedPaths: nonEmpty(unionPaths(p.commits)),
  };
}

const nonEmpty = (paths: string[] | null) => (paths && paths.length > 0 ? paths : null);
