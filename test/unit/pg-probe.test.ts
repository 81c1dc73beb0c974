import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOptions } from '../../local/runtime/build.ts';

// pg's Cloudflare Workers probe builds a `Response`, which on Node 20 loads Node's whole fetch stack
// (undici) the first time a function touches the store. Bundles skip the probe (local/runtime/build.ts).

const root = resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(root, 'node_modules', '.fcd-pg-probe-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Load `module` in a fresh node and say whether undici (fetch, Response) was loaded by then. */
function loadsUndici(module: string): boolean {
  const script = `const pg = (await import(${JSON.stringify(`file://${module}`)})).default; new pg.Client(); console.log(process.moduleLoadList.some((m) => m.includes('undici')));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return run.stdout.trim() === 'true';
}

describe("a bundle that uses pg skips pg's Cloudflare Workers probe", () => {
  it('loads pg and makes a client without loading undici; pg itself, unbundled, does load it', async () => {
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, "import pg from 'pg';\nexport default pg;\n");
    await esbuild.build(buildOptions(dir, 'probe', entry));
    const bundle = join(dir, 'dist', 'probe', 'index.mjs');
    expect(readFileSync(bundle, 'utf8')).not.toContain('new Response(');
    expect(loadsUndici(bundle)).toBe(false);
    // The control: without the bundle's change, the same steps load undici (or this test proves nothing).
    const plain = join(dir, 'plain.mjs');
    writeFileSync(plain, "import pg from 'pg';\nexport default pg;\n");
    expect(loadsUndici(plain)).toBe(true);
  }, 60_000);

  it('fails the build, saying what to check, when pg no longer has the probe it expects', async () => {
    const fake = join(dir, 'node_modules', 'pg', 'lib');
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, 'stream.js'), 'module.exports = { probe: typeof fetch };\n');
    writeFileSync(join(dir, 'node_modules', 'pg', 'package.json'), '{"name":"pg","main":"lib/stream.js"}');
    const entry = join(dir, 'fake.ts');
    writeFileSync(entry, "import pg from 'pg';\nexport default pg;\n");
    const built = esbuild.build({ ...buildOptions(dir, 'fake', entry), logLevel: 'silent' });
    await expect(built).rejects.toThrow(/pg's lib\/stream\.js no longer contains/);
  });
});
