import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLayer, checkElf, type LayerManifest } from '../../local/deploy/layers.ts';
import { writeZip } from '../../local/deploy/zip.ts';
import { toolEnv } from '../../shared/tools/layer-env.ts';
import { runProcess } from '../../shared/tools/process.ts';

const work = mkdtempSync(join(tmpdir(), 'fcd-layers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const CLI = resolve(import.meta.dirname, '../../bin/fc-devops.mjs');

/** Unpack with Python's zipfile (not our code), keeping the mode bits as FC does. */
function unpack(zip: string, dir: string): { name: string; mode: number }[] {
  const out = execFileSync(
    'python3',
    [
      '-c',
      `import zipfile,os,sys,json
z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None
r=[]
for i in z.infolist():
  p=z.extract(i,sys.argv[2]); m=(i.external_attr>>16)&0o777; os.chmod(p,m); r.append({"name":i.filename,"mode":m})
print(json.dumps(r))`,
      zip,
      dir,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out);
}

describe('fc-devops layer build', () => {
  it('packs git with its https helper and libraries; the unpacked layer runs on its own', async () => {
    const { file, manifest } = buildLayer('git', { outDir: join(work, 'out') });
    const opt = join(work, 'opt-git');
    const entries = unpack(file, opt);
    expect(entries.find((e) => e.name === 'bin/git')?.mode).toBe(0o755);
    expect(entries.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        'libexec/git-core/git-remote-https',
        'lib/libpcre2-8.so.0',
        'fc-devops-layer.json',
      ]),
    );
    expect(entries.some((e) => /^lib\/(libc\.so|ld-linux)/.test(e.name))).toBe(false);
    const recorded = JSON.parse(readFileSync(join(opt, 'fc-devops-layer.json'), 'utf8')) as LayerManifest;
    expect(recorded).toEqual(manifest);
    const git = recorded.files.find((f) => f.path === 'bin/git')!;
    expect(git.version).toMatch(/^git version \d+\.\d+/);
    expect(git.sha256).toBe(
      execFileSync('sha256sum', [join(opt, 'bin/git')], { encoding: 'utf8' }).split(' ')[0],
    );
    // The functions find the layer first (FC unpacks it under /opt; FC_DEVOPS_LAYER_DIR here), even
    // with nothing else on PATH, and git finds its helpers there.
    const env = { PATH: '/nonexistent', FC_DEVOPS_LAYER_DIR: opt, HOME: work };
    const version = await runProcess('git', ['--version'], { env });
    expect(version.stdout.trim()).toBe(git.version);
    const r = await runProcess('git', ['--exec-path'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(join(opt, 'libexec/git-core'));
    const repo = join(work, 'repo');
    expect((await runProcess('git', ['init', '-q', repo], { env })).code).toBe(0);
    expect(toolEnv(env).LD_LIBRARY_PATH).toBe(join(opt, 'lib'));
  });

  it('packs the real PostgreSQL clients behind Debian wrapper scripts, and they run from the layer', async () => {
    const { file, manifest } = buildLayer('pg-clients', { outDir: join(work, 'out') });
    expect(manifest.files.find((f) => f.path === 'bin/pg_dump')?.from).toMatch(
      /^\/usr\/lib\/postgresql\/\d+\/bin\/pg_dump$/,
    );
    const opt = join(work, 'opt-pg');
    unpack(file, opt);
    const r = await runProcess('pg_dump', ['--version'], {
      env: { PATH: '/nonexistent', FC_DEVOPS_LAYER_DIR: opt },
    });
    expect(r.stdout).toMatch(/^pg_dump \(PostgreSQL\) \d+/);
  });

  it.skipIf(!spawnSync('packer', ['version']).stdout?.length)(
    'packs packer (static Go: no libraries)',
    () => {
      const { manifest } = buildLayer('packer', { outDir: join(work, 'out') });
      expect(manifest.files.map((f) => f.path)).toEqual(['bin/packer']);
      expect(manifest.files[0]!.version).toMatch(/^Packer v\d/);
    },
  );

  it('refuses what FC cannot run, naming the file and the fix', () => {
    const script = join(work, 'fake-terraform');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o755);
    expect(checkElf(script)).toBe('is a script, not a binary');
    const r = spawnSync(
      process.execPath,
      [CLI, 'layer', 'build', 'terraform', '--path', `terraform=${script}`, '--out', work],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `layer terraform: terraform: ${script} is a script, not a binary; give a binary with --path terraform=...`,
    );
    const unknown = spawnSync(process.execPath, [CLI, 'layer', 'build', 'kubectl'], { encoding: 'utf8' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain(
      'unknown layer "kubectl" (known: git, packer, terraform, pg-clients, mysql-clients)',
    );
    const wrong = spawnSync(process.execPath, [CLI, 'layer', 'build', 'git', '--path', 'psql=/usr/bin/git'], {
      encoding: 'utf8',
    });
    expect(wrong.stderr).toContain('--path psql=...: the git layer holds git');
  });

  it('writes archives other tools read: stored and deflated entries, modes, byte-identical rebuilds', () => {
    const entries = [
      { name: 'bin/tool', data: Buffer.alloc(5000, 'a'), mode: 0o755 },
      { name: 'tiny', data: Buffer.from('x'), mode: 0o644 },
    ];
    writeZip(join(work, 'a.zip'), entries);
    writeZip(join(work, 'b.zip'), entries);
    expect(readFileSync(join(work, 'a.zip')).equals(readFileSync(join(work, 'b.zip')))).toBe(true);
    const listed = unpack(join(work, 'a.zip'), join(work, 'ab'));
    expect(listed).toEqual([
      { name: 'bin/tool', mode: 0o755 },
      { name: 'tiny', mode: 0o644 },
    ]);
    expect(readFileSync(join(work, 'ab/bin/tool')).equals(entries[0]!.data)).toBe(true);
  });
});
