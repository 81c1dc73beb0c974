import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../shared/config/schema/index.ts';
import { envName } from '../../shared/config/secret-ref.ts';
import { ConfigError } from '../../shared/runtime/errors.ts';
import type { Logger } from '../../shared/runtime/logger.ts';
import type { Store } from '../../shared/store/port.ts';
import { sha256Hex } from '../../shared/util/hash.ts';
import { own } from '../../shared/util/records.ts';
import { serveBackend } from './backend.ts';

export type Workspace = Config['terraform']['workspaces'][string];

export const workspaceOf = (config: Config, name: string) => own(config.terraform.workspaces, name);

/** The workspace's lease: one apply at a time, visible in its status, expiring when the function dies. */
export const workspaceLock = (workspace: string) => `terraform:${workspace}`;

/** The key saved plans are sealed with; a ConfigError naming it when it is not set. */
export function planKey(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  return resolveValue(config.terraform.planKey ?? '${env:TERRAFORM_PLAN_KEY}', env, 'terraform.planKey');
}

/** A configured value: a literal, or `${env:NAME}` read from the function's environment now. */
export function resolveValue(value: string, env: NodeJS.ProcessEnv, where: string): string {
  const name = envName(value);
  if (name === undefined) return value;
  const resolved = Object.hasOwn(env, name) ? env[name] : undefined;
  if (resolved === undefined || resolved === '')
    throw new ConfigError([{ file: 'environment', field: where, message: `${name} is not set` }]);
  return resolved;
}

/**
 * Input variables as TF_VAR_<name>: never on the command line, where the process list shows them.
 * `environment` names where the run's state is kept (the workspace, or the environment made from it;
 * Terraform ignores it when the module does not declare it); an environment's own variables win.
 */
export function variablesEnv(
  template: string,
  ws: Workspace,
  env: NodeJS.ProcessEnv,
  own: { unit: string; variables?: Record<string, string> | undefined },
): Record<string, string> {
  return {
    TF_VAR_environment: own.unit,
    ...Object.fromEntries(
      Object.entries(ws.variables).map(([k, v]) => [
        `TF_VAR_${k}`,
        resolveValue(v, env, `terraform.workspaces.${template}.variables.${k}`),
      ]),
    ),
    ...Object.fromEntries(Object.entries(own.variables ?? {}).map(([k, v]) => [`TF_VAR_${k}`, v])),
  };
}

/** A hash of the variables a plan was made with (the values themselves are not kept). */
export function variablesSha256(vars: Record<string, string>): string {
  return sha256Hex(
    Object.keys(vars)
      .sort()
      .map((k) => `${k}\u0000${sha256Hex(vars[k]!)}`)
      .join('\n'),
  );
}

export interface BackendSetup {
  env: Record<string, string>;
  /** Extra `terraform init` arguments (a backend config file; never secrets in argv). */
  initArgs: string[];
  stop(): Promise<void>;
}

/**
 * Point the root module at the workspace's backend: an override file declares it, so the
 * repository's own backend block (if any) does not decide where the state goes. `fc-devops`: the
 * loopback http backend of this run. `pg` or `oss`: a backend config file (mode 0600, in the run's
 * scratch, removed with it) with the workspace's settings, secrets resolved from the environment.
 */
export async function setUpBackend(
  name: string,
  ws: Workspace,
  deps: { store: Store; runId: string; log: Logger; dir: string; scratch: string; env: NodeJS.ProcessEnv },
): Promise<BackendSetup> {
  const type = ws.backend.type === 'fc-devops' ? 'http' : ws.backend.type;
  writeFileSync(
    join(deps.dir, 'zz_fc_devops_backend_override.tf'),
    `# Written by fc-devops: where this workspace keeps its state.\nterraform {\n  backend "${type}" {}\n}\n`,
  );
  if (ws.backend.type === 'fc-devops') {
    const backend = await serveBackend({
      store: deps.store,
      workspace: name,
      runId: deps.runId,
      log: deps.log,
    });
    return { env: backend.env, initArgs: [], stop: () => backend.stop() };
  }
  const file = join(deps.scratch, 'backend.hcl');
  const lines = Object.entries(ws.backend.config).map(
    ([k, v]) =>
      `${k} = ${JSON.stringify(resolveValue(v, deps.env, `terraform.workspaces.${name}.backend.config.${k}`))}`,
  );
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return { env: {}, initArgs: [`-backend-config=${file}`], stop: async () => {} };
}
