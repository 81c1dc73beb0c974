import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { buildOptions } from '../../local/runtime/build.ts';

// Bundles are minified without keepNames, so an error class's name is only what it says it is.
// FC's errorType, run records and logs tell errors apart by that name.

const root = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every class in the bundled code that is an Error, however many classes down. */
function errorClasses(): { name: string; file: string; body: string }[] {
  const classes = [...sources(join(root, 'shared')), ...sources(join(root, 'functions'))].flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/class (\w+) extends (\w+)[^{]*\{(?=([\s\S]{0,400}))/g)].map((m) => ({
      name: m[1]!,
      base: m[2]!,
      file,
      body: m[3]!,
    }));
  });
  const errors = new Set(['Error']);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of classes)
      if (errors.has(c.base) && !errors.has(c.name)) {
        errors.add(c.name);
        grew = true;
      }
  }
  return classes.filter((c) => errors.has(c.name));
}

describe('error names in minified bundles', () => {
  it('every error class names itself', () => {
    const found = errorClasses();
    expect(found.length).toBeGreaterThan(20);
    const unnamed = found
      .filter((c) => c.name !== 'FcDevopsError') // abstract: never thrown itself
      .filter((c) => !c.body.includes(`override name = '${c.name}';`))
      .map((c) => `${c.name} (${c.file.slice(root.length + 1)})`);
    expect(unnamed).toEqual([]);
  });

  it('keeps those names through the functions build', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcd-error-names-'));
    try {
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        `import * as runtime from ${JSON.stringify(join(root, 'shared/runtime/errors.ts'))};
import * as cloud from ${JSON.stringify(join(root, 'shared/cloud/errors.ts'))};
export const names = [
  new runtime.ParseError('event', []).name,
  new runtime.ConfigError([{ file: 'f', message: 'm' }]).name,
  new runtime.ConflictError('busy').name,
  new runtime.InvariantError('never').name,
  new cloud.CloudError('rds', 'DescribeBackups', { code: 'Throttling' }).name,
  new cloud.NetworkError('fc', 'InvokeFunction', new Error('reset')).name,
];
`,
      );
      await esbuild.build(buildOptions(dir, 'probe', entry));
      const built = join(dir, 'dist', 'probe', 'index.mjs');
      // The build minifies: were names its own, this would say nothing.
      expect(readFileSync(built, 'utf8')).not.toContain('class ParseError');
      const { names } = await import(pathToFileURL(built).href);
      expect(names).toEqual([
        'ParseError',
        'ConfigError',
        'ConflictError',
        'InvariantError',
        'CloudError',
        'NetworkError',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
