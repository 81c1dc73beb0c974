import type { GitPush } from '../events/git/push.ts';
import { repoIdentity } from '../events/git/push.ts';
import { globMatches } from '../util/glob.ts';

export interface PipelineFilter {
  repository: { url: string };
  branches: string[];
  tags: string[];
  paths: string[];
}

export type PipelineMatch =
  | { pipeline: string; matched: true; paths: 'known' | 'unknown'; changed: string[] }
  | { pipeline: string; matched: false; reason: string };

/** The pipelines whose repository the push is for (the rest are not mentioned). */
export function sameRepository(push: GitPush, url: string, cwd?: string): boolean {
  const want = repoIdentity(url, cwd);
  return push.urls.some((u) => repoIdentity(u, cwd) === want);
}

/** The paths of `changed` that any of the globs selects. */
export function selectedPaths(globs: string[], changed: string[]): string[] {
  return changed.filter((p) => globs.some((g) => globMatches(g, p)));
}

/**
 * Decide, for each pipeline of the pushed repository, whether the push builds it: a branch push
 * must match a branch glob, a tag push a tag glob, and some changed path a path glob. When the host
 * did not list the changed paths, the pipeline matches with `paths: 'unknown'` and the build decides
 * after diffing.
 */
export function matchPipelines(
  push: GitPush,
  pipelines: Readonly<Record<string, PipelineFilter>>,
  cwd?: string,
): PipelineMatch[] {
  const out: PipelineMatch[] = [];
  for (const [name, p] of Object.entries(pipelines)) {
    if (!sameRepository(push, p.repository.url, cwd)) continue;
    if (push.deleted) {
      out.push({ pipeline: name, matched: false, reason: `${push.kind} ${push.name} was deleted` });
      continue;
    }
    const globs = push.kind === 'branch' ? p.branches : p.tags;
    if (!globs.some((g) => globMatches(g, push.name))) {
      out.push({
        pipeline: name,
        matched: false,
        reason: `${push.kind} ${push.name} matches none of ${globs.length ? globs.join(', ') : '(no globs)'}`,
      });
      continue;
    }
    if (push.changedPaths === null) {
      out.push({ pipeline: name, matched: true, paths: 'unknown', changed: [] });
      continue;
    }
    const changed = selectedPaths(p.paths, push.changedPaths);
    if (changed.length === 0) {
      out.push({ pipeline: name, matched: false, reason: `no changed path matches ${p.paths.join(', ')}` });
      continue;
    }
    out.push({ pipeline: name, matched: true, paths: 'known', changed });
  }
  return out;
}
