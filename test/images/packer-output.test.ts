import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  alicloudImages,
  parseMachineReadable,
  parseRow,
  unescapeField,
} from '../../shared/tools/packer-output.ts';

const recorded = (name: string) =>
  readFileSync(join(import.meta.dirname, '../fixtures/packer', name), 'utf8');

describe('packer -machine-readable', () => {
  it('unescapes commas, newlines and carriage returns', () => {
    expect(unescapeField('a%!(PACKER_COMMA) b\\nc\\rd')).toBe('a, b\nc\rd');
    expect(parseRow('1795781360,disk,artifact,0,id,File')).toEqual({
      time: 1795781360,
      target: 'disk',
      type: 'artifact',
      data: ['0', 'id', 'File'],
    });
    expect(parseRow('stray text, with a comma')).toBeUndefined();
  });

  it('reads an alicloud-ecs artifact with copied regions, and the other builds', () => {
    const out = parseMachineReadable(recorded('alicloud-copied-regions.txt'));
    expect(out.errors).toEqual([]);
    expect(out.artifacts).toEqual([
      {
        build: 'alicloud-ecs.web',
        index: 0,
        builderId: 'alibaba.alicloud',
        id: 'cn-beijing:m-2ze5ggc3ngpdyw7nldmn,cn-hangzhou:m-bp1g7004ksh0oeuc8zb6,cn-shanghai:m-uf6d0ql9kdmz2h3k2xp7',
        string:
          'Alicloud images were created:\n\ncn-beijing: m-2ze5ggc3ngpdyw7nldmn\ncn-hangzhou: m-bp1g7004ksh0oeuc8zb6\ncn-shanghai: m-uf6d0ql9kdmz2h3k2xp7',
        files: [],
      },
      {
        build: 'file.manifest',
        index: 0,
        builderId: 'packer.file',
        id: 'File',
        string: 'Stored file: manifest.json',
        files: ['manifest.json'],
      },
    ]);
    expect(alicloudImages(out.artifacts[0]!)).toEqual({
      'cn-beijing': 'm-2ze5ggc3ngpdyw7nldmn',
      'cn-hangzhou': 'm-bp1g7004ksh0oeuc8zb6',
      'cn-shanghai': 'm-uf6d0ql9kdmz2h3k2xp7',
    });
    expect(alicloudImages(out.artifacts[1]!)).toEqual({});
    expect(out.messages).toContain('    alicloud-ecs.web: nginx installed, version 1.24.0');
  });

  it('reads the files of several builds recorded from packer 1.6.6', () => {
    const out = parseMachineReadable(recorded('file-builds.txt'));
    expect(out.artifacts.map((a) => [a.build, a.builderId, a.files])).toEqual([
      ['disk', 'packer.file', ['out/web-abc.raw']],
      ['notes', 'packer.file', ['out/notes.txt']],
    ]);
  });

  it('collects errors once each, with their newlines and commas restored', () => {
    const out = parseMachineReadable(recorded('alicloud-failed.txt'));
    expect(out.artifacts).toEqual([]);
    expect(out.errors.map((e) => e.build)).toEqual(['', 'alicloud-ecs.web', '']);
    expect(out.errors[1]!.message).toBe(
      'Error creating instance: SDK.ServerError\nErrorCode: InvalidInstanceType.ValueNotSupported\nRecommend: \nRequestId: 6E3E2A4B-1A2B-4C5D-8E9F-0A1B2C3D4E5F\nMessage: The specified InstanceType does not exist, or you are not authorized.',
    );
  });
});
