import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunction, functionEntries } from '../../local/runtime/build.ts';

// Built-ins every cold start may compile: each of the rest costs 1-3 ms (http, https, zlib,
// child_process, net, dns...), so only the events that use them load them (shared/util/builtin.ts,
// import()). `module` is how those are loaded; crypto hashes keys and checks signatures.
const EAGER = ['node:crypto', 'node:fs', 'node:module', 'node:os', 'node:path'];

const root = resolve(import.meta.dirname, '../..');
let out: string;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'fcd-cold-imports-'));
  for (const [name, entry] of Object.entries(functionEntries(root))) await buildFunction(out, name, entry);
}, 60_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The built-ins a bundle's entry and the chunks it imports statically name. */
function eagerBuiltins(entry: string): string[] {
  const seen = new Set<string>();
  const builtins = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*"(node:[a-z_/]+)"/g)) builtins.add(m[1]!);
    for (const m of text.matchAll(/(?:from|import)\s*"(\.\.?\/[^"]+\.mjs)"/g))
      visit(resolve(dirname(file), m[1]!));
  };
  visit(entry);
  return [...builtins].sort();
}

describe('what a cold start loads', () => {
  it.each(Object.keys(functionEntries(root)))('%s imports no built-in that only some events use', (name) => {
    const extra = eagerBuiltins(join(out, 'dist', name, 'index.mjs')).filter((b) => !EAGER.includes(b));
    expect(extra).toEqual([]);
  });

  it('sees a built-in imported at the top of a bundle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcd-cold-probe-'));
    try {
      const entry = join(dir, 'index.mjs');
      const chunk = join(dir, 'chunk.mjs');
      writeFileSync(entry, 'import{a}from"./chunk.mjs";import*as z from"node:zlib";');
      writeFileSync(chunk, 'import{spawn}from"node:child_process";export const a=1;');
      expect(eagerBuiltins(entry)).toEqual(['node:child_process', 'node:zlib']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
