import { describe, expect, it } from 'vitest';
import type { GitPush } from '../../shared/events/git/push.ts';
import { matchPipelines } from '../../shared/images/match.ts';

const push = (over: Partial<GitPush> = {}): GitPush => ({
  host: 'github',
  repository: 'acme/images',
  urls: ['https://github.com/acme/images.git', 'git@github.com:acme/images.git'],
  ref: 'refs/heads/main',
  kind: 'branch',
  name: 'main',
  before: 'a'.repeat(40),
  after: 'b'.repeat(40),
  deleted: false,
  commits: [],
  changedPaths: ['packer/web.json', 'README.md'],
  ...over,
});

const pipelines = {
  web: {
    repository: { url: 'git@github.com:acme/images.git' },
    branches: ['main', 'release/*'],
    tags: [],
    paths: ['packer/**'],
  },
  worker: {
    repository: { url: 'https://github.com/acme/images' },
    branches: ['main'],
    tags: ['v*'],
    paths: ['worker/**'],
  },
  other: {
    repository: { url: 'https://github.com/acme/other.git' },
    branches: ['main'],
    tags: [],
    paths: ['**'],
  },
};

describe('pipeline matching', () => {
  it('path filters choose the pipelines whose files changed', () => {
    expect(matchPipelines(push(), pipelines)).toEqual([
      { pipeline: 'web', matched: true, paths: 'known', changed: ['packer/web.json'] },
      { pipeline: 'worker', matched: false, reason: 'no changed path matches worker/**' },
    ]);
    expect(
      matchPipelines(push({ changedPaths: ['worker/x.sh', 'packer/a'] }), pipelines).map((m) => m.matched),
    ).toEqual([true, true]);
  });

  it('branch and tag globs', () => {
    expect(matchPipelines(push({ name: 'feature/x', ref: 'refs/heads/feature/x' }), pipelines)).toEqual([
      { pipeline: 'web', matched: false, reason: 'branch feature/x matches none of main, release/*' },
      { pipeline: 'worker', matched: false, reason: 'branch feature/x matches none of main' },
    ]);
    const tag = push({ kind: 'tag', name: 'v1.2.0', ref: 'refs/tags/v1.2.0', changedPaths: ['worker/a'] });
    expect(matchPipelines(tag, pipelines)).toEqual([
      { pipeline: 'web', matched: false, reason: 'tag v1.2.0 matches none of (no globs)' },
      { pipeline: 'worker', matched: true, paths: 'known', changed: ['worker/a'] },
    ]);
  });

  it('unknown changed paths defer the decision to the build', () => {
    expect(matchPipelines(push({ changedPaths: null }), pipelines)).toEqual([
      { pipeline: 'web', matched: true, paths: 'unknown', changed: [] },
      { pipeline: 'worker', matched: true, paths: 'unknown', changed: [] },
    ]);
  });

  it('ignores branch deletions and other repositories', () => {
    expect(matchPipelines(push({ deleted: true }), pipelines).every((m) => !m.matched)).toBe(true);
    expect(matchPipelines(push({ urls: ['https://github.com/acme/unrelated.git'] }), pipelines)).toEqual([]);
  });
});
