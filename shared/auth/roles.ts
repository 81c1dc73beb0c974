import type { Config } from '../config/schema/index.ts';

export type Action = 'view' | 'promote' | 'rollback' | 'approve' | 'run' | 'scale';

/** `*` matches any run of characters within a target name (`api-*`, `*`). */
export function targetMatches(glob: string, target: string): boolean {
  const pattern = new RegExp(
    `^${glob
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
  );
  return pattern.test(target);
}

/** Whether a key's roles allow `action` on `target`. */
export function allowed(
  keys: Config['access']['keys'],
  keyId: string,
  action: Action,
  target: string,
): boolean {
  const key = keys[keyId];
  return (
    !!key &&
    key.roles.some((r) => r.actions.includes(action) && r.targets.some((g) => targetMatches(g, target)))
  );
}
