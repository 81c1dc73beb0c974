import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
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
    new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(
        process.execPath,
        [
          resolve(import.meta.dirname, '../bin/fc-devops.mjs'),
          command,
          ...args,
          '--url',
          `${system().runtime.url}/${fn}`,
          '--key',
          key,
        ],
        { env: { ...process.env, FC_DEVOPS_KEY_SECRET: keys[key] } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('exit', (status) => done({ status, stdout, stderr }));
    });
}
