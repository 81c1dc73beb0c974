/** Match a dotted kind against a glob: `*` is one segment, `**` any number (also none). */
export function kindMatches(glob: string, kind: string): boolean {
  const g = glob.split('.');
  const k = kind.split('.');
  const match = (i: number, j: number): boolean => {
    if (i === g.length) return j === k.length;
    if (g[i] === '**') return match(i + 1, j) || (j < k.length && match(i, j + 1));
    if (j === k.length) return false;
    return (g[i] === '*' || g[i] === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}
