import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ZERO_SHA } from '../../shared/events/git/push.ts';
import { giteeSignature, githubSignature } from '../../shared/events/git/verify.ts';

const git = (repo: string, ...args: string[]) =>
  execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * A GitHub push payload for the latest commit of a local repository: ref, before/after, the commit
 * with its added/modified/removed files, and the repository's path as its clone URL.
 */
export function pushPayloadFor(repoPath: string): Record<string, unknown> {
  const repo = resolve(repoPath);
  const after = git(repo, 'rev-parse', 'HEAD');
  let branch = 'main';
  try {
    branch = git(repo, 'symbolic-ref', '--short', 'HEAD');
  } catch {}
  let before = '0'.repeat(40);
  try {
    before = git(repo, 'rev-parse', 'HEAD~1');
  } catch {}
  const changes = git(repo, 'diff-tree', '--root', '--no-commit-id', '--name-status', '-r', 'HEAD')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t') as [string, string]);
  const files = (s: string) => changes.filter(([k]) => k.startsWith(s)).map(([, p]) => p);
  const message = git(repo, 'log', '-1', '--format=%B');
  const commit = {
    id: after,
    message,
    timestamp: git(repo, 'log', '-1', '--format=%cI'),
    author: { name: git(repo, 'log', '-1', '--format=%an'), email: git(repo, 'log', '-1', '--format=%ae') },
    added: files('A'),
    modified: files('M'),
    removed: files('D'),
  };
  return {
    ref: `refs/heads/${branch}`,
    before,
    after,
    created: ZERO_SHA.test(before),
    deleted: false,
    forced: false,
    commits: [commit],
    head_commit: commit,
    repository: { name: basename(repo), full_name: `local/${basename(repo)}`, clone_url: repo },
    pusher: { name: commit.author.name, email: commit.author.email },
  };
}

export type PushHost = 'github' | 'gitlab' | 'codeup' | 'gitee';

/**
 * A push of the repository's latest commit as `host` would deliver it: body and headers, signed or
 * tokened with `secret` the way that host does it.
 */
export function pushDelivery(
  repoPath: string,
  host: PushHost,
  secret: string,
  delivery: string = randomUUID(),
  now = new Date(),
  options: { form?: boolean } = {},
): { body: string; headers: Record<string, string> } {
  const gh = pushPayloadFor(repoPath) as {
    ref: string;
    before: string;
    after: string;
    commits: {
      id: string;
      message: string;
      timestamp: string;
      author: unknown;
      added: string[];
      modified: string[];
      removed: string[];
    }[];
    repository: { name: string; full_name: string; clone_url: string };
  };
  const json = 'application/json';
  if (host === 'github') {
    // GitHub's default content type is a form with the JSON in `payload`; `--form` sends that.
    const body = options.form ? `payload=${encodeURIComponent(JSON.stringify(gh))}` : JSON.stringify(gh);
    return {
      body,
      headers: githubHeaders(
        body,
        secret,
        delivery,
        options.form ? 'application/x-www-form-urlencoded' : json,
      ),
    };
  }
  const gitlabLike = (withFiles: boolean) => ({
    object_kind: 'push',
    before: gh.before,
    after: gh.after,
    ref: gh.ref,
    checkout_sha: gh.after,
    project: { path_with_namespace: gh.repository.full_name, git_http_url: gh.repository.clone_url },
    repository: { name: gh.repository.name, git_http_url: gh.repository.clone_url },
    commits: gh.commits.map(({ added, modified, removed, ...c }) =>
      withFiles ? { ...c, added, modified, removed } : c,
    ),
    total_commits_count: gh.commits.length,
  });
  if (host === 'gitlab') {
    const body = JSON.stringify(gitlabLike(true));
    return {
      body,
      headers: {
        'content-type': json,
        'x-gitlab-event': 'Push Hook',
        'x-gitlab-token': secret,
        'x-gitlab-event-uuid': delivery,
        'idempotency-key': delivery,
      },
    };
  }
  if (host === 'codeup') {
    // Codeup's documented commits carry no file lists: git-webhook leaves the diff to the build.
    const body = JSON.stringify(gitlabLike(false));
    return { body, headers: { 'content-type': json, 'codeup-event': 'Push Hook', 'x-codeup-token': secret } };
  }
  const timestamp = String(now.getTime());
  const body = JSON.stringify({ hook_name: 'push_hooks', ...gh, timestamp });
  return {
    body,
    headers: {
      'content-type': json,
      'x-gitee-event': 'Push Hook',
      'x-gitee-timestamp': timestamp,
      'x-gitee-token': giteeSignature(secret, timestamp),
    },
  };
}

/** Headers of a signed GitHub delivery of `body`. */
export function githubHeaders(
  body: string,
  secret: string,
  delivery: string = randomUUID(),
  contentType = 'application/json',
): Record<string, string> {
  return {
    'content-type': contentType,
    'user-agent': 'GitHub-Hookshot/fc-devops-local',
    'x-github-event': 'push',
    'x-github-delivery': delivery,
    'x-hub-signature-256': githubSignature(secret, body),
  };
}

/** The example image repository, as a real git repository under the state directory (made once). */
export function ensureExampleRepo(
  source: string,
  target: string,
  message = 'example image pipeline',
): boolean {
  if (existsSync(resolve(target, '.git'))) return false;
  mkdirSync(target, { recursive: true });
  cpSync(source, target, { recursive: true });
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'fc-devops',
    GIT_AUTHOR_EMAIL: 'fc-devops@example.com',
    GIT_COMMITTER_NAME: 'fc-devops',
    GIT_COMMITTER_EMAIL: 'fc-devops@example.com',
  };
  const run = (...args: string[]) => execFileSync('git', ['-C', target, ...args], { env, stdio: 'ignore' });
  run('init', '-q', '-b', 'main');
  run('add', '-A');
  run('commit', '-q', '-m', message);
  return true;
}
