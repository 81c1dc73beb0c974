import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveError, checkBundle, writeBundle } from '../../functions/terraform/bundle.ts';
import { open, seal } from '../../functions/terraform/seal.ts';
import { tarGz } from './tar.ts';
import { zip } from './zip.ts';

const LIMITS = { maxBytes: 10_000, maxFiles: 20 };
const refused = (name: string, bytes: Buffer) => {
  try {
    checkBundle(name, bytes, LIMITS);
  } catch (error) {
    expect(error).toBeInstanceOf(ArchiveError);
    return (error as Error).message;
  }
  throw new Error(`${name} was accepted`);
};

describe('workspace bundles: untrusted archives, checked before anything is written', () => {
  it('unpacks a .tar.gz with directories, an executable, a link inside the tree and a hard link', () => {
    const entries = checkBundle(
      'ws.tar.gz',
      tarGz([
        { path: 'infra/', type: 'dir' },
        { path: 'infra/main.tf', data: 'resource "terraform_data" "a" {}\n' },
        { path: 'infra/run.sh', data: '#!/bin/sh\n', mode: 0o755 },
        { path: 'infra/current.tf', type: 'symlink', link: 'main.tf' },
        { path: 'infra/copy.tf', type: 'hardlink', link: 'infra/main.tf' },
      ]),
      LIMITS,
    );
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    writeBundle(entries, dir);
    expect(readFileSync(join(dir, 'infra/main.tf'), 'utf8')).toContain('terraform_data');
    expect(statSync(join(dir, 'infra/run.sh')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(dir, 'infra/current.tf'))).toBe('main.tf');
    expect(lstatSync(join(dir, 'infra/copy.tf')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dir, 'infra/copy.tf'), 'utf8')).toContain('terraform_data');
  });

  it('unpacks a .zip (deflated, with a directory and a link inside the tree)', () => {
    const entries = checkBundle(
      'ws.zip',
      zip([
        { path: 'infra/' },
        { path: 'infra/main.tf', data: 'x = 1\n' },
        { path: 'infra/link.tf', symlink: 'main.tf' },
      ]),
      LIMITS,
    );
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    writeBundle(entries, dir);
    expect(readFileSync(join(dir, 'infra/link.tf'), 'utf8')).toBe('x = 1\n');
    expect(lstatSync(join(dir, 'infra/link.tf')).isSymbolicLink()).toBe(true);
  });

  it.each([
    ['a path with ..', tarGz([{ path: 'infra/../../evil.tf', data: 'x' }]), /"\.\." is not allowed/],
    ['an absolute path', tarGz([{ path: '/etc/cron.d/evil', data: 'x' }]), /absolute paths are not allowed/],
    ['a backslash path', tarGz([{ path: 'infra\\..\\evil', data: 'x' }]), /backslashes are not allowed/],
    [
      'a link out by ..',
      tarGz([{ path: 'infra/x', type: 'symlink', link: '../../etc/passwd' }]),
      /leads out/,
    ],
    ['an absolute link', tarGz([{ path: 'infra/x', type: 'symlink', link: '/etc/passwd' }]), /leads out/],
    [
      'a hard link to a file outside',
      tarGz([{ path: 'x', type: 'hardlink', link: '/etc/shadow' }]),
      /leads out/,
    ],
    [
      'a hard link to nothing',
      tarGz([{ path: 'x', type: 'hardlink', link: 'missing.tf' }]),
      /not an earlier file/,
    ],
    ['a device', tarGz([{ path: 'infra/tty', type: 'chardev' }]), /device files/],
    [
      'too many files',
      tarGz(Array.from({ length: 21 }, (_, i) => ({ path: `f${i}`, data: '' }))),
      /more than 20 entries/,
    ],
    [
      'too many bytes unpacked',
      tarGz([{ path: 'big', data: 'a'.repeat(60_000) }]),
      /more than 40000 bytes once unpacked/,
    ],
    ['a zip link out', zip([{ path: 'infra/x', symlink: '../../../etc/passwd' }]), /leads out/],
    ['a zip path with ..', zip([{ path: '../evil.tf', data: 'x' }]), /"\.\." is not allowed/],
    [
      'a zip bomb',
      zip([{ path: 'bomb', data: Buffer.alloc(200_000), claimSize: 100 }]),
      /cannot inflate|size or CRC/,
    ],
    [
      'an encrypted zip',
      zip([{ path: 'x', data: 'x', encrypted: true }]),
      /encrypted entries are not supported/,
    ],
    [
      'a zip of more than allowed',
      zip([{ path: 'big', data: Buffer.alloc(50_000) }]),
      /more than 40000 bytes once unpacked/,
    ],
    ['something else', Buffer.from('not an archive'), /a bundle is a .tar.gz, .tgz or .zip/],
  ])('refuses %s, naming the entry and why', (_what, bytes, why) => {
    const name = bytes[0] === 0x50 ? 'b.zip' : bytes[0] === 0x1f ? 'b.tar.gz' : 'b.rar';
    expect(refused(name, bytes)).toMatch(why);
  });

  it('refuses an upload over the size limit before reading it', () => {
    expect(refused('b.tar.gz', Buffer.alloc(10_001))).toBe('the bundle is 10001 bytes; at most 10000');
  });

  it('writes nothing through a link: files first, links last', () => {
    const entries = checkBundle(
      'ws.tar.gz',
      tarGz([
        { path: 'infra/', type: 'dir' },
        { path: 'infra/alias', type: 'symlink', link: 'real' },
        { path: 'infra/real/', type: 'dir' },
        { path: 'infra/real/main.tf', data: 'x' },
      ]),
      LIMITS,
    );
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    writeBundle(entries, dir);
    expect(readFileSync(join(dir, 'infra/alias/main.tf'), 'utf8')).toBe('x');
    expect(existsSync(join(dir, 'real'))).toBe(false);
  });
});

describe('sealed plan files', () => {
  it('open only with the same key and workspace, and only untouched', () => {
    const plain = Buffer.from('PK\u0003\u0004 a plan with postgres://user:pw@db/state in it');
    const sealed = seal(plain, 'k1', 'loadtest');
    expect(sealed.includes(Buffer.from('postgres://'))).toBe(false);
    expect(open(sealed, 'k1', 'loadtest')).toEqual(plain);
    expect(() => open(sealed, 'k2', 'loadtest')).toThrow();
    expect(() => open(sealed, 'k1', 'other')).toThrow();
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => open(tampered, 'k1', 'loadtest')).toThrow();
    expect(() => open(Buffer.from('nope'), 'k1', 'loadtest')).toThrow('not a sealed plan file');
  });
});
