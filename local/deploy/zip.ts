import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  /** Path inside the archive, `/`-separated. */
  name: string;
  data: Buffer;
  /** Unix mode bits, kept so binaries stay executable where FC unpacks the layer. */
  mode: number;
}

/**
 * Write a ZIP archive (PKWARE APPNOTE: local headers, deflated data, central directory, end record),
 * made on Unix so the permission bits travel in each entry's external attributes. Entries and the
 * archive stay under 4 GiB (no ZIP64): FC layers are far smaller.
 */
export function writeZip(file: string, entries: ZipEntry[]): void {
  const fd = openSync(file, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  const write = (b: Buffer) => {
    writeSync(fd, b);
    offset += b.length;
  };
  // 1980-01-01 00:00: a fixed time keeps an archive of the same files byte-for-byte the same.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  try {
    for (const entry of entries) {
      const name = Buffer.from(entry.name, 'utf8');
      const deflated = deflateRawSync(entry.data, { level: 9 });
      const stored = deflated.length >= entry.data.length;
      const body = stored ? entry.data : deflated;
      const crc = crc32(entry.data);
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(0x0800, 6); // UTF-8 names
      local.writeUInt16LE(stored ? 0 : 8, 8);
      local.writeUInt16LE(dosTime, 10);
      local.writeUInt16LE(dosDate, 12);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.length, 18);
      local.writeUInt32LE(entry.data.length, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(0, 28);
      const headerAt = offset;
      write(local);
      write(name);
      write(body);
      const dir = Buffer.alloc(46);
      dir.writeUInt32LE(0x02014b50, 0);
      dir.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
      dir.writeUInt16LE(20, 6);
      dir.writeUInt16LE(0x0800, 8);
      dir.writeUInt16LE(stored ? 0 : 8, 10);
      dir.writeUInt16LE(dosTime, 12);
      dir.writeUInt16LE(dosDate, 14);
      dir.writeUInt32LE(crc, 16);
      dir.writeUInt32LE(body.length, 20);
      dir.writeUInt32LE(entry.data.length, 24);
      dir.writeUInt16LE(name.length, 28);
      dir.writeUInt32LE(((0o100000 | entry.mode) << 16) >>> 0, 38);
      dir.writeUInt32LE(headerAt, 42);
      central.push(dir, name);
    }
    const dirAt = offset;
    for (const b of central) write(b);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(offset - dirAt, 12);
    end.writeUInt32LE(dirAt, 16);
    writeSync(fd, end);
  } finally {
    closeSync(fd);
  }
}
