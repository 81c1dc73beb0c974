import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
};

/** Run git in `dir` with a fixed identity; its output, trimmed. */
export const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], { env, encoding: 'utf8' }).trim();

/** Write files and commit them; the new commit's id. */
export function commitFiles(dir: string, files: Record<string, string>, message?: string): string {
  for (const [f, c] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), c);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message ?? `change ${Object.keys(files).join(' ')}`);
  return git(dir, 'rev-parse', 'HEAD');
}
