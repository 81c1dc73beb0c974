import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedPaths, checkoutCommit } from '../../shared/tools/git.ts';
import { type PackerRun, runPacker } from '../../shared/tools/packer.ts';
import { commitFiles, git } from './git-repo.ts';

function repo(): { dir: string; commits: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'repo-'));
  git(dir, 'init', '-q', '-b', 'main');
  const commits: string[] = [];
  const commit = (files: Record<string, string>) => commits.push(commitFiles(dir, files));
  commit({ 'README.md': 'one', 'packer/web.json': '{}' });
  commit({ 'docs/a.md': 'two' });
  commit({ 'packer/scripts/x.sh': 'three' });
  return { dir, commits };
}

describe('git source', () => {
  it('checks out exactly the commit asked for, not the branch tip', async () => {
    const { dir, commits } = repo();
    const work = join(mkdtempSync(join(tmpdir(), 'co-')), 'src');
    await checkoutCommit({ url: dir }, commits[1]!, work);
    expect(git(work, 'rev-parse', 'HEAD')).toBe(commits[1]);
    expect(readFileSync(join(work, 'docs/a.md'), 'utf8')).toBe('two');
    expect(spawnSync('test', ['-e', join(work, 'packer/scripts/x.sh')]).status).toBe(1);
  });

  it('diffs a push whose host did not list files; a new branch counts every file', async () => {
    const { dir, commits } = repo();
    const work = join(mkdtempSync(join(tmpdir(), 'co-')), 'src');
    await checkoutCommit({ url: dir }, commits[2]!, work);
    expect(await changedPaths({ url: dir }, work, commits[0], commits[2]!)).toEqual([
      'docs/a.md',
      'packer/scripts/x.sh',
    ]);
    expect(await changedPaths({ url: dir }, work, '0'.repeat(40), commits[2]!)).toEqual([
      'README.md',
      'docs/a.md',
      'packer/scripts/x.sh',
      'packer/web.json',
    ]);
  });

  it('says which repository or commit is missing', async () => {
    const { dir } = repo();
    const work = () => join(mkdtempSync(join(tmpdir(), 'co-')), 'src');
    await expect(checkoutCommit({ url: '/nonexistent/repo' }, 'a'.repeat(40), work())).rejects.toThrow(
      'repository /nonexistent/repo does not exist on this machine',
    );
    await expect(checkoutCommit({ url: dir }, 'a'.repeat(40), work())).rejects.toThrow(
      `commit ${'a'.repeat(40)} is not in ${dir}`,
    );
    await expect(checkoutCommit({ url: dir }, 'main; rm -rf /', work())).rejects.toThrow('not a commit id');
    await expect(checkoutCommit({ url: dir }, 'a'.repeat(40), work())).rejects.toMatchObject({
      permanent: true,
    });
    // An unreachable host may come back: not permanent, so the job is retried.
    await expect(
      checkoutCommit({ url: 'http://127.0.0.1:9/nobody/repo.git' }, 'a'.repeat(40), work()),
    ).rejects.toMatchObject({ name: 'GitError', permanent: false });
  });

  it('keeps a token out of the repository config', async () => {
    const { dir, commits } = repo();
    const work = join(mkdtempSync(join(tmpdir(), 'co-')), 'src');
    await checkoutCommit({ url: dir, token: 'ghp_secret_token_value', host: 'github' }, commits[2]!, work);
    expect(readFileSync(join(work, '.git/config'), 'utf8')).not.toContain('ghp_secret');
  });
});

const credentials = {
  accessKeyId: 'LTAIexample',
  accessKeySecret: 'very-secret-key-value',
  securityToken: 'sts-token-value',
};

function template(dir: string, body: unknown): void {
  writeFileSync(join(dir, 'template.json'), JSON.stringify(body));
}

describe('packer runner (real packer binary)', () => {
  const base = () => {
    const dir = mkdtempSync(join(tmpdir(), 'packer-'));
    return { dir, scratch: join(dir, '.scratch') };
  };
  /** runPacker on template.json in `dir`, with the defaults these tests share. */
  const pack = (dir: string, scratch: string, over: Partial<PackerRun> = {}) =>
    runPacker({
      bin: 'packer',
      dir,
      template: 'template.json',
      variables: {},
      credentials,
      region: 'cn-hangzhou',
      timeoutMs: 60_000,
      scratch,
      ...over,
    });

  it('builds with the variables and credentials under the names packer reads', async () => {
    const { dir, scratch } = base();
    template(dir, {
      variables: { commit: '', run_id: '' },
      builders: [
        {
          type: 'file',
          name: 'disk',
          target: 'out/disk.raw',
          content: '{{user `commit`}} {{user `run_id`}}',
        },
      ],
      provisioners: [
        {
          type: 'shell-local',
          inline: [
            'echo "key=$ALICLOUD_ACCESS_KEY region=$ALICLOUD_REGION secret=$ALICLOUD_SECRET_KEY token=$SECURITY_TOKEN"',
          ],
        },
      ],
    });
    const lines: string[] = [];
    const r = await pack(dir, scratch, {
      variables: { commit: 'c0ffee', run_id: 'run-1', unused: 'x' },
      onLog: (l) => lines.push(l),
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.output.artifacts).toMatchObject([
      { build: 'disk', builderId: 'packer.file', files: ['out/disk.raw'] },
    ]);
    expect(readFileSync(join(dir, 'out/disk.raw'), 'utf8')).toBe('c0ffee run-1');
    const log = lines.join('\n');
    expect(log).toContain('key=LTAIexample region=cn-hangzhou secret=*** token=***');
    expect(log).not.toContain('very-secret-key-value');
  });

  it('says how to get packer when the binary is missing', async () => {
    const { dir, scratch } = base();
    template(dir, { builders: [{ type: 'file', target: 'x', content: 'x' }] });
    const r = await pack(dir, scratch, { bin: '/nonexistent/packer' });
    expect(r).toMatchObject({
      ok: false,
      stage: 'validate',
      message:
        'packer was not found at "/nonexistent/packer": install it (apt-get install packer) or set images.packer',
    });
  });

  it('installs declared plugins first, and says so when this packer cannot', async () => {
    const { dir, scratch } = base();
    writeFileSync(
      join(dir, 'web.pkr.hcl'),
      `packer {
  required_plugins {
    alicloud = { version = ">= 1.1.0", source = "github.com/hashicorp/alicloud" }
  }
}
source "file" "x" {
  target  = "out/x"
  content = "x"
}
build { sources = ["sources.file.x"] }
`,
    );
    const lines: string[] = [];
    const r = await pack(dir, scratch, { template: 'web.pkr.hcl', onLog: (l) => lines.push(l) });
    expect(lines[0]).toBe('$ packer init web.pkr.hcl');
    // Debian's packer 1.6.6 predates `packer init`.
    expect(r).toMatchObject({
      ok: false,
      stage: 'init',
      message:
        'the packer at "packer" has no init command (it is older than 1.7) but the template declares required_plugins',
    });
  });

  it("fails a template that does not validate with packer's message", async () => {
    const { dir, scratch } = base();
    template(dir, { builders: [{ type: 'file', target: 'x', content: 'x' }], bogus: 1 });
    const r = await pack(dir, scratch);
    expect(r).toMatchObject({ ok: false, stage: 'validate', reason: 'failed', exitCode: 1 });
    expect(!r.ok && r.message).toContain("Unknown root level key in template: 'bogus'");
  });

  it('reports a failing build with the error packer printed', async () => {
    const { dir, scratch } = base();
    template(dir, {
      builders: [{ type: 'file', name: 'disk', target: 'out/x', content: 'x' }],
      provisioners: [{ type: 'shell-local', inline: ['echo going to fail', 'exit 3'] }],
    });
    const r = await pack(dir, scratch);
    expect(r).toMatchObject({ ok: false, stage: 'build', reason: 'failed', exitCode: 1 });
    expect(!r.ok && r.message).toBe(
      'disk: Script exited with non-zero exit status: 3.Allowed exit codes are: [0]',
    );
  });

  it('kills the whole process tree when cancelled', async () => {
    const { dir, scratch } = base();
    const marker = `sleep ${400 + (process.pid % 89)}.${Date.now() % 1000}`;
    template(dir, {
      builders: [{ type: 'file', name: 'disk', target: 'out/x', content: 'x' }],
      provisioners: [{ type: 'shell-local', inline: [marker] }],
    });
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 1500);
    const r = await pack(dir, scratch, { timeoutMs: 120_000, signal: cancel.signal });
    expect(r).toMatchObject({
      ok: false,
      reason: 'cancelled',
      message: 'packer build was cancelled and killed',
    });
    await new Promise((res) => setTimeout(res, 500));
    expect(spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' }).stdout.trim()).toBe('');
  });

  it('kills the whole process tree on timeout', async () => {
    const { dir, scratch } = base();
    // A duration no other process uses marks the grandchild (packer -> shell-local -> sleep).
    const marker = `sleep ${300 + (process.pid % 97)}.${Date.now() % 1000}`;
    template(dir, {
      builders: [{ type: 'file', name: 'disk', target: 'out/x', content: 'x' }],
      provisioners: [{ type: 'shell-local', inline: [marker] }],
    });
    const started = Date.now();
    const r = await pack(dir, scratch, { timeoutMs: 3000 });
    expect(r).toMatchObject({ ok: false, stage: 'build', reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(60_000);
    await new Promise((res) => setTimeout(res, 500));
    const left = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
  });
});
