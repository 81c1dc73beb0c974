import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readDelivery, UnsupportedDelivery } from '../../shared/events/git/delivery.ts';
import { ParseError } from '../../shared/runtime/errors.ts';
import { mutate } from '../helpers.ts';

const HOSTS: [Record<string, string>, string][] = [
  [{ 'x-github-event': 'push', 'x-github-delivery': 'd' }, 'github-push-new-branch.json'],
  [{ 'x-gitlab-event': 'Push Hook' }, 'gitlab-push.json'],
  [{ 'codeup-event': 'Push Hook' }, 'codeup-push.json'],
  [{ 'x-gitee-event': 'Push Hook' }, 'gitee-push.json'],
];
const payloads = HOSTS.map(
  ([h, f]) => [h, JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/git', f), 'utf8'))] as const,
);

/** A delivery is read, or refused with a ParseError naming a field or an UnsupportedDelivery; nothing else. */
function readsOrRefuses(headers: Record<string, string>, body: Buffer): void {
  try {
    const d = readDelivery(headers, body);
    if (d.kind === 'push' && d.push) {
      expect(typeof d.push.after).toBe('string');
      expect(d.push.changedPaths === null || Array.isArray(d.push.changedPaths)).toBe(true);
    }
  } catch (error) {
    if (error instanceof UnsupportedDelivery) return;
    expect(error).toBeInstanceOf(ParseError);
  }
}

describe('webhook deliveries under generated garbage', () => {
  it('real payloads with one value replaced are read or refused cleanly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: payloads.length - 1 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.anything(),
        (i, path, garbage) => {
          const [headers, payload] = payloads[i]!;
          readsOrRefuses(headers, Buffer.from(JSON.stringify(mutate(payload, path, garbage)) ?? 'null'));
        },
      ),
      { numRuns: 800 },
    );
  });

  it('arbitrary bytes and headers never crash the reader', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(
            'x-github-event',
            'x-gitlab-event',
            'x-gitee-event',
            'codeup-event',
            'x-codeup-token',
            'x-gitee-token',
          ),
          fc.string(),
        ),
        fc.uint8Array({ maxLength: 300 }),
        (headers, bytes) => readsOrRefuses(headers, Buffer.from(bytes)),
      ),
      { numRuns: 500 },
    );
  });
});
