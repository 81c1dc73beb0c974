import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { formatConfigProblem } from '../../shared/runtime/errors.ts';
import { compileConfig } from './config-compile.ts';
import { foldEagerChunks } from './fold-eager-chunks.ts';

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

/** How a bundle's files are written, by the splitting build and by the pass that folds its chunks. */
const OUTPUT = {
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  // No keepNames: its __name() wrappers cost each cold start ~1.5 ms. Error classes, told apart by
  // name in logs, run records and FC's errorType, name themselves (test/unit/error-names.test.ts).
  keepNames: false,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'silent',
} satisfies esbuild.BuildOptions;

/**
 * esbuild options for one function: a minified ESM bundle, `dist/<name>/index.mjs`, ready for `code:`
 * in s.yaml (handler `index.handler`). Everything the function imports is inside its directory; what
 * it imports with `import()` (paths few events take) is split into `dist/<name>/chunks/` and only
 * loaded, parsed and run when an event takes that path, so it costs no cold start.
 */
export function buildOptions(root: string, name: string, entry: string): esbuild.BuildOptions {
  return {
    entryPoints: { index: entry },
    outdir: join(root, 'dist', name),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    ...OUTPUT,
    // PGlite is for local use only (functions in the cloud get DATABASE_URL); pg-native is optional.
    external: ['@electric-sql/pglite', 'pg-native'],
    // CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
    plugins: [pgWithoutWorkersProbe],
  };
}

/** What pg 8 runs when its module loads, to tell a Cloudflare Worker from Node (lib/stream.js). */
const PG_WORKERS_PROBE = "if (typeof Response === 'function') {";

/**
 * pg decides at load whether it runs in a Cloudflare Worker, and where `navigator` is missing (Node
 * 20, FC's nodejs20) it builds a `Response` to find out: Node then loads its whole fetch stack
 * (undici), 17-28 ms of the first event that touches the store in every new instance. A function
 * on FC is never a Worker: the bundle skips that probe. If pg stops matching, the build fails
 * rather than quietly paying it again (test/unit/pg-probe.test.ts).
 */
export const pgWithoutWorkersProbe: esbuild.Plugin = {
  name: 'fc-devops-pg-without-workers-probe',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(PG_WORKERS_PROBE))
        return {
          errors: [
            {
              text: `pg's lib/stream.js no longer contains "${PG_WORKERS_PROBE}": check how it detects Cloudflare Workers now, and update pgWithoutWorkersProbe (local/runtime/build.ts)`,
            },
          ],
        };
      return { contents: source.replace(PG_WORKERS_PROBE, 'if (false) {'), loader: 'js' };
    });
  },
};

/**
 * One function's bundle, written to `dist/<name>`: split by esbuild, then with the chunks every cold
 * start loads folded into the entry (fold-eager-chunks.ts).
 */
export async function buildFunction(root: string, name: string, entry: string): Promise<void> {
  const options = buildOptions(root, name, entry);
  const result = await esbuild.build({ ...options, write: false, metafile: true });
  // Chunks are named by content: drop the last build's, or they pile up.
  await writeBundle(options, result, { clean: true });
}

/**
 * `clean`: drop the last build's chunks first. Watch mode keeps them: an instance still running the
 * last build may import one of its lazy chunks after the rebuild.
 */
async function writeBundle(
  build: esbuild.BuildOptions,
  result: esbuild.BuildResult,
  options: { clean: boolean },
): Promise<void> {
  const outDir = build.outdir!;
  const files = await foldEagerChunks(outDir, OUTPUT, result.outputFiles ?? [], result.metafile!);
  if (options.clean) rmSync(join(outDir, 'chunks'), { recursive: true, force: true });
  // npm start rebuilds while instances start: each file is replaced whole (written beside, then
  // renamed over), and the entry goes last, so an instance loads either the old entry or a new one
  // whose chunks are all there.
  const entry = resolve(outDir, 'index.mjs');
  const last = (path: string) => (resolve(path).startsWith(entry) ? 1 : 0);
  for (const file of [...files].sort((a, b) => last(a.path) - last(b.path))) {
    mkdirSync(dirname(file.path), { recursive: true });
    const partial = `${file.path}.${process.pid}.partial`;
    writeFileSync(partial, file.contents);
    renameSync(partial, file.path);
  }
}

function failures(error: unknown): string[] {
  const failure = error as esbuild.BuildFailure;
  const errors = (failure.errors ?? []).map(
    (e) => `${e.location ? `${e.location.file}:${e.location.line}:${e.location.column} ` : ''}${e.text}`,
  );
  return errors.length ? errors : [String(error)];
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
  const names = Object.keys(entries);
  if (names.length === 0) return { functions: [], outDir, errors: [] };
  const built = await Promise.allSettled(names.map((name) => buildFunction(root, name, entries[name]!)));
  const errors = built.flatMap((r) => (r.status === 'rejected' ? failures(r.reason) : []));
  if (errors.length) return { functions: names, outDir, errors };
  // In the cloud each function reads fc-devops.yaml checked and compiled to JSON beside its bundle
  // (FC_DEVOPS_CONFIG=./fc-devops.json): a configuration with problems fails the build, not a cold start.
  const config = options.config ?? join(root, 'fc-devops.yaml');
  if (config !== false && existsSync(config)) {
    const compiled = compileConfig(config);
    if (compiled.problems)
      return { functions: names, outDir, errors: compiled.problems.map(formatConfigProblem) };
    const text = `${JSON.stringify(compiled)}\n`;
    for (const name of names) writeFileSync(join(outDir, name, 'fc-devops.json'), text);
  }
  return { functions: names, outDir, errors: [] };
}

/**
 * Rebuild on every change under `root`'s sources (one esbuild context per function); `onBuilt` runs
 * once per burst of rebuilds (a change in shared/ rebuilds every function).
 */
export async function watchFunctions(
  root: string,
  onBuilt: (result: BuildResult) => void,
): Promise<{ dispose: () => Promise<void> }> {
  const entries = functionEntries(root);
  const names = Object.keys(entries);
  if (names.length === 0) return { dispose: async () => {} };
  let pending: string[] | undefined;
  let timer: NodeJS.Timeout | undefined;
  const report = (errors: string[]) => {
    pending = [...(pending ?? []), ...errors];
    clearTimeout(timer);
    timer = setTimeout(() => {
      const all = pending ?? [];
      pending = undefined;
      onBuilt({ functions: names, outDir: join(root, 'dist'), errors: all });
    }, 150);
  };
  const contexts = await Promise.all(
    names.map(async (name) => {
      let first = true;
      const base = buildOptions(root, name, entries[name]!);
      const ctx = await esbuild.context({
        ...base,
        write: false,
        metafile: true,
        plugins: [
          ...(base.plugins ?? []),
          {
            name: 'fc-devops-reload',
            setup(build) {
              build.onEnd(async (result) => {
                const errors = result.errors.map(
                  (e) => `${e.location?.file ?? ''}:${e.location?.line ?? ''} ${e.text}`,
                );
                if (!errors.length)
                  await writeBundle(base, result, { clean: false }).catch((e) => errors.push(...failures(e)));
                // The first build is awaited by the caller; only later ones are reloads.
                if (first) {
                  first = false;
                  return;
                }
                report(errors);
              });
            },
          },
        ],
      });
      await ctx.watch();
      return ctx;
    }),
  );
  return {
    dispose: async () => {
      clearTimeout(timer);
      await Promise.all(contexts.map((c) => c.dispose()));
    },
  };
}
