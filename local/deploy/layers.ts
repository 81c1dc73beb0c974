import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import { writeZip, type ZipEntry } from './zip.ts';

/**
 * FC layers for the binaries the functions run. FC unpacks a layer's archive under /opt; the functions
 * put /opt/bin first on PATH and /opt/lib first for the loader (shared/tools/layer-env.ts). Binaries
 * must be Linux x86-64 ELF files; their shared libraries come along, except the C library itself and
 * its loader, which the runtime has.
 */
export const LAYERS = {
  git: { binaries: ['git'], gitHelpers: ['git-remote-http', 'git-remote-https'], version: ['--version'] },
  packer: { binaries: ['packer'], gitHelpers: [], version: ['version'] },
  terraform: { binaries: ['terraform'], gitHelpers: [], version: ['version'] },
  'pg-clients': { binaries: ['pg_dump', 'pg_restore', 'psql'], gitHelpers: [], version: ['--version'] },
  'mysql-clients': { binaries: ['mysqldump', 'mysql'], gitHelpers: [], version: ['--version'] },
} as const;

export type LayerName = keyof typeof LAYERS;

/** Provided by every Linux runtime; copying them would fight the runtime's own loader. */
const SYSTEM_LIBS = /^(linux-vdso|ld-linux-x86-64|libc|libm|libpthread|libdl|librt|libresolv|libutil)\.so/;

export interface LayerFile {
  path: string;
  from: string;
  sha256: string;
  version?: string;
}

export interface LayerManifest {
  name: LayerName;
  runtime: 'nodejs20';
  /** Where the files are once FC has unpacked the layer. */
  root: '/opt';
  files: LayerFile[];
}

export class LayerError extends Error {
  override name = 'LayerError';
}

/** An ELF executable for x86-64 (FC's architecture), or a reason it is not. */
export function checkElf(file: string): string | undefined {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(20);
  try {
    readSync(fd, head, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (head.subarray(0, 2).toString('latin1') === '#!') return 'is a script, not a binary';
  if (head.readUInt32BE(0) !== 0x7f454c46) return 'is not an ELF binary';
  if (head[4] !== 2 || head.readUInt16LE(18) !== 0x3e) return 'is not built for Linux x86-64, which FC runs';
  return undefined;
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const file = join(dir, name);
    if (dir && existsSync(file) && statSync(file).isFile()) return file;
  }
  return undefined;
}

/** Debian runs pg_dump and psql through a Perl wrapper: the binaries are in /usr/lib/postgresql/<v>/bin. */
function postgresBinary(name: string): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const file = join(base, v, 'bin', name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

function resolveBinary(name: string, given: Record<string, string>, env: NodeJS.ProcessEnv): string {
  const path = given[name] ?? onPath(name, env);
  if (!path)
    throw new LayerError(`${name}: not found on PATH; give its path with --path ${name}=/path/to/${name}`);
  let real = realpathSync(path);
  if (checkElf(real) === 'is a script, not a binary' && !given[name]) real = postgresBinary(name) ?? real;
  const problem = checkElf(real);
  if (problem) throw new LayerError(`${name}: ${real} ${problem}; give a binary with --path ${name}=...`);
  return real;
}

/** The shared libraries a binary loads, as `ldd` resolves them on this machine. */
function libraries(binary: string): { soname: string; path: string }[] {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  } catch (error) {
    // Static binaries (Go: packer, terraform): "not a dynamic executable".
    const text = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable/.test(text)) return [];
    throw new LayerError(`ldd ${binary}: ${text.trim() || (error as Error).message}`);
  }
  const libs: { soname: string; path: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+(\S+)\s+\(/.exec(line);
    if (m && !SYSTEM_LIBS.test(m[1]!)) libs.push({ soname: m[1]!, path: m[2]! });
    if (/=>\s+not found/.test(line)) throw new LayerError(`${binary}: ${line.trim()}`);
  }
  return libs;
}

function versionOf(binary: string, args: readonly string[]): string | undefined {
  try {
    const out = execFileSync(binary, [...args], {
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out
      .split('\n')
      .find((l) => l.trim())
      ?.trim();
  } catch {
    return undefined;
  }
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Assemble `<outDir>/<name>.zip`: `bin/` (and git's helpers under `libexec/git-core/`), `lib/` with
 * the libraries they load, and `fc-devops-layer.json` recording where each file came from, its
 * sha256 and the binary's version.
 */
export function buildLayer(
  name: string,
  options: { outDir: string; paths?: Record<string, string>; env?: NodeJS.ProcessEnv },
): { file: string; manifest: LayerManifest; bytes: number } {
  if (!(name in LAYERS))
    throw new LayerError(`unknown layer "${name}" (known: ${Object.keys(LAYERS).join(', ')})`);
  const spec = LAYERS[name as LayerName];
  const env = options.env ?? process.env;
  const given = options.paths ?? {};
  for (const key of Object.keys(given))
    if (!(spec.binaries as readonly string[]).includes(key))
      throw new LayerError(`--path ${key}=...: the ${name} layer holds ${spec.binaries.join(', ')}`);

  const files: LayerFile[] = [];
  const entries: ZipEntry[] = [];
  const add = (path: string, from: string, version?: string) => {
    const data = readFileSync(from);
    entries.push({ name: path, data, mode: 0o755 });
    files.push({ path, from, sha256: sha256(data), ...(version ? { version } : {}) });
  };
  const loaded = new Map<string, string>();
  const collect = (binary: string) => {
    for (const lib of libraries(binary))
      if (!loaded.has(lib.soname)) loaded.set(lib.soname, realpathSync(lib.path));
  };
  for (const bin of spec.binaries) {
    const from = resolveBinary(bin, given, env);
    add(`bin/${bin}`, from, versionOf(from, spec.version));
    collect(from);
  }
  if (spec.gitHelpers.length) {
    const execPath = execFileSync(join(realpathSync(resolveBinary('git', given, env))), ['--exec-path'], {
      encoding: 'utf8',
    }).trim();
    for (const helper of spec.gitHelpers) {
      const from = realpathSync(join(execPath, helper));
      add(`libexec/git-core/${helper}`, from);
      collect(from);
    }
  }
  for (const [soname, from] of [...loaded.entries()].sort()) add(`lib/${soname}`, from);

  const manifest: LayerManifest = { name: name as LayerName, runtime: 'nodejs20', root: '/opt', files };
  entries.push({
    name: 'fc-devops-layer.json',
    data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
    mode: 0o644,
  });
  mkdirSync(options.outDir, { recursive: true });
  const file = join(options.outDir, `${name}.zip`);
  writeZip(file, entries);
  return { file, manifest, bytes: statSync(file).size };
}
