import { existsSync, readFileSync } from 'node:fs';

/** Load KEY=VALUE lines into `env` without overriding what is already set. */
export function loadEnvFile(file: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!existsSync(file)) return [];
  const loaded: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    if (env[m[1]!] === undefined) {
      env[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
      loaded.push(m[1]!);
    }
  }
  return loaded;
}
