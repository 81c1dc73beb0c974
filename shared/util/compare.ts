import { timingSafeEqual } from 'node:crypto';

/**
 * Compare two secrets (signatures, tokens, digests) in time that depends on neither where they
 * differ nor, on a length mismatch, on the length of the expected one.
 */
export function safeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === 'string' ? Buffer.from(a) : a;
  const y = typeof b === 'string' ? Buffer.from(b) : b;
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}
