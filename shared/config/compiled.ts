import { readFileSync } from 'node:fs';
import { ConfigError } from '../runtime/errors.ts';
import type { Config } from './schema/index.ts';

/**
 * fc-devops.yaml as the functions read it: checked once, where it is built (`fc-devops build`, or
 * `npm start` into its state directory), and shipped as JSON with every default filled in. A cold
 * start then parses JSON instead of loading a YAML parser, the schema and the cron engine. A file that
 * did not pass carries its problems, each with file, line, column and field, and the function fails
 * its cold start with exactly those.
 */
export const COMPILED_FORMAT = 'fc-devops-config/1';

export type ConfigProblem = ConstructorParameters<typeof ConfigError>[0][number];

export interface CompiledConfig {
  format: typeof COMPILED_FORMAT;
  /** The YAML it was made from. */
  source: string;
  config?: Config;
  problems?: ConfigProblem[];
}

/** Where a function finds its config: FC_DEVOPS_CONFIG, else fc-devops.json beside the bundle. */
export function compiledConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FC_DEVOPS_CONFIG ?? 'fc-devops.json';
}

export function readCompiledConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([
      { file: path, message: `cannot read the configuration: ${(error as Error).message}` },
    ]);
  }
  let compiled: Partial<CompiledConfig>;
  try {
    compiled = JSON.parse(text) as Partial<CompiledConfig>;
  } catch {
    compiled = {};
  }
  if (compiled.format !== COMPILED_FORMAT) {
    const yaml = /\.ya?ml$/i.test(path);
    throw new ConfigError([
      {
        file: path,
        message: yaml
          ? 'functions read the checked JSON that `fc-devops build` writes beside them (fc-devops.json), not YAML: build, or point FC_DEVOPS_CONFIG at it'
          : `not a compiled fc-devops configuration (expected "format": "${COMPILED_FORMAT}"): rebuild with fc-devops build`,
      },
    ]);
  }
  if (compiled.problems?.length) throw new ConfigError(compiled.problems);
  if (!compiled.config)
    throw new ConfigError([{ file: path, message: 'the compiled configuration is empty' }]);
  return compiled.config;
}
