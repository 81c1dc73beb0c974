import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { formatConfigProblem } from '../../shared/runtime/errors.ts';
import { compileConfig } from './config-compile.ts';

export interface BuildResult {
  functions: string[];
  outDir: string;
  errors: string[];
}

/** `functions/<name>/index.ts` under `root`, by function folder name. */
export function functionEntries(root: string): Record<string, string> {
  const dir = join(root, 'functions');
  if (!existsSync(dir)) return {};
  const entries: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const entry = join(dir, name, 'index.ts');
    if (existsSync(entry)) entries[name] = entry;
  }
  return entries;
}

/**
 * esbuild options for one minified ESM bundle per function, `dist/<name>/index.mjs`, ready for `code:`
 * in s.yaml (handler `index.handler`). Everything the function imports is inside its bundle.
 */
export function buildOptions(root: string, entries: Record<string, string>): esbuild.BuildOptions {
  return {
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [`${name}/index`, file])),
    outdir: join(root, 'dist'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    // Error classes are told apart by name in logs, run records and FC's errorType.
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'none',
    // PGlite is for local use only (functions in the cloud get DATABASE_URL); pg-native is optional.
    external: ['@electric-sql/pglite', '@electric-sql/pglite-socket', 'pg-native'],
    logLevel: 'silent',
    // CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  };
}

/**
 * `config`: the fc-devops.yaml each bundle carries, compiled (default: the one in `root`, if any);
 * `false` for none (the local runtime compiles its own into the state directory).
 */
export async function buildFunctions(
  root: string,
  options: { config?: string | false } = {},
): Promise<BuildResult> {
  const entries = functionEntries(root);
  const outDir = join(root, 'dist');
  if (Object.keys(entries).length === 0) return { functions: [], outDir, errors: [] };
  try {
    await esbuild.build(buildOptions(root, entries));
    // In the cloud each function reads fc-devops.yaml checked and compiled to JSON beside its bundle
    // (FC_DEVOPS_CONFIG=./fc-devops.json): a configuration with problems fails the build, not a cold start.
    const config = options.config ?? join(root, 'fc-devops.yaml');
    if (config !== false && existsSync(config)) {
      const compiled = compileConfig(config);
      if (compiled.problems)
        return {
          functions: Object.keys(entries),
          outDir,
          errors: compiled.problems.map(formatConfigProblem),
        };
      const text = `${JSON.stringify(compiled)}\n`;
      for (const name of Object.keys(entries)) writeFileSync(join(outDir, name, 'fc-devops.json'), text);
    }
    return { functions: Object.keys(entries), outDir, errors: [] };
  } catch (error) {
    const failure = error as esbuild.BuildFailure;
    const errors = (failure.errors ?? []).map(
      (e) => `${e.location ? `${e.location.file}:${e.location.line}:${e.location.column} ` : ''}${e.text}`,
    );
    return { functions: Object.keys(entries), outDir, errors: errors.length ? errors : [String(error)] };
  }
}

/** Rebuild on every change under `root`'s sources; `onBuilt` runs after each successful build. */
export async function watchFunctions(
  root: string,
  onBuilt: (result: BuildResult) => void,
): Promise<{ dispose: () => Promise<void> }> {
  const entries = functionEntries(root);
  if (Object.keys(entries).length === 0) return { dispose: async () => {} };
  let first = true;
  const ctx = await esbuild.context({
    ...buildOptions(root, entries),
    plugins: [
      {
        name: 'fc-devops-reload',
        setup(build) {
          build.onEnd((result) => {
            // The first build is awaited by the caller; only later ones are reloads.
            if (first) {
              first = false;
              return;
            }
            onBuilt({
              functions: Object.keys(entries),
              outDir: join(root, 'dist'),
              errors: result.errors.map(
                (e) => `${e.location?.file ?? ''}:${e.location?.line ?? ''} ${e.text}`,
              ),
            });
          });
        },
      },
    ],
  });
  await ctx.watch();
  return { dispose: () => ctx.dispose() };
}
