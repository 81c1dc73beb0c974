import { builtin } from '../../shared/util/builtin.ts';

const zlib = builtin<typeof import('node:zlib')>('node:zlib');

/** One entry of an archive, as the archive says it is (nothing checked yet but the format). */
export interface ArchiveEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'device';
  /** Unix permission bits (0o755 for an executable). */
  mode: number;
  data: Buffer;
  /** Where a link points. */
  link?: string;
}

/** The archive is not one fc-devops can read, or breaks a limit. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

export interface ArchiveLimits {
  /** Bytes of all files together, once unpacked. */
  maxBytes: number;
  maxEntries: number;
}

/**
 * Read a zip from its central directory (what unzip trusts). Stored and deflated entries only, no
 * encryption, no zip64; every entry is inflated with a cap at its declared size and checked against
 * its CRC-32, so a zip bomb stops at the limit instead of filling the disk.
 */
export function readZip(zip: Buffer, limits: ArchiveLimits): ArchiveEntry[] {
  const eocd = findEnd(zip);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || at === 0xffffffff) throw new ArchiveError('zip64 archives are not supported');
  if (count > limits.maxEntries) throw new ArchiveError(`${count} entries; at most ${limits.maxEntries}`);
  const entries: ArchiveEntry[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new ArchiveError('damaged zip: bad central directory');
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const madeBy = zip.readUInt16LE(at + 4) >> 8;
    const external = zip.readUInt32LE(at + 38);
    const local = zip.readUInt32LE(at + 42);
    const path = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (flags & 1) throw new ArchiveError(`${path}: encrypted entries are not supported`);
    total += size;
    if (total > limits.maxBytes) throw new ArchiveError(`more than ${limits.maxBytes} bytes once unpacked`);
    // Unix zips keep the file type in the high half of the external attributes.
    const unixMode = madeBy === 3 ? external >>> 16 : 0;
    const kind = unixMode & 0o170000;
    const type: ArchiveEntry['type'] =
      kind === 0o120000
        ? 'symlink'
        : kind === 0o040000 || path.endsWith('/')
          ? 'dir'
          : kind === 0 || kind === 0o100000
            ? 'file'
            : 'device';
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new ArchiveError(`${path}: damaged local header`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) {
      try {
        data = zlib().inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
      } catch (cause) {
        throw new ArchiveError(`${path}: cannot inflate (${(cause as Error).message})`);
      }
    } else throw new ArchiveError(`${path}: compression method ${method} is not supported`);
    if (data.length !== size || zlib().crc32(data) !== crc)
      throw new ArchiveError(`${path}: size or CRC does not match`);
    entries.push({
      path,
      type,
      mode: unixMode & 0o777 || (type === 'dir' ? 0o755 : 0o644),
      data: type === 'symlink' ? Buffer.alloc(0) : data,
      ...(type === 'symlink' ? { link: data.toString('utf8') } : {}),
    });
  }
  return entries;
}

function findEnd(zip: Buffer): number {
  const from = Math.max(0, zip.length - 65_557);
  for (let i = zip.length - 22; i >= from; i--) if (zip.readUInt32LE(i) === 0x06054b50) return i;
  throw new ArchiveError('not a zip archive (no end of central directory)');
}

/**
 * Read a gzipped tar (ustar, with pax and GNU long names). The gunzip is capped at the limit,
 * so a tar bomb stops there.
 */
export function readTarGz(gz: Buffer, limits: ArchiveLimits): ArchiveEntry[] {
  let tar: Buffer;
  try {
    // Headers and padding come on top of the files' bytes: allow for them.
    tar = zlib().gunzipSync(gz, { maxOutputLength: limits.maxBytes + (limits.maxEntries + 2) * 1024 });
  } catch (cause) {
    throw new ArchiveError(
      `not a readable .tar.gz, or more than ${limits.maxBytes} bytes once unpacked (${(cause as Error).message})`,
    );
  }
  const entries: ArchiveEntry[] = [];
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  let total = 0;
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const typeflag = String.fromCharCode(header[156] || 48);
    const body = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (typeflag === 'L') {
      longName = cstring(body, 0, body.length);
      continue;
    }
    if (typeflag === 'K') {
      longLink = cstring(body, 0, body.length);
      continue;
    }
    if (typeflag === 'x') {
      pax = parsePax(body);
      continue;
    }
    if (typeflag === 'g') continue;
    const prefix = cstring(header, 345, 155);
    const name =
      pax.path ?? longName ?? (prefix ? `${prefix}/${cstring(header, 0, 100)}` : cstring(header, 0, 100));
    const link = pax.linkpath ?? longLink ?? cstring(header, 157, 100);
    longName = undefined;
    longLink = undefined;
    pax = {};
    if (entries.length >= limits.maxEntries) throw new ArchiveError(`more than ${limits.maxEntries} entries`);
    total += size;
    if (total > limits.maxBytes) throw new ArchiveError(`more than ${limits.maxBytes} bytes once unpacked`);
    const type: ArchiveEntry['type'] =
      typeflag === '0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'dir'
          : typeflag === '2'
            ? 'symlink'
            : typeflag === '1'
              ? 'hardlink'
              : 'device';
    entries.push({
      path: name,
      type,
      mode: octal(header, 100, 8) & 0o777,
      data: type === 'file' ? Buffer.from(body) : Buffer.alloc(0),
      ...(type === 'symlink' || type === 'hardlink' ? { link } : {}),
    });
  }
  return entries;
}

function cstring(b: Buffer, start: number, length: number): string {
  const slice = b.subarray(start, start + length);
  const end = slice.indexOf(0);
  return slice.toString('utf8', 0, end === -1 ? slice.length : end);
}

function octal(b: Buffer, start: number, length: number): number {
  if ((b[start] ?? 0) & 0x80) throw new ArchiveError('tar entries over 8 GB are not supported');
  const text = cstring(b, start, length).trim();
  const n = text ? Number.parseInt(text, 8) : 0;
  if (!Number.isFinite(n) || n < 0) throw new ArchiveError('damaged tar header');
  return n;
}

/** PAX records: `<length> <key>=<value>\n`. */
function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(body.toString('utf8', at, space));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = body.toString('utf8', space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}
