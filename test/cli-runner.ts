import { runCli } from './helpers.ts';
import type { System } from './system.ts';

/**
 * `fc-devops <command> ...` against one of the system's functions (terraform by default), signed as `key`. Asynchronous:
 * the runtime that answers the CLI runs in this very process.
 */
export function cliRunner<K extends string>(
  system: () => System,
  keys: Record<K, string>,
  command: string,
  fn = 'terraform',
) {
  return (args: string[], key: K) =>
    runCli([command, ...args, '--url', `${system().runtime.url}/${fn}`, '--key', key], {
      env: { ...process.env, FC_DEVOPS_KEY_SECRET: keys[key] },
    });
}
