import { existsSync, readFileSync } from 'node:fs';

/**
 * Load KEY=VALUE lines into `env` without overriding what is already set. `${NAME}` in a value is
 * filled from `vars`; a line that needs a name `vars` lacks is skipped (and listed), never loaded
 * half-filled.
 */
export function loadEnvFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  vars: Readonly<Record<string, string>> = {},
): { loaded: string[]; skipped: string[] } {
  const loaded: string[] = [];
  const skipped: string[] = [];
  if (!existsSync(file)) return { loaded, skipped };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    const name = m[1]!;
    if (env[name] !== undefined) continue;
    let missing = false;
    const value = m[2]!
      .replace(/^(['"])(.*)\1$/, '$2')
      .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, v: string) => {
        if (Object.hasOwn(vars, v)) return vars[v]!;
        missing = true;
        return '';
      });
    if (missing) {
      skipped.push(name);
      continue;
    }
    env[name] = value;
    loaded.push(name);
  }
  return { loaded, skipped };
}
