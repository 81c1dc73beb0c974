import { describe, expect, it } from 'vitest';
import { safeEqual } from '../../shared/util/compare.ts';
import { globMatches } from '../../shared/util/glob.ts';
import { sha256Hex } from '../../shared/util/hash.ts';
import { isRecord, own } from '../../shared/util/records.ts';
import { retry } from '../../shared/util/retry.ts';

describe('one glob dialect', () => {
  it.each([
    ['packer/**', 'packer/web.json', true],
    ['packer/**', 'packer/scripts/nginx.sh', true],
    ['packer/**', 'terraform/main.tf', false],
    ['packer/*', 'packer/scripts/nginx.sh', false],
    ['**/*.pkr.hcl', 'images/web/web.pkr.hcl', true],
    ['**/*.pkr.hcl', 'web.pkr.hcl', true],
    ['release/*', 'release/1.2', true],
    ['release/*', 'release/1.2/hotfix', false],
    ['main', 'main', true],
    ['main', 'maintenance', false],
    ['v?.*', 'v1.2', true],
    ['docs/a.b', 'docs/aXb', false],
    ['a+b(c)', 'a+b(c)', true],
  ])('paths: %s ~ %s = %s', (glob, value, expected) => {
    expect(globMatches(glob, value)).toBe(expected);
  });

  it.each([
    ['image.**', 'image.build.failed', true],
    ['image.*', 'image.build.failed', false],
    ['image.*.failed', 'image.build.failed', true],
    ['**.failed', 'backup.drill.failed', true],
    ['**.failed', 'backup.drill.failed-twice', false],
    ['**', 'anything.at.all', true],
    ['release.*', 'release.promoted', true],
    ['release.*', 'releases.promoted', false],
  ])('event kinds: %s ~ %s = %s', (glob, kind, expected) => {
    expect(globMatches(glob, kind, '.')).toBe(expected);
  });

  it.each([
    ['api-*', 'api-prod', true],
    ['api-*', 'web-api', false],
    ['*', 'constructor', true],
    ['web', 'web-image', false],
  ])('target names: %s ~ %s = %s', (glob, target, expected) => {
    expect(globMatches(glob, target)).toBe(expected);
  });
});

describe('small helpers', () => {
  it('compares in constant time without throwing on different lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual(Buffer.from('x'), 'x')).toBe(true);
  });

  it('hashes strings and bytes alike', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
  });

  it('looks names up without reaching the prototype', () => {
    const record: Record<string, number> = { web: 1 };
    expect(own(record, 'web')).toBe(1);
    expect(own(record, 'constructor')).toBeUndefined();
    expect(own(record, '__proto__')).toBeUndefined();
    expect(own(record, 'toString')).toBeUndefined();
    expect(isRecord({})).toBe(true);
    expect(isRecord([])).toBe(false);
    expect(isRecord(null)).toBe(false);
  });
});

describe('the one retry loop', () => {
  class Fails extends Error {
    constructor(readonly again: boolean) {
      super(again ? 'try again' : 'give up');
    }
  }
  const run = async (failures: Fails[], afterMs?: number) => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retry(
      async (attempt) => {
        calls = attempt;
        const e = failures[attempt - 1];
        if (e) throw e;
        return 'ok';
      },
      { attempts: 4, baseMs: 100, maxMs: 300, sleep: async (ms) => void delays.push(ms), random: () => 1 },
      (e) => (e instanceof Fails && e.again ? { retry: true, afterMs } : { retry: false }),
    ).catch((e: Error) => e.message);
    return { result, delays, calls };
  };

  it('backs off exponentially up to the cap, then gives up with the last error', async () => {
    expect(await run([new Fails(true), new Fails(true)])).toEqual({
      result: 'ok',
      delays: [100, 200],
      calls: 3,
    });
    expect(await run([1, 2, 3, 4, 5].map(() => new Fails(true)))).toEqual({
      result: 'try again',
      delays: [100, 200, 300],
      calls: 4,
    });
  });

  it('stops at once on a failure not worth retrying, and waits as long as the other side asks', async () => {
    expect(await run([new Fails(false)])).toEqual({ result: 'give up', delays: [], calls: 1 });
    expect((await run([new Fails(true)], 250)).delays).toEqual([250]);
    expect((await run([new Fails(true)], 9000)).delays).toEqual([300]);
  });
});
