import * as z from 'zod/mini';
import { lazySchema } from '../parse.ts';

/** A push from any git host, in one shape. */
export interface GitPush {
  host: GitHost;
  /** `owner/name` as the host shows it. */
  repository: string;
  /** Every URL the host gave for the repository (clone, web, ssh), to match configured repositories. */
  urls: string[];
  ref: string;
  kind: 'branch' | 'tag';
  /** Branch or tag name (`main`, `release/1.2`, `v1.2.0`). */
  name: string;
  before: string;
  after: string;
  deleted: boolean;
  commits: { id: string; message: string }[];
  /**
   * Paths the push changed, or null when the host did not say or cut the list short (GitLab past 20
   * commits, Codeup): the build then fetches both commits and diffs them.
   */
  changedPaths: string[] | null;
}

export const GIT_HOSTS = ['github', 'gitlab', 'codeup', 'gitee'] as const;
export type GitHost = (typeof GIT_HOSTS)[number];

export const ZERO_SHA = /^0+$/;

/**
 * A ref as git allows one (git check-ref-format): no control characters, spaces or `~^:?*[\`, no
 * `..` or `@{`. Anything else is not a push git could have made, and would end up in keys and logs.
 */
export const GitRefSchema = lazySchema(() =>
  z.string().check(
    z.maxLength(1024),
    z.refine(
      (r) => !/[\u0000-\u0020\u007f~^:?*[\\]|\.\.|@\{/.test(r),
      'not a git ref: control characters, spaces, ~^:?*[\\, ".." and "@{" are not allowed',
    ),
  ),
);

/** A full commit id (SHA-1, or SHA-256 for repositories that use it); all zeros for "no commit". */
export const CommitIdSchema = z
  .string()
  .check(z.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a full commit id'));

/** `refs/heads/x` -> branch x, `refs/tags/v1` -> tag v1. */
export function splitRef(ref: string): { kind: 'branch' | 'tag'; name: string } | undefined {
  if (ref.startsWith('refs/heads/')) return { kind: 'branch', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { kind: 'tag', name: ref.slice('refs/tags/'.length) };
  return undefined;
}

/** The union of a push's per-commit file lists, or null when any commit lacks them. */
export function unionPaths(
  commits: {
    added?: string[] | null | undefined;
    modified?: string[] | null | undefined;
    removed?: string[] | null | undefined;
  }[],
): string[] | null {
  if (commits.length === 0) return null;
  const paths = new Set<string>();
  for (const c of commits) {
    if (!c.added && !c.modified && !c.removed) return null;
    for (const p of [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]) paths.add(p);
  }
  return [...paths].sort();
}

/**
 * A repository URL or path reduced to what identifies it: `github.com/owner/name` for
 * `https://github.com/Owner/Name.git` and `git@github.com:Owner/Name.git`, the absolute path for a
 * local repository.
 */
export function repoIdentity(url: string, cwd = process.cwd()): string {
  const trimmed = url
    .trim()
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  if (trimmed.startsWith('file://')) return trimmed.slice('file://'.length);
  const scp = /^[^/@]+@([^:/]+):(.+)$/.exec(trimmed);
  if (scp) return `${scp[1]}/${scp[2]}`.toLowerCase();
  const u = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+)$/i.exec(trimmed);
  if (u) return `${u[1]}/${u[2]}`.toLowerCase();
  if (trimmed.startsWith('/')) return trimmed;
  return `${cwd.replace(/\/+$/, '')}/${trimmed.replace(/^\.\//, '')}`;
}

/** A commit as GitHub, GitLab and Gitee list it; the file lists are missing or null on some hosts. */
export const PushedCommitSchema = lazySchema(() =>
  z.looseObject({
    id: z.string(),
    message: z._default(z.string(), ''),
    added: z.nullish(z.array(z.string())),
    modified: z.nullish(z.array(z.string())),
    removed: z.nullish(z.array(z.string())),
  }),
);
