// Ordering of many records by a numeric key, without a comparator call per comparison.

const DIGIT = 2048; // 11-bit digits: four passes cover a 44-bit range (557 years of milliseconds)
const HALF = 2 ** 22;

/**
 * Indexes of `keys` from the largest key to the smallest, equal keys in index order (stable). Keys
 * are integers such as epoch milliseconds: an LSD radix sort over the range takes a few ms for
 * 100,000 keys where a comparator sort takes tens. Anything else (fractions, NaN, a range past
 * 2^44) falls back to the comparator sort, with the same result.
 */
export function indexesByKeyDescending(keys: Float64Array): Uint32Array {
  const n = keys.length;
  const order = new Uint32Array(n);
  let sorted = true;
  let max = Number.NEGATIVE_INFINITY;
  let min = Number.POSITIVE_INFINITY;
  let integers = true;
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    order[i] = i;
    if (i > 0 && k > keys[i - 1]!) sorted = false;
    if (k > max) max = k;
    if (k < min) min = k;
    if (!Number.isInteger(k)) integers = false;
  }
  if (sorted) return order; // already newest first, as most listings come
  if (!integers || max - min >= HALF * HALF) return order.sort((i, j) => keys[j]! - keys[i]! || i - j);

  // Sort by (max - key) ascending, so the largest key comes first; each pass is stable.
  const low = new Uint32Array(n);
  const high = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const k = max - keys[i]!;
    low[i] = k % HALF;
    high[i] = Math.floor(k / HALF);
  }
  let from = order;
  let to = new Uint32Array(n);
  const counts = new Uint32Array(DIGIT);
  const pass = (digits: Uint32Array, shift: number) => {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(digits[from[i]!]! >>> shift) & (DIGIT - 1)]!++;
    let start = 0;
    for (let b = 0; b < DIGIT; b++) {
      const c = counts[b]!;
      counts[b] = start;
      start += c;
    }
    for (let i = 0; i < n; i++) {
      const j = from[i]!;
      to[counts[(digits[j]! >>> shift) & (DIGIT - 1)]!++] = j;
    }
    [from, to] = [to, from];
  };
  pass(low, 0);
  pass(low, 11);
  if (max - min >= HALF) {
    pass(high, 0);
    pass(high, 11);
  }
  return from;
}
