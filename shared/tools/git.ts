import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ZERO_SHA } from '../events/git/push.ts';
import { runProcess } from './process.ts';

export interface GitSource {
  /** HTTPS URL, or a path on this machine for local use. */
  url: string;
  /** Token for private HTTPS repositories; sent as an HTTP header, never put in the URL or argv. */
  token?: string | undefined;
  host?: string;
}

export class GitError extends Error {
  override name = 'GitError';
  /** True when trying again cannot help (no such repository or commit); false for network trouble. */
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

/** Which user name each host expects beside a token in HTTP basic auth (UNVERIFIED for codeup, gitee). */
const TOKEN_USER: Record<string, string> = { github: 'x-access-token', gitlab: 'oauth2' };

/** A local path (absolute, or relative to the working directory) or a URL, as git should see it. */
export function remoteOf(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^/]+:/.test(url)) return url;
  return isAbsolute(url) ? url : resolve(url);
}

function gitEnv(source: GitSource): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/tmp',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  if (source.token) {
    const user = TOKEN_USER[source.host ?? ''] ?? 'git';
    const basic = Buffer.from(`${user}:${source.token}`).toString('base64');
    // GIT_CONFIG_* (git >= 2.31) keeps the header out of the process list and out of .git/config.
    Object.assign(env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    });
  }
  return env;
}

async function git(dir: string, args: string[], source: GitSource, timeoutMs = 300_000): Promise<string> {
  const r = await runProcess('git', ['-C', dir, ...args], { env: gitEnv(source), timeoutMs });
  if (r.code !== 0) {
    const why = r.killed ? `timed out after ${timeoutMs / 1000} s` : r.stderr.trim() || `exit ${r.code}`;
    throw new GitError(`git ${args[0]} failed: ${why}`);
  }
  return r.stdout;
}

/** Fetch one commit (shallow when the host allows it) into an existing repository. */
async function fetchOne(dir: string, source: GitSource, commit: string): Promise<void> {
  const remote = remoteOf(source.url);
  try {
    await git(dir, ['fetch', '-q', '--depth=1', '--no-tags', remote, commit], source);
  } catch {
    // Servers that refuse a bare commit id: fetch every branch and tag, then look for it.
    await git(
      dir,
      ['fetch', '-q', '--no-tags', remote, '+refs/heads/*:refs/fcd/heads/*', '+refs/tags/*:refs/fcd/tags/*'],
      source,
    );
  }
  await git(dir, ['cat-file', '-e', `${commit}^{commit}`], source).catch(() => {
    throw new GitError(`commit ${commit} is not in ${describe(source.url)}`, true);
  });
}

/** Check out exactly `commit` of the repository into `dir` (created empty). */
export async function checkoutCommit(source: GitSource, commit: string, dir: string): Promise<void> {
  if (!/^[0-9a-f]{7,64}$/.test(commit)) throw new GitError(`not a commit id: ${commit}`, true);
  if (!/:\/\//.test(source.url) && !existsSync(remoteOf(source.url)))
    throw new GitError(`repository ${describe(source.url)} does not exist on this machine`, true);
  await runProcess('git', ['init', '-q', dir], { env: gitEnv(source) });
  await fetchOne(dir, source, commit);
  await git(dir, ['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', commit], source);
}

/**
 * The paths a push changed, worked out from the repository when the host did not say (Codeup, GitLab
 * past 20 commits). A new branch, or a `before` the host no longer has, counts every file as changed.
 */
export async function changedPaths(
  source: GitSource,
  dir: string,
  before: string | undefined,
  after: string,
): Promise<string[]> {
  if (before && !ZERO_SHA.test(before)) {
    try {
      await fetchOne(dir, source, before);
      const out = await git(dir, ['diff', '--name-only', '-z', before, after], source);
      return out.split('\0').filter(Boolean);
    } catch {
      // Fall through: build rather than miss a change.
    }
  }
  const out = await git(dir, ['ls-tree', '-r', '-z', '--name-only', after], source);
  return out.split('\0').filter(Boolean);
}

/** The URL without credentials, for messages. */
export function describe(url: string): string {
  return url.replace(/\/\/[^@/]+@/, '//');
}

/** The commit a branch of the repository points at now. */
export async function branchHead(source: GitSource, branch: string): Promise<string> {
  const remote = remoteOf(source.url);
  if (!/:\/\//.test(source.url) && !existsSync(remote))
    throw new GitError(`repository ${describe(source.url)} does not exist on this machine`, true);
  const r = await runProcess('git', ['ls-remote', remote, `refs/heads/${branch}`], {
    env: gitEnv(source),
    timeoutMs: 60_000,
  });
  if (r.code !== 0) throw new GitError(`git ls-remote failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  const commit = r.stdout.split(/\s/)[0];
  if (!commit) throw new GitError(`there is no branch ${branch} in ${describe(source.url)}`, true);
  return commit;
}
