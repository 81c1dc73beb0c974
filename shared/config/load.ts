import { ConfigError } from '../runtime/errors.ts';
import { type Config, ConfigSchema } from './schema/index.ts';
import { findSecretRefs } from './secret-ref.ts';
import { configErrorFromIssues, readConfigFile, readYaml } from './yaml-source.ts';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Fail when a `${env:NAME}` reference names an unset variable (config check, cold start). */
  requireSecrets?: boolean;
}

/** Parse and validate fc-devops.yaml text. Every problem names file, line, column and field. */
export function parseConfig(text: string, file: string, options: LoadOptions = {}): Config {
  const source = readYaml(text, file);
  if (source.data === null || source.data === undefined) {
    throw new ConfigError([
      { file, line: 1, column: 1, message: 'the file is empty; it needs at least a region' },
    ]);
  }
  const result = ConfigSchema.safeParse(source.data);
  if (!result.success) throw configErrorFromIssues(source, result.error.issues);

  if (options.requireSecrets) {
    const env = options.env ?? process.env;
    const unset = findSecretRefs(source.data).filter(
      (ref) => !Object.hasOwn(env, ref.name) || !env[ref.name],
    );
    if (unset.length > 0) {
      throw new ConfigError(
        unset.map((ref) => {
          const pos = source.locate(ref.path);
          return {
            file,
            line: pos?.line,
            column: pos?.column,
            field: ref.path.join('.'),
            message: `environment variable ${ref.name} is not set`,
          };
        }) as ConstructorParameters<typeof ConfigError>[0],
      );
    }
  }
  return result.data;
}

export function loadConfig(file: string, options: LoadOptions = {}): Config {
  const text = readConfigFile(file);
  return parseConfig(text, file, options);
}
