import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import ts from 'typescript';
import { buildOptions, functionEntries } from '../runtime/build.ts';

/**
 * Which cloud API calls each function's bundle can make, read from the code itself: esbuild says
 * which source files a function's bundle holds, and the TypeScript checker says which of the cloud
 * clients' methods those files call (and which methods those methods call in turn). Each client
 * method names the API it calls as the first string of `call(...)`/`request(...)` or an `action:`.
 */

/** The cloud clients whose calls need RAM permissions, by class, with their product's RAM code. */
export const CLIENTS: Record<string, { file: string; product: string }> = {
  AckAdapter: { file: 'shared/cloud/adapters/ack.ts', product: 'cs' },
  DirectMailAdapter: { file: 'shared/cloud/adapters/directmail.ts', product: 'dm' },
  EcsAdapter: { file: 'shared/cloud/adapters/ecs.ts', product: 'ecs' },
  EssAdapter: { file: 'shared/cloud/adapters/ess.ts', product: 'ess' },
  RdsAdapter: { file: 'shared/cloud/adapters/rds.ts', product: 'rds' },
  FcClient: { file: 'shared/cloud/fc.ts', product: 'fc' },
  OssClient: { file: 'shared/cloud/oss.ts', product: 'oss' },
};

export interface ClientMethod {
  /** `RdsAdapter.createBackup` */
  id: string;
  product: string;
  /** The APIs its body calls, e.g. `CreateBackup`. */
  apis: string[];
  /** Other client methods it calls. */
  calls: string[];
}

export interface Reach {
  methods: Record<string, ClientMethod>;
  /** Per function: the client methods its bundle can reach. */
  functions: Record<string, string[]>;
}

/** Source files (relative to root, `/`-separated) of each function's bundle, from esbuild's metafile. */
export async function bundleInputs(root: string): Promise<Record<string, string[]>> {
  const entries = functionEntries(root);
  const out: Record<string, string[]> = {};
  await Promise.all(
    Object.entries(entries).map(async ([name, entry]) => {
      const result = await esbuild.build({
        ...buildOptions(root, name, entry),
        write: false,
        metafile: true,
      });
      // The entry and its lazily loaded chunks: a path few events take is still one the function can take.
      const inputs = new Set<string>();
      for (const output of Object.values(result.metafile.outputs))
        for (const i of Object.keys(output.inputs))
          if (!i.includes('node_modules')) inputs.add(relative(root, resolve(i)).split('\\').join('/'));
      out[name] = [...inputs].sort();
    }),
  );
  return out;
}

function sources(root: string): { files: string[]; options: ts.CompilerOptions } {
  const configPath = join(root, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root);
  const files = parsed.fileNames.filter((f) => /\/(functions|shared)\//.test(f.split('\\').join('/')));
  return { files, options: parsed.options };
}

/** The analysis takes seconds (a TypeScript program); the same sources give the same answer. */
function cacheFile(root: string, files: string[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort())
    hash.update(rel(root, file)).update('\0').update(readFileSync(file)).update('\0');
  hash.update(readFileSync(join(root, 'tsconfig.json')));
  // And this analysis itself: a change to it invalidates what it cached.
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  // And the compiler and bundler versions it ran with.
  hash.update(`${ts.version} ${esbuild.version}`);
  return join(root, 'node_modules', '.cache', 'fc-devops', `reach-${hash.digest('hex').slice(0, 32)}.json`);
}

const rel = (root: string, file: string) => relative(root, file).split('\\').join('/');

/** The first string literal argument of a call, or the `action:` of an options object. */
function apiNamesIn(body: ts.Node): string[] {
  const names = new Set<string>();
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const callee = node.expression.name.text;
      const first = node.arguments[0];
      if (callee === 'call' && first && ts.isStringLiteral(first)) names.add(first.text);
    }
    if (
      ts.isPropertyAssignment(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === 'action' &&
      ts.isStringLiteral(node.initializer)
    )
      names.add(node.initializer.text);
    ts.forEachChild(node, visit);
  };
  visit(body);
  return [...names].sort();
}

export async function analyse(root: string): Promise<Reach> {
  root = resolve(root);
  const { files, options } = sources(root);
  const cache = cacheFile(root, files);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Reach;
  const reach = await analyseUncached(root, ts.createProgram(files, options));
  mkdirSync(dirname(cache), { recursive: true });
  writeFileSync(cache, JSON.stringify(reach));
  return reach;
}

async function analyseUncached(root: string, prog: ts.Program): Promise<Reach> {
  const checker = prog.getTypeChecker();
  const methods: Record<string, ClientMethod> = {};
  const byDeclaration = new Map<ts.Node, string>();

  for (const [className, { file, product }] of Object.entries(CLIENTS)) {
    const source = prog.getSourceFile(join(root, file));
    if (!source) throw new Error(`${file}: not part of the TypeScript program`);
    const cls = source.statements.find(
      (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === className,
    );
    if (!cls) throw new Error(`${file}: no class ${className}`);
    for (const member of cls.members) {
      if (!ts.isMethodDeclaration(member) || !ts.isIdentifier(member.name) || !member.body) continue;
      const isPrivate =
        ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected);
      const id = `${className}.${member.name.text}`;
      byDeclaration.set(member, id);
      methods[id] = { id, product, apis: isPrivate ? [] : apiNamesIn(member.body), calls: [] };
    }
  }

  // Every reference to a client method: from inside another client method (an edge) or from a file.
  const fileRefs = new Map<string, Set<string>>();
  for (const source of prog.getSourceFiles()) {
    if (source.isDeclarationFile || source.fileName.includes('node_modules')) continue;
    const file = rel(root, source.fileName);
    const visit = (node: ts.Node, enclosing: string | undefined) => {
      const inside = byDeclaration.get(node) ?? enclosing;
      if (ts.isPropertyAccessExpression(node)) {
        const symbol = checker.getSymbolAtLocation(node.name);
        const target = symbol?.declarations?.map((d) => byDeclaration.get(d)).find(Boolean);
        if (target) {
          if (inside) methods[inside]!.calls.push(target);
          else {
            const set = fileRefs.get(file) ?? new Set<string>();
            set.add(target);
            fileRefs.set(file, set);
          }
        }
      }
      ts.forEachChild(node, (child) => visit(child, inside));
    };
    visit(source, undefined);
  }
  for (const m of Object.values(methods)) m.calls = [...new Set(m.calls)].sort();

  // A private helper (`call`, `request`) is not an API itself: its callers carry the API names.
  const inputs = await bundleInputs(root);
  const functions: Record<string, string[]> = {};
  for (const [fn, files] of Object.entries(inputs)) {
    const reached = new Set<string>();
    const stack = files.flatMap((f) => [...(fileRefs.get(f) ?? [])]);
    while (stack.length) {
      const id = stack.pop()!;
      if (reached.has(id)) continue;
      reached.add(id);
      stack.push(...methods[id]!.calls);
    }
    functions[fn] = [...reached].filter((id) => methods[id]!.apis.length > 0).sort();
  }
  return { methods, functions };
}

/** Per function: the `product:Api` pairs its bundle can call. */
export function apisByFunction(reach: Reach): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(reach.functions).map(([fn, ids]) => [
      fn,
      [
        ...new Set(
          ids.flatMap((id) => reach.methods[id]!.apis.map((api) => `${reach.methods[id]!.product}:${api}`)),
        ),
      ].sort(),
    ]),
  );
}
