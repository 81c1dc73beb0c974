import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunction, buildOptions } from '../../local/runtime/build.ts';

// A function whose entry and lazily imported module share a class and some state: esbuild's
// splitting puts what they share in a chunk of its own, which the cold start then loads as a
// second file.
const SOURCES = {
  'shared.ts': `export class Thing {}
let count = 0;
export function bump(): number { return ++count; }`,
  'lazy.ts': `import { Thing, bump } from './shared.ts';
export function check(t: unknown) { return { same: t instanceof Thing, n: bump() }; }`,
  'index.ts': `import { Thing, bump } from './shared.ts';
export const handler = async () => {
  bump();
  const { check } = await import('./lazy.ts');
  return check(new Thing());
};`,
};

let root: string;
const entry = () => join(root, 'functions', 'probe', 'index.ts');
const out = (...p: string[]) => join(root, 'dist', 'probe', ...p);
const staticImports = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*"(\.\.?\/[^"]+\.mjs)"/g)].map((m) => m[1]);
const chunkFiles = () => readdirSync(out('chunks')).filter((f) => f.endsWith('.mjs'));

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'fcd-fold-'));
  mkdirSync(join(root, 'functions', 'probe'), { recursive: true });
  for (const [file, text] of Object.entries(SOURCES))
    writeFileSync(join(root, 'functions', 'probe', file), text);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('folding the chunks a cold start loads into the entry', () => {
  it('starts from a split bundle whose entry imports a shared chunk', async () => {
    await esbuild.build(buildOptions(root, 'probe', entry()));
    expect(staticImports(out('index.mjs'))).toHaveLength(1);
    expect(chunkFiles()).toHaveLength(2); // the shared chunk and the lazy one
  });

  it('leaves one file to load at cold start, and the lazy chunk importing from it', async () => {
    await buildFunction(root, 'probe', entry());
    expect(staticImports(out('index.mjs'))).toEqual([]);
    const chunks = chunkFiles();
    expect(chunks).toEqual([expect.stringMatching(/^lazy-[A-Z0-9]+\.mjs$/)]);
    expect(staticImports(out('chunks', chunks[0]!))).toEqual(['../index.mjs']);
    // Every file was written whole and renamed into place: nothing half-written is left beside them.
    expect(readdirSync(out()).sort()).toEqual(['chunks', 'index.mjs', 'index.mjs.map']);
    expect(readdirSync(out('chunks')).filter((f) => !/^lazy-[A-Z0-9]+\.mjs(\.map)?$/.test(f))).toEqual([]);
  });

  it('keeps one copy of each module: the class is the same class, the state the same state', () => {
    const run = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(`file://${out('index.mjs')}`)}); console.log(JSON.stringify(await m.handler()));`,
      ],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ same: true, n: 2 });
  });

  it('maps the folded code back to its TypeScript sources', () => {
    const sources = (file: string) =>
      (JSON.parse(readFileSync(`${file}.map`, 'utf8')).sources as string[]).map((s) => s.split('/').pop());
    expect(sources(out('index.mjs'))).toEqual(expect.arrayContaining(['index.ts', 'shared.ts']));
    expect(sources(out('chunks', chunkFiles()[0]!))).toContain('lazy.ts');
  });
});
