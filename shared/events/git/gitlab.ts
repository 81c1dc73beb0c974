import * as z from 'zod/mini';
import { lazySchema, parseWith } from '../parse.ts';
import {
  CommitIdSchema,
  type GitHost,
  type GitPush,
  GitRefSchema,
  PushedCommitSchema,
  splitRef,
  unionPaths,
  ZERO_SHA,
} from './push.ts';

/**
 * GitLab's push and tag push payload (`object_kind: push | tag_push`), which Codeup copies. Example
 * (GitLab docs): `{ "object_kind": "push", "before": "95790bf…", "after": "da15608…",
 *   "ref": "refs/heads/master", "project": { "path_with_namespace": "mike/diaspora",
 *   "git_http_url": "http://example.com/mike/diaspora.git" }, "commits": [ … ], "total_commits_count": 4 }`
 * GitLab sends at most 20 commits; Codeup's documented commits carry no file lists.
 */
export const GitlabPushSchema = lazySchema(() =>
  z.looseObject({
    object_kind: z.string(),
    ref: GitRefSchema,
    before: CommitIdSchema,
    after: CommitIdSchema,
    checkout_sha: z.optional(z.nullable(z.string())),
    commits: z._default(z.array(PushedCommitSchema), []),
    total_commits_count: z.optional(z.int()),
    project: z.optional(
      z.looseObject({
        path_with_namespace: z.optional(z.string()),
        git_http_url: z.optional(z.string()),
        git_ssh_url: z.optional(z.string()),
        web_url: z.optional(z.string()),
      }),
    ),
    repository: z.optional(
      z.looseObject({
        name: z.optional(z.string()),
        url: z.optional(z.string()),
        homepage: z.optional(z.string()),
        git_http_url: z.optional(z.string()),
        git_ssh_url: z.optional(z.string()),
      }),
    ),
  }),
);

/** Owner/name from a repository URL (`https://codeup.aliyun.com/org/demo.git` -> `org/demo`). */
function pathOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const m = /^(?:[a-z]+:\/\/[^/]+\/|[^@]+@[^:]+:)(.+?)(?:\.git)?\/?$/i.exec(url);
  return m?.[1];
}

export function gitlabPush(value: unknown, host: Extract<GitHost, 'gitlab' | 'codeup'>): GitPush | undefined {
  const what = host === 'gitlab' ? 'GitLab push payload' : 'Codeup push payload';
  const p = parseWith(GitlabPushSchema, value, what, ['body']);
  const ref = splitRef(p.ref);
  if (!ref) return undefined;
  const urls = [
    p.project?.git_http_url,
    p.project?.web_url,
    p.project?.git_ssh_url,
    p.repository?.git_http_url,
    p.repository?.homepage,
    p.repository?.git_ssh_url,
    p.repository?.url,
  ].filter((u): u is string => !!u);
  const truncated = p.total_commits_count !== undefined && p.total_commits_count > p.commits.length;
  return {
    host,
    repository:
      p.project?.path_with_namespace ?? pathOf(p.repository?.git_http_url) ?? p.repository?.name ?? '',
    urls: [...new Set(urls)],
    ref: p.ref,
    ...ref,
    before: p.before,
    after: p.after,
    deleted: ZERO_SHA.test(p.after),
    commits: p.commits.map((c) => ({ id: c.id, message: c.message })),
    changedPaths: truncated ? null : unionPaths(p.commits),
  };
}
