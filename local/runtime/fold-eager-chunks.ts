import { builtinModules } from 'node:module';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import * as esbuild from 'esbuild';

export interface BundleFile {
  path: string;
  contents: Uint8Array;
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** `to` as an import specifier from a file in `fromDir`. */
function specifier(fromDir: string, to: string): string {
  const path = relative(fromDir, to).split('\\').join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/**
 * The files a cold start loads, folded into one. esbuild's code splitting gives every module that
 * the entry and a lazily imported chunk share a chunk of its own, which the entry imports
 * statically: a cold start then loads 5-9 files where one would do, and Node's ESM loader costs a
 * fresh process about 0.3-0.5 ms per file. This pass moves the chunks the entry imports statically
 * into the entry (`index.mjs`), which re-exports what they exported under names of its own, and
 * points the lazy chunks that imported them at the entry instead. A lazy chunk is only imported
 * once the entry has run, so the entry is always loaded by then; each module still exists once, so
 * classes, caches and `instanceof` keep their identity.
 *
 * `output` is how the splitting build wrote its files (target, minify, source maps), for this pass
 * to write them alike; `files` and `meta` are what that build wrote to `outDir` (`write: false`,
 * `metafile: true`). Returns the files to write instead.
 */
export async function foldEagerChunks(
  outDir: string,
  output: esbuild.BuildOptions,
  files: readonly BundleFile[],
  meta: esbuild.Metafile,
): Promise<BundleFile[]> {
  const byPath = new Map(files.map((f) => [resolve(f.path), f]));
  const outputs = new Map(Object.entries(meta.outputs).map(([p, o]) => [resolve(p), o]));
  // Lazy chunks are entry points too (of their import()); the function's own is index.mjs.
  const entry = resolve(outDir, 'index.mjs');
  const eager: string[] = [];
  const visit = (file: string) => {
    if (eager.includes(file)) return;
    eager.push(file);
    for (const i of outputs.get(file)?.imports ?? [])
      if (i.kind === 'import-statement' && !i.external) visit(resolve(i.path));
  };
  if (outputs.has(entry)) visit(entry);
  const chunks = eager.slice(1);
  if (chunks.length === 0) return [...files];

  // Every folded chunk's exports, re-exported by the entry under names no other chunk uses. The
  // names come from the chunk's file name (a hash of its content), so a lazy chunk that did not
  // change imports the same names after a rebuild: an instance still running the last build can
  // load it (npm start rebuilds while instances run).
  const alias = new Map(
    chunks.map((chunk) => {
      const tag = basename(chunk, '.mjs').replace(/\W/g, '_');
      return [chunk, new Map(outputs.get(chunk)!.exports.map((e) => [e, `__fcd_${tag}_${e}`] as const))];
    }),
  );
  const reexports = chunks.map((chunk) => {
    const names = [...alias.get(chunk)!].map(([e, a]) => `${e} as ${a}`);
    return names.length
      ? `export { ${names.join(', ')} } from ${JSON.stringify(chunk)};`
      : `import ${JSON.stringify(chunk)};`;
  });

  // A file as the first build wrote it, with its source map inlined so the second build chains it
  // back to the TypeScript sources.
  const source = (path: string): string => {
    const text = Buffer.from(byPath.get(path)!.contents).toString('utf8');
    return text.replace(/\/\/# sourceMappingURL=(\S+)\s*$/, (line, url: string) => {
      const map = byPath.get(resolve(dirname(path), url));
      return map
        ? `//# sourceMappingURL=data:application/json;base64,${Buffer.from(map.contents).toString('base64')}`
        : line;
    });
  };

  const plugin = (importer: string): esbuild.Plugin => ({
    name: 'fc-devops-fold-eager-chunks',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return { path: resolve(args.path) };
        // Built-ins and the packages the first build left external stay as they are.
        if (BUILTINS.has(args.path) || !(args.path.startsWith('.') || isAbsolute(args.path)))
          return { path: args.path, external: true };
        const target = resolve(args.resolveDir, args.path);
        if (eager.includes(target)) {
          // The merge build takes the entry and every folded chunk in.
          if (importer === entry) return { path: target };
          // A lazy chunk gets the entry's re-exports of a folded chunk instead.
          if (target !== entry) return { path: target, namespace: 'fc-devops-folded' };
        }
        // Lazy chunks stay files, imported from where the importer now is.
        return { path: specifier(dirname(importer), target), external: true };
      });
      build.onLoad({ filter: /.*/, namespace: 'file' }, (args) =>
        byPath.has(args.path)
          ? { contents: source(args.path), loader: 'js', resolveDir: dirname(args.path) }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'fc-devops-folded' }, (args) => {
        const names = [...alias.get(args.path)!].map(([e, a]) => `${a} as ${e}`);
        return {
          contents: `export { ${names.join(', ')} } from ${JSON.stringify(specifier(dirname(importer), entry))};`,
          resolveDir: dirname(importer),
        };
      });
    },
  });
  const options: esbuild.BuildOptions = { ...output, bundle: true, write: false };

  const lazy = [...outputs.keys()].filter(
    (f) =>
      !eager.includes(f) &&
      outputs.get(f)!.imports.some((i) => i.kind === 'import-statement' && eager.includes(resolve(i.path))),
  );
  const built = await Promise.all([
    esbuild.build({
      ...options,
      stdin: {
        contents: `export * from ${JSON.stringify(entry)};\n${reexports.join('\n')}\n`,
        resolveDir: outDir,
        // Not index.mjs: a stdin named like the entry would import itself.
        sourcefile: 'fc-devops-folded-entry.mjs',
        loader: 'js',
      },
      outfile: entry,
      plugins: [plugin(entry)],
    }),
    ...lazy.map((chunk) =>
      esbuild.build({ ...options, entryPoints: [chunk], outfile: chunk, plugins: [plugin(chunk)] }),
    ),
  ]);
  const replaced = new Map(
    built.flatMap((r) => (r.outputFiles ?? []).map((f) => [resolve(f.path), f] as const)),
  );
  const gone = new Set(chunks.flatMap((c) => [c, `${c}.map`]));
  return [
    ...files.filter((f) => !gone.has(resolve(f.path)) && !replaced.has(resolve(f.path))),
    ...replaced.values(),
  ];
}
