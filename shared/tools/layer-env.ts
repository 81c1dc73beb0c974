import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The environment binaries run in: an FC layer's `bin/` first on PATH and its `lib/` first for the
 * dynamic loader (FC unpacks layers under /opt; `FC_DEVOPS_LAYER_DIR` names another place), and git's
 * helpers (git-remote-https) from the layer's `libexec/git-core` when the layer carries git. Entries are
 * added only for directories that exist, so off the cloud the machine's own binaries are used.
 */
export function toolEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const dir = base.FC_DEVOPS_LAYER_DIR ?? '/opt';
  const env = { ...base };
  const prepend = (name: string, path: string) => {
    if (!existsSync(path)) return;
    const current = env[name];
    if (current?.split(delimiter).includes(path)) return;
    env[name] = current ? `${path}${delimiter}${current}` : path;
  };
  prepend('PATH', join(dir, 'bin'));
  prepend('LD_LIBRARY_PATH', join(dir, 'lib'));
  const gitCore = join(dir, 'libexec', 'git-core');
  if (!env.GIT_EXEC_PATH && existsSync(gitCore)) env.GIT_EXEC_PATH = gitCore;
  return env;
}
