import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enqueueJob } from '../../shared/cloud/jobs.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import type { RunHandle } from '../../shared/runtime/once.ts';
import { runLog } from '../../shared/runtime/run-log.ts';
import { approvalRule, describeSource, type PlanMeta, type PlanPurpose, type PlanSource } from './model.ts';
import { readPlanFile } from './planfile.ts';
import { failure } from './run-support.ts';
import { seal } from './seal.ts';
import { PlanFailed } from './source.ts';
import { countsLine, type PlanSummary, summarizePlan, summaryLines } from './summary.ts';
import { openWorkdir, type Workdir } from './workdir.ts';
import { planKey, variablesSha256, workspaceOf } from './workspace.ts';

export const PLAN_JOB = 'terraform.plan';
export const APPLY_JOB = 'terraform.apply';
export const SELF = process.env.FC_FUNCTION_NAME ?? 'terraform';

export interface PlanRequest {
  /** Where the plan, its state and its lock are kept: the workspace, or an environment's id. */
  workspace: string;
  /** The workspace of the config, when `workspace` is an environment made from it. */
  template?: string | undefined;
  purpose?: PlanPurpose | undefined;
  /** An environment's own input variables. */
  variables?: Record<string, string> | undefined;
  source: PlanSource;
  /** The key that asked, or where the plan came from (`git:github`, `bundle`). */
  requestedBy: string;
}

export type PlanOutcome =
  | { planId: string; status: string; summary: PlanSummary; approvals: number; autoApply: boolean }
  | { skipped: string };

/**
 * Plan a workspace at a commit or from a bundle: fetch or unpack, init, plan to a file (progress
 * into the run log), summarise it from `show -json`, keep the file sealed with everything it is
 * bound to, then ask for approval, say there is nothing to do, or start the apply where allowed.
 */
export async function planWorkspace(
  ctx: HandlerContext,
  run: RunHandle,
  request: PlanRequest,
): Promise<PlanOutcome> {
  const config = ctx.config.terraform;
  const template = request.template ?? request.workspace;
  const ws = workspaceOf(ctx.config, template);
  if (!ws) throw new PlanFailed('config', `no terraform workspace named ${template}`);
  const scratch = join(process.env.FC_DEVOPS_SCRATCH ?? tmpdir(), `terraform-${run.id}`);
  const log = runLog(run);
  const subject = `${request.template ? 'environment' : 'workspace'} ${request.workspace} @ ${describeSource(request.source)}`;
  let work: Workdir | undefined;
  try {
    log.line(`planning ${subject}`);
    await run.stage('fetch');
    work = await openWorkdir(ctx, run, log, {
      unit: request.workspace,
      template,
      ws,
      source: request.source,
      variables: request.variables,
      scratch,
    });
    const planFile = join(scratch, 'plan.tfplan');
    await run.stage('plan');
    const plan = await work.tf([
      'plan',
      '-input=false',
      '-json',
      '-detailed-exitcode',
      ...(request.purpose === 'env-destroy' ? ['-destroy'] : []),
      `-lock-timeout=${config.lockTimeoutSeconds}s`,
      `-out=${planFile}`,
    ]);
    if (plan.code !== 0 && plan.code !== 2) throw new PlanFailed('plan', failure('terraform plan', plan));
    await run.stage('show');
    const shown = await work.show(planFile, true);
    if (shown.code !== 0) throw new PlanFailed('show', failure('terraform show', shown));
    const summary = summarizePlan(JSON.parse(shown.stdout));
    // The whole plan, as people read it, stays with the run (not in messages).
    const human = await work.show(planFile, false);
    log.line('--- the plan ---');
    for (const line of human.stdout.split('\n')) log.line(line);
    return await keepPlan(ctx, run, {
      request,
      summary,
      file: readFileSync(planFile),
      variablesSha256: variablesSha256(work.vars),
      subject,
    });
  } catch (error) {
    log.line(`FAILED: ${(error as Error).message}`);
    await ctx.events
      .publish({
        kind: 'terraform.plan.failed',
        severity: 'error',
        subject,
        summary: (error as Error).message.slice(0, 2000),
        runId: run.id,
        details: {
          workspace: request.workspace,
          ...(request.template ? { template: request.template } : {}),
          logTail: log.tail(15).slice(-3000),
        },
      })
      .catch(() => {});
    throw error;
  } finally {
    await log.close();
    await work?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Keep a plan file, sealed, with what it is bound to; ask for its approvals, say there is nothing
 * to do, or start its apply where the approval rule allows.
 */
export async function keepPlan(
  ctx: HandlerContext,
  run: RunHandle,
  made: {
    request: PlanRequest;
    summary: PlanSummary;
    file: Buffer;
    variablesSha256: string;
    subject: string;
  },
): Promise<PlanOutcome> {
  const { request } = made;
  const config = ctx.config.terraform;
  const ws = workspaceOf(ctx.config, request.template ?? request.workspace)!;
  const key = planKey(ctx.config);
  const file = readPlanFile(made.file);
  const { summary } = made;
  const { needsApproval, autoApply } = approvalRule(ws, summary, request.purpose);
  const approvers = summary.destructive ? ws.destructive.approvers : 1;
  const approvals: PlanMeta['approvals'] = [];
  if (needsApproval) {
    for (let i = 0; i < approvers; i++) {
      const { approval, token } = await ctx.store.createApproval({
        subject: `terraform/${request.workspace}`,
        action: 'apply',
        payload: { run: run.id, approver: i + 1, of: approvers },
        requestedBy: request.requestedBy,
        ttlMs: (ws.planTtlMinutes ?? config.planTtlMinutes) * 60_000,
      });
      // The token never leaves the store: approvers are identified by their signed keys.
      approvals.push({
        id: approval.id,
        token: seal(Buffer.from(token), key, request.workspace).toString('base64'),
      });
    }
  }
  const meta: PlanMeta = {
    source: request.source,
    ...(request.template ? { template: request.template } : {}),
    ...(request.purpose ? { purpose: request.purpose } : {}),
    state: file.state,
    configSha256: file.configSha256,
    variablesSha256: made.variablesSha256,
    summary,
    runId: run.id,
    requestedBy: request.requestedBy,
    approvals,
  };
  const saved = await ctx.store.savePlan({
    workspace: request.workspace,
    status: summary.noChanges ? 'empty' : needsApproval ? 'awaiting-approval' : 'approved',
    expiresAt: new Date(ctx.now().getTime() + (ws.planTtlMinutes ?? config.planTtlMinutes) * 60_000),
    meta: meta as unknown as Record<string, unknown>,
    file: seal(made.file, key, request.workspace),
  });
  const how = summary.noChanges
    ? 'Nothing to apply.'
    : needsApproval
      ? `Approve (${approvers} approver${approvers > 1 ? 's' : ''}${summary.destructive && ws.destructive.action !== 'approve' ? `, each allowed to ${ws.destructive.action}` : ''}, not ${request.requestedBy}): fc-devops terraform approve ${request.workspace} ${saved.id}`
      : autoApply
        ? request.purpose
          ? 'Applying it now.'
          : 'Applying it now (autoApply).'
        : `Apply it: fc-devops terraform apply ${request.workspace} ${saved.id}`;
  await ctx.events
    .publish({
      kind: summary.noChanges ? 'terraform.plan.empty' : 'terraform.plan.ready',
      severity: summary.destructive ? 'warning' : 'info',
      subject: made.subject,
      summary: summary.noChanges
        ? `no changes in ${request.workspace}`
        : `${countsLine(summary)} in ${request.workspace}`,
      runId: run.id,
      details: {
        workspace: request.workspace,
        plan: saved.id,
        changes: summaryLines(summary).join('\n'),
        next: how,
        // The human plan (`terraform show`) is in the run's log; the message carries only the summary.
        fullPlan: `fc-devops runs show ${run.id}`,
        destructive: summary.destructive,
      },
    })
    .catch((error: Error) => run.log.warn('event not published', { error: error.message }));
  if (autoApply)
    await enqueueJob(ctx.cloud.fc, SELF, {
      kind: APPLY_JOB,
      idempotencyKey: `apply:${saved.id}`,
      payload: {
        workspace: request.workspace,
        planId: saved.id,
        requestedBy: request.purpose ? request.requestedBy : 'autoApply',
        ...(request.template ? { template: request.template } : {}),
      },
      correlationId: ctx.correlationId,
    });
  return { planId: saved.id, status: saved.status, summary, approvals: approvals.length, autoApply };
}
