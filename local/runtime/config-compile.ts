import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { COMPILED_FORMAT, type CompiledConfig } from '../../shared/config/compiled.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { ConfigError } from '../../shared/runtime/errors.ts';

/** Check fc-devops.yaml and write what the functions read (shared/config/compiled.ts); problems travel too. */
export function compileConfig(source: string): CompiledConfig {
  try {
    return { format: COMPILED_FORMAT, source, config: loadConfig(source) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { format: COMPILED_FORMAT, source, problems: [...error.problems] };
  }
}

export function writeCompiledConfig(source: string, out: string): CompiledConfig {
  const compiled = compileConfig(source);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(compiled)}\n`);
  return compiled;
}
