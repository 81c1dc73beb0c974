// A working directory for one run: the source checked out, the backend set, `terraform init` done.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import type { RunHandle } from '../../shared/runtime/once.ts';
import type { RunLog } from '../../shared/runtime/run-log.ts';
import { runTerraform, type TerraformResult } from '../../shared/tools/terraform.ts';
import type { PlanSource } from './model.ts';
import { budgetMs, failure, terraformLog } from './run-support.ts';
import { materialize, PlanFailed } from './source.ts';
import { setUpBackend, variablesEnv, type Workspace } from './workspace.ts';

export interface Workdir {
  dir: string;
  /** The input variables (TF_VAR_*) the run plans with. */
  vars: Record<string, string>;
  /** Terraform in the directory, its messages into the run's log, stopped before the function's end. */
  tf(args: string[]): Promise<TerraformResult>;
  /** `show` of a plan file: JSON, or the text people read. */
  show(planFile: string, json: boolean): Promise<TerraformResult>;
  stop(): Promise<void>;
}

/**
 * Check out the source under `scratch`, point the root module at the unit's state (the workspace,
 * or an environment made from it) and run `terraform init`. The caller removes `scratch`.
 */
export async function openWorkdir(
  ctx: HandlerContext,
  run: RunHandle,
  log: RunLog,
  spec: {
    unit: string;
    template: string;
    ws: Workspace;
    source: PlanSource;
    variables?: Record<string, string> | undefined;
    scratch: string;
  },
): Promise<Workdir> {
  const config = ctx.config.terraform;
  const { scratch } = spec;
  mkdirSync(join(scratch, 'home'), { recursive: true });
  const dir = await materialize(spec.source, spec.ws, {
    cloud: ctx.cloud,
    into: join(scratch, 'src'),
    limits: config.bundles,
    env: process.env,
  });
  const vars = variablesEnv(spec.template, spec.ws, process.env, {
    unit: spec.unit,
    variables: spec.variables,
  });
  const backend = await setUpBackend(spec.unit, spec.ws, {
    store: ctx.store,
    runId: run.id,
    log: run.log,
    dir,
    scratch,
    env: process.env,
  });
  const deadline = Date.now() + budgetMs(ctx);
  const base = { bin: config.binary, dir, scratch: join(scratch, 'home'), providers: config.providers };
  const workdir: Workdir = {
    dir,
    vars,
    tf: (args) =>
      runTerraform(args, {
        ...base,
        env: { ...vars, ...backend.env },
        deadlineMs: deadline - Date.now(),
        ui: true,
        // A cancelled run stops Terraform as the deadline does: SIGTERM, so it saves its state.
        signal: run.signal,
        ...terraformLog(log),
      }),
    show: (planFile, json) =>
      runTerraform(['show', json ? '-json' : '-no-color', planFile], { ...base, env: backend.env }),
    stop: () => backend.stop(),
  };
  try {
    await run.stage('init');
    const init = await workdir.tf(['init', '-input=false', '-json', ...backend.initArgs]);
    if (init.code !== 0) throw new PlanFailed('init', failure('terraform init', init));
  } catch (error) {
    await backend.stop();
    throw error;
  }
  return workdir;
}
