/**
 * One glob dialect for paths, branch names, event kinds and target names: `*` and `?` stay within a
 * segment, `**` crosses segments (`**` before a separator also matches no segment at all, so `**\/x`
 * matches `x`). The separator is `/` for paths, branches and target names, `.` for event kinds.
 */
export function globMatches(glob: string, value: string, separator: '/' | '.' = '/'): boolean {
  return compile(glob, separator).test(value);
}

const cache = new Map<string, RegExp>();

function compile(glob: string, sep: string): RegExp {
  const cacheKey = `${sep}${glob}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const s = escapeRegex(sep);
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      if (glob[i + 2] === sep) {
        re += `(?:.*${s})?`;
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += `[^${s}]*`;
    else if (c === '?') re += `[^${s}]`;
    else re += escapeRegex(c);
  }
  const compiled = new RegExp(`^${re}$`);
  if (cache.size > 1000) cache.clear();
  cache.set(cacheKey, compiled);
  return compiled;
}

function escapeRegex(text: string): string {
  return text.replace(/[.+^${}()|[\]\\/*?]/g, '\\$&');
}
