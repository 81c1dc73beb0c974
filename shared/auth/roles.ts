import type { Config } from '../config/schema/index.ts';
import { globMatches } from '../util/glob.ts';
import { own } from '../util/records.ts';

export type Action = Config['access']['keys'][string]['roles'][number]['actions'][number];

/** Whether a key's roles allow `action` on `target`. */
export function allowed(
  keys: Config['access']['keys'],
  keyId: string,
  action: Action,
  target: string,
): boolean {
  const key = own(keys, keyId);
  return (
    !!key &&
    key.roles.some((r) => r.actions.includes(action) && r.targets.some((g) => globMatches(g, target)))
  );
}
