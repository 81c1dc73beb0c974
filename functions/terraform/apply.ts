import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import { ConflictError } from '../../shared/runtime/errors.ts';
import type { RunHandle } from '../../shared/runtime/once.ts';
import { runLog } from '../../shared/runtime/run-log.ts';
import type { Fence, Store } from '../../shared/store/port.ts';
import { runTerraform } from '../../shared/tools/terraform.ts';
import { asPlan, describeSource, type Plan, whyNotApplicable } from './model.ts';
import { readPlanFile, restoreWorkdir } from './planfile.ts';
import { budgetMs, failure, terraformLog } from './run-support.ts';
import { open } from './seal.ts';
import { PlanFailed } from './source.ts';
import { countsLine } from './summary.ts';
import { planKey, setUpBackend, workspaceLock, workspaceOf } from './workspace.ts';

export interface ApplyRequest {
  /** Where the plan, its state and its lock are kept: the workspace, or an environment's id. */
  workspace: string;
  /** The workspace of the config, when `workspace` is an environment made from it. */
  template?: string | undefined;
  planId: string;
  /** Who asked for the apply (the last approver, the operator, or autoApply). */
  requestedBy: string;
}

export type ApplyOutcome =
  | { planId: string; status: 'applied'; seconds: number }
  | { planId: string; status: 'refused' | 'failed' | 'interrupted'; reason: string };

const LEASE_MS = 120_000;

/**
 * The newest plan of a workspace that counts (a discarded one does not), and the state now: what
 * a saved plan is checked against before it may be applied.
 */
export async function applicability(store: Store, plan: Plan, stateKnown: boolean, now: Date) {
  const newest = (await store.listPlans(plan.workspace, { limit: 20 }))
    .map(asPlan)
    .find((p) => p.status !== 'discarded');
  const state = stateKnown ? await store.getState(plan.workspace) : undefined;
  return whyNotApplicable(plan, {
    now,
    newest,
    state: stateKnown ? state && { lineage: state.lineage, serial: state.serial } : 'unknown',
  });
}

/**
 * Apply exactly a saved plan, under the workspace's lease (renewed while Terraform runs, so it
 * expires when the function dies): refused if it expired, was superseded, or the state or the
 * configuration moved since; otherwise the working directory is rebuilt from the plan file alone,
 * and Terraform applies it, stopped with SIGTERM before the function's timeout if need be.
 */
export async function applyPlan(
  ctx: HandlerContext,
  run: RunHandle,
  request: ApplyRequest,
): Promise<ApplyOutcome> {
  const template = request.template ?? request.workspace;
  const ws = workspaceOf(ctx.config, template);
  if (!ws) throw new PlanFailed('config', `no terraform workspace named ${template}`);
  const lock = await ctx.store.acquireLock(workspaceLock(request.workspace), {
    owner: run.id,
    ttlMs: LEASE_MS,
  });
  if (!lock.acquired)
    throw new ConflictError(`workspace ${request.workspace} is held by ${lock.holder}`, {
      state: { holder: lock.holder, expiresAt: lock.expiresAt.toISOString() },
    });
  const fence: Fence = { lock: lock.name, owner: run.id, token: lock.token };
  const heartbeat = setInterval(
    () => void ctx.store.renewLock(fence, LEASE_MS).catch(() => {}),
    LEASE_MS / 3,
  );
  heartbeat.unref();
  const scratch = join(process.env.FC_DEVOPS_SCRATCH ?? tmpdir(), `terraform-${run.id}`);
  const log = runLog(run);
  let backend: Awaited<ReturnType<typeof setUpBackend>> | undefined;
  try {
    await settleAbandoned(ctx.store, request.workspace, fence);
    const found = await ctx.store.getPlan(request.planId);
    if (!found || found.workspace !== request.workspace)
      throw new PlanFailed('plan', `no plan ${request.planId} of workspace ${request.workspace}`);
    const plan = asPlan(found);
    const subject = `${request.template ? 'environment' : 'workspace'} ${request.workspace} @ ${describeSource(plan.meta.source)}`;
    const stateKnown = ws.backend.type === 'fc-devops';
    const refuse = async (reason: string) => {
      await ctx.store.updatePlan(
        plan.id,
        { from: ['approved', 'applying'], to: 'stale', meta: { reason } },
        { fence },
      );
      log.line(`refused: ${reason}`);
      await ctx.events
        .publish({
          kind: 'terraform.apply.refused',
          severity: 'warning',
          subject,
          summary: `plan ${plan.id} was not applied: ${reason}`,
          runId: run.id,
          details: {
            workspace: request.workspace,
            plan: plan.id,
            next: `plan again: fc-devops terraform plan ${request.workspace} --commit <commit>`,
          },
        })
        .catch(() => {});
      return { planId: plan.id, status: 'refused' as const, reason };
    };
    const why = await applicability(ctx.store, plan, stateKnown, ctx.now());
    if (why)
      return plan.status === 'approved'
        ? await refuse(why)
        : { planId: plan.id, status: 'refused', reason: why };
    const started = await ctx.store.updatePlan(
      plan.id,
      { from: ['approved'], to: 'applying', meta: { applyRunId: run.id, appliedBy: request.requestedBy } },
      { fence },
    );
    if (!started) return { planId: plan.id, status: 'refused', reason: 'it is no longer approved' };
    const sealed = await ctx.store.readPlanFile(plan.id);
    if (!sealed) return await refuse('its plan file is missing');
    const bytes = open(sealed, planKey(ctx.config), request.workspace);
    const file = readPlanFile(bytes);
    if (file.configSha256 !== plan.meta.configSha256)
      return await refuse('the plan file is not the configuration that was planned');

    const dir = join(scratch, 'work');
    mkdirSync(join(scratch, 'home'), { recursive: true });
    restoreWorkdir(file, dir);
    const planFile = join(scratch, 'plan.tfplan');
    writeFileSync(planFile, bytes, { mode: 0o600 });
    backend = await setUpBackend(request.workspace, ws, {
      store: ctx.store,
      runId: run.id,
      log: run.log,
      dir,
      scratch,
      env: process.env,
    });
    const deadline = Date.now() + budgetMs(ctx);
    const tf = (args: string[]) =>
      runTerraform(args, {
        bin: ctx.config.terraform.binary,
        dir,
        scratch: join(scratch, 'home'),
        env: backend!.env,
        providers: ctx.config.terraform.providers,
        deadlineMs: deadline - Date.now(),
        ui: true,
        signal: run.signal,
        ...terraformLog(log),
      });
    log.line(`applying plan ${plan.id} (${countsLine(plan.meta.summary)})`);
    const startedAt = Date.now();
    await run.stage('init');
    const init = await tf(['init', '-input=false', '-json', '-get=false', ...backend.initArgs]);
    if (init.code === 0) await run.stage('apply');
    const applied =
      init.code !== 0
        ? init
        : await tf([
            'apply',
            '-input=false',
            '-json',
            `-lock-timeout=${ctx.config.terraform.lockTimeoutSeconds}s`,
            planFile,
          ]);
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    if (applied.code === 0) {
      await ctx.store.updatePlan(plan.id, { from: ['applying'], to: 'applied' }, { fence });
      await ctx.events
        .publish({
          kind: 'terraform.applied',
          severity: 'info',
          subject,
          summary: `applied ${countsLine(plan.meta.summary)} in ${seconds} s`,
          runId: run.id,
          details: { workspace: request.workspace, plan: plan.id, seconds, by: request.requestedBy },
        })
        .catch(() => {});
      return { planId: plan.id, status: 'applied', seconds };
    }
    if (applied.errors.some((e) => e.includes('Saved plan is stale')))
      return await refuse('Terraform found the state changed since the plan (Saved plan is stale)');
    const status = applied.interrupted ? ('interrupted' as const) : ('failed' as const);
    const reason = failure(init.code !== 0 ? 'terraform init' : 'terraform apply', applied);
    await ctx.store.updatePlan(plan.id, { from: ['applying'], to: status, meta: { reason } }, { fence });
    log.line(`${status.toUpperCase()}: ${reason}`);
    await ctx.events
      .publish({
        kind: applied.interrupted ? 'terraform.apply.interrupted' : 'terraform.apply.failed',
        severity: 'error',
        subject,
        summary: reason.slice(0, 2000),
        runId: run.id,
        details: {
          workspace: request.workspace,
          plan: plan.id,
          next: 'the state may have moved: plan again before anything else',
          logTail: log.tail(15).slice(-3000),
        },
      })
      .catch(() => {});
    return { planId: plan.id, status, reason };
  } finally {
    clearInterval(heartbeat);
    await log.close();
    await backend?.stop();
    await ctx.store.releaseLock(fence).catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Plans left `applying` by a function that died (we now hold the workspace, so nobody is applying
 * them): marked interrupted, so the next step is a plan, which refreshes the state first.
 */
async function settleAbandoned(store: Store, workspace: string, fence: Fence): Promise<void> {
  for (const p of (await store.listPlans(workspace, { limit: 20 })).map(asPlan)) {
    if (p.status !== 'applying') continue;
    await store.updatePlan(
      p.id,
      {
        from: ['applying'],
        to: 'interrupted',
        meta: { reason: `run ${p.meta.applyRunId ?? 'unknown'} ended without finishing the apply` },
      },
      { fence },
    );
  }
}
