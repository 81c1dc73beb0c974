import { gzipSync } from 'node:zlib';

/** One entry of a test tarball: a file, a directory, a link or a device, with any path at all. */
export interface TarEntry {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev';
  data?: string;
  link?: string;
  mode?: number;
}

/** A gzipped ustar archive written byte by byte, so tests can make the hostile ones `tar` refuses to. */
export function tarGz(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const header = Buffer.alloc(512);
    header.write(e.path, 0, 100, 'utf8');
    header.write(`${(e.mode ?? (e.type === 'dir' ? 0o755 : 0o644)).toString(8).padStart(7, '0')}\0`, 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${(e.type === 'file' || !e.type ? data.length : 0).toString(8).padStart(11, '0')}\0`, 124);
    header.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
    );
    header.write('        ', 148);
    const flag = { file: '0', dir: '5', symlink: '2', hardlink: '1', chardev: '3' }[e.type ?? 'file'];
    header.write(flag, 156);
    if (e.link) header.write(e.link, 157, 100, 'utf8');
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header);
    if (e.type === 'file' || !e.type) {
      blocks.push(data);
      if (data.length % 512) blocks.push(Buffer.alloc(512 - (data.length % 512)));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
