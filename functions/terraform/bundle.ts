import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { type ArchiveEntry, ArchiveError, readTarGz, readZip } from './archive.ts';

export { ArchiveError } from './archive.ts';

/** What an uploaded workspace bundle may be, at most. */
export interface BundleLimits {
  /** The bundle as uploaded; four times this once unpacked. */
  maxBytes: number;
  maxFiles: number;
}

/**
 * A workspace bundle is untrusted: anyone who can write under the prefix can upload one. It is read
 * whole in memory (bounded by the limits), every entry checked, and only then written: a relative
 * path with no `..`, no absolute path or NUL, no device or FIFO, links only to places inside the
 * tree. Any breach refuses the whole bundle, naming the entry and why.
 */
export function checkBundle(name: string, bytes: Buffer, limits: BundleLimits): ArchiveEntry[] {
  if (bytes.length > limits.maxBytes)
    throw new ArchiveError(`the bundle is ${bytes.length} bytes; at most ${limits.maxBytes}`);
  const archive = { maxBytes: limits.maxBytes * 4, maxEntries: limits.maxFiles };
  const entries = /\.zip$/i.test(name)
    ? readZip(bytes, archive)
    : /\.(tar\.gz|tgz)$/i.test(name)
      ? readTarGz(bytes, archive)
      : undefined;
  if (!entries) throw new ArchiveError(`${name}: a bundle is a .tar.gz, .tgz or .zip`);
  const paths = new Set<string>();
  for (const e of entries) {
    const path = safePath(e.path);
    if (e.type === 'device') throw new ArchiveError(`${e.path}: device files and FIFOs are not allowed`);
    if (e.type === 'symlink' || e.type === 'hardlink') {
      const link = e.link ?? '';
      if (link.includes('\u0000') || posix.isAbsolute(link))
        throw new ArchiveError(`${e.path}: a link to ${link} leads out of the bundle`);
      // A symlink resolves from its own directory; a hard link names a path from the root.
      const target = e.type === 'symlink' ? posix.join(posix.dirname(path), link) : posix.normalize(link);
      if (target === '..' || target.startsWith('../'))
        throw new ArchiveError(`${e.path}: a link to ${link} leads out of the bundle`);
      if (e.type === 'hardlink' && !paths.has(target))
        throw new ArchiveError(
          `${e.path}: a hard link to ${link}, which is not an earlier file of the bundle`,
        );
    }
    paths.add(path);
  }
  return entries.map((e) => ({ ...e, path: safePath(e.path) }));
}

/** A relative, normalised path that stays inside the tree, or an error naming the entry. */
function safePath(raw: string): string {
  if (raw.includes('\u0000')) throw new ArchiveError(`${JSON.stringify(raw)}: NUL in a path`);
  if (raw.includes('\\')) throw new ArchiveError(`${raw}: backslashes are not allowed in paths`);
  if (posix.isAbsolute(raw)) throw new ArchiveError(`${raw}: absolute paths are not allowed`);
  if (raw.split('/').includes('..')) throw new ArchiveError(`${raw}: ".." is not allowed in paths`);
  const path = posix.normalize(raw).replace(/\/+$/, '');
  if (path === '' || path === '.') return '.';
  return path;
}

/**
 * Write checked entries under `dir`: directories and files first, links last, so nothing is ever
 * written through a link; a hard link becomes a copy of its (already written) target.
 */
export function writeBundle(entries: ArchiveEntry[], dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const e of entries) {
    if (e.path === '.') continue;
    const to = join(dir, e.path);
    if (e.type === 'dir') mkdirSync(to, { recursive: true });
    else if (e.type === 'file') {
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, e.data, { flag: 'wx' });
      chmodSync(to, e.mode & 0o111 ? 0o755 : 0o644);
    }
  }
  for (const e of entries) {
    const to = join(dir, e.path);
    if (e.type === 'hardlink') {
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(join(dir, posix.normalize(e.link!)), to);
    } else if (e.type === 'symlink') {
      mkdirSync(dirname(to), { recursive: true });
      symlinkSync(e.link!, to);
    }
  }
}
