import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { buildFunctions, buildOptions } from '../local/runtime/build.ts';
import { writeCompiledConfig } from '../local/runtime/config-compile.ts';
import { resolveModule } from '../local/runtime/instance-pool.ts';
import { type FunctionSpec, loadProject } from '../local/runtime/s-yaml.ts';
import type { Figure } from './figures.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);

/** Issue 15's budgets for every function: bytes a cold start loads, and its time over an empty handler's. */
export const BUNDLE_BUDGET_KB = 300;
export const COLD_START_BUDGET = 1.3;

/**
 * An event each function answers without reaching a database or the cloud, so the cold start is the
 * import plus one envelope-to-answer pass: an HTTP GET to an unknown path, else a job of an unknown kind.
 */
function sampleEvent(fn: FunctionSpec | undefined): unknown {
  if (fn?.http) {
    return {
      version: 'v1',
      rawPath: '/',
      body: '',
      isBase64Encoded: false,
      headers: {},
      queryParameters: {},
      requestContext: { http: { method: 'GET', path: '/' }, requestId: 'bench' },
    };
  }
  return {
    id: 'bench',
    kind: 'bench.nothing',
    idempotencyKey: 'bench',
    payload: {},
    correlationId: 'bench',
    attempt: 1,
    createdAt: new Date().toISOString(),
  };
}

/** Time a fresh Node process that imports the bundle and answers one event. */
function coldStart(modulePath: string, exportName: string, event: unknown, configJson: string): number {
  const script = `
    const t0 = performance.now();
    const mod = await import(${JSON.stringify(`file://${modulePath}`)});
    const ctx = { requestId: 'bench', credentials: {}, function: { name: 'bench', handler: 'index.handler', memory: 512, timeout: 3 }, service: {}, region: 'cn-hangzhou', accountId: '1', logger: console };
    try { await mod[${JSON.stringify(exportName)}](Buffer.from(${JSON.stringify(JSON.stringify(event))}), ctx); } catch {}
    process.stderr.write('in-process ' + (performance.now() - t0).toFixed(2) + '\\n');
    process.exit(0);`;
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    // Functions read their config at cold start; the example config stands in for a real one.
    // A closed port as the state store: a function that reaches for it answers with an error at once.
    env: {
      PATH: process.env.PATH ?? '',
      FC_DEVOPS_LOG_LEVEL: 'error',
      FC_DEVOPS_CONFIG: configJson,
      DATABASE_URL: 'postgres://bench@127.0.0.1:1/bench',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`cold start of ${modulePath} failed: ${result.stderr}`);
  return ms;
}

/**
 * Bytes a cold start loads (the entry and the chunks it imports statically) and bytes left to the
 * first event that needs them (`import()`: the store's PostgreSQL engine, the kubeconfig parser).
 * `loaded`: files already in memory, not counted again.
 */
function moduleBytes(
  entry: string,
  loaded: ReadonlySet<string> = new Set(),
): { eager: number; lazy: number; files: Set<string> } {
  const eager = new Set<string>();
  const lazy = new Set<string>();
  const visit = (file: string, into: Set<string>) => {
    if (loaded.has(file) || eager.has(file) || into.has(file)) return;
    into.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*"(\.\.?\/[^"]+\.mjs)"/g))
      visit(resolve(dirname(file), m[1]!), into);
    for (const m of text.matchAll(/import\("(\.\.?\/[^"]+\.mjs)"\)/g))
      visit(resolve(dirname(file), m[1]!), lazy);
  };
  visit(entry, eager);
  const size = (files: Set<string>) => [...files].reduce((n, f) => n + statSync(f).size, 0);
  return { eager: size(eager), lazy: size(new Set([...lazy].filter((f) => !eager.has(f)))), files: eager };
}

/**
 * What the first event that touches the store adds to a cold start, which the figures above leave
 * out (their event reaches no database): a fresh process that has imported the function importing
 * the store's PostgreSQL engine chunk (pg and the SQL store), in-process time, median of `RUNS`.
 */
function firstStoreUse(
  codeDir: string,
  configJson: string,
): { kb: number; median: number; min: number } | undefined {
  const chunks = join(codeDir, 'chunks');
  const chunk = existsSync(chunks)
    ? readdirSync(chunks).find((f) => /^postgres-[A-Z0-9]+\.mjs$/.test(f))
    : undefined;
  if (!chunk) return undefined;
  const path = join(chunks, chunk);
  // The entry first (the chunk imports what the entry folded in, and a function has it loaded by then).
  const script = `await import(${JSON.stringify(`file://${join(codeDir, 'index.mjs')}`)}); const t0 = performance.now(); await import(${JSON.stringify(`file://${path}`)}); process.stderr.write(String(performance.now() - t0));`;
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', FC_DEVOPS_CONFIG: configJson },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`loading ${path} failed: ${result.stderr}`);
    times.push(Number(result.stderr));
  }
  // What the chunk adds to what the entry loaded.
  const entryFiles = moduleBytes(join(codeDir, 'index.mjs')).files;
  return { kb: moduleBytes(path, entryFiles).eager / 1024, median: median(times), min: Math.min(...times) };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runBench(template = resolve('s.yaml')): Promise<Figure[]> {
  const project = loadProject(template);
  const built = await buildFunctions(project.root);
  if (built.errors.length) throw new Error(built.errors.join('\n'));

  // The baseline: an empty handler bundled the same way, measured in the same run.
  const tmp = mkdtempSync(join(tmpdir(), 'fc-devops-bench-'));
  mkdirSync(join(tmp, 'functions', 'empty'), { recursive: true });
  writeFileSync(join(tmp, 'functions', 'empty', 'index.ts'), 'export const handler = async () => "ok";\n');
  await esbuild.build(buildOptions(tmp, 'empty', join(tmp, 'functions', 'empty', 'index.ts')));

  // Functions read the example config compiled, as `fc-devops build` ships it beside each bundle.
  const configJson = join(tmp, 'fc-devops.json');
  writeCompiledConfig(resolve('fc-devops.example.yaml'), configJson);
  const rows: {
    name: string;
    bytes: number;
    lazy: number;
    median: number;
    min: number;
    /** Median over rounds of this round's time over the baseline's in the same round. */
    ratio: number;
    /** The same for the difference, in ms. */
    extra: number;
  }[] = [];
  const targets: { name: string; modulePath: string; exportName: string; event: unknown }[] = [
    {
      name: '(empty handler baseline)',
      modulePath: join(tmp, 'dist', 'empty', 'index.mjs'),
      exportName: 'handler',
      event: {},
    },
    ...project.functions.map((fn) => ({
      name: fn.name,
      modulePath: resolveModule(fn.codeDir, fn.handler.slice(0, fn.handler.lastIndexOf('.'))),
      exportName: fn.handler.slice(fn.handler.lastIndexOf('.') + 1),
      event: sampleEvent(fn),
    })),
  ];
  // Round-robin: a burst of load on the machine lands on every function and the baseline alike.
  const times = targets.map(() => [] as number[]);
  for (let run = 0; run < RUNS; run++)
    for (const [i, t] of targets.entries())
      times[i]!.push(coldStart(t.modulePath, t.exportName, t.event, configJson));
  targets.forEach((t, i) => {
    const { eager, lazy } = moduleBytes(t.modulePath);
    // Paired by round: this VM's load comes in bursts of seconds, which a round's baseline and
    // function runs share, while a median of each side alone can take its middle from different bursts.
    const base = times[0]!;
    rows.push({
      name: t.name,
      bytes: eager,
      lazy,
      median: median(times[i]!),
      min: Math.min(...times[i]!),
      ratio: median(times[i]!.map((v, run) => v / base[run]!)),
      extra: median(times[i]!.map((v, run) => v - base[run]!)),
    });
  });

  const base = rows[0]!;
  console.log(
    `cold start: a fresh node process imports the bundle and answers one event; ${RUNS} rounds, median (min); against the baseline run in the same round, median`,
  );
  console.log(
    `${'function'.padEnd(28)}${'loaded'.padStart(12)}${'on first use'.padStart(14)}${'cold start'.padStart(22)}${'vs baseline'.padStart(22)}`,
  );
  for (const r of rows) {
    const delta =
      r === base ? '' : `${r.extra >= 0 ? '+' : ''}${r.extra.toFixed(1)} ms, ${r.ratio.toFixed(2)}x`;
    console.log(
      `${r.name.padEnd(28)}${`${(r.bytes / 1024).toFixed(1)} KB`.padStart(12)}${`${(r.lazy / 1024).toFixed(1)} KB`.padStart(14)}${`${r.median.toFixed(1)} ms (${r.min.toFixed(1)})`.padStart(22)}${delta.padStart(22)}`,
    );
  }
  if (project.functions.length === 0) console.log(`(${template} declares no functions yet)`);
  const first = project.functions[0];
  let store: ReturnType<typeof firstStoreUse>;
  try {
    store = first && firstStoreUse(dirname(resolveModule(first.codeDir, 'index')), configJson);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (store)
    console.log(
      `first store use, on top of the above (not in the figures: their event reaches no database): importing the PostgreSQL engine chunk and what it imports (${store.kb.toFixed(1)} KB, pg among it) in a fresh process, ${store.median.toFixed(1)} ms (${store.min.toFixed(1)})`,
    );
  return rows.slice(1).flatMap((r): Figure[] => [
    {
      id: `cold-start:${r.name}`,
      what: `cold start ${r.name} vs empty`,
      value: r.ratio,
      unit: 'x',
      goal: COLD_START_BUDGET,
      better: 'lower',
    },
    {
      id: `bundle:${r.name}`,
      what: `bundle ${r.name} (loaded)`,
      value: r.bytes / 1024,
      unit: 'KB',
      goal: BUNDLE_BUDGET_KB,
      better: 'lower',
    },
  ]);
}
