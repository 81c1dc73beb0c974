// Drift checks: on a workspace's schedule, for it and each live environment made from it.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enqueueJob } from '../../shared/cloud/jobs.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import type { RunHandle } from '../../shared/runtime/once.ts';
import { runLog } from '../../shared/runtime/run-log.ts';
import { runWhenDue } from '../../shared/schedule/due.ts';
import { stateLockName } from './backend.ts';
import { type DriftReport, decideDrift, driftLines, type PlanJson } from './drift.ts';
import { asEnv } from './env-model.ts';
import { asPlan, describeSource, type PlanSource } from './model.ts';
import { keepPlan, SELF } from './plan.ts';
import { failure } from './run-support.ts';
import { PlanFailed } from './source.ts';
import { summarizePlan } from './summary.ts';
import { openWorkdir, type Workdir } from './workdir.ts';
import { variablesSha256, workspaceLock, workspaceOf } from './workspace.ts';

export const DRIFT_JOB = 'terraform.drift';

export interface DriftRequest {
  /** The workspace, or an environment's id. */
  workspace: string;
  template?: string | undefined;
  /** The schedule's firing this check belongs to. */
  due: string;
}

export type DriftOutcome =
  | { skipped: string }
  | {
      drift: boolean;
      /** `detected` (a new drift), `resolved` (the last one is gone), or `unchanged` (nothing new to say). */
      report: 'detected' | 'resolved' | 'unchanged';
      lines: string[];
      reconcilePlan?: string;
    };

interface DriftMark {
  fingerprint: string | null;
  addresses?: string[];
}

/**
 * Every unit whose workspace's drift schedule is due at `now` gets one check (a job per unit and
 * firing: a redelivered tick enqueues nothing new).
 */
export async function driftTick(ctx: HandlerContext, now: Date) {
  const started: string[] = [];
  for (const [name, ws] of Object.entries(ctx.config.terraform.workspaces)) {
    if (!ws.driftCheck) continue;
    const outcome = await runWhenDue(
      ctx,
      {
        name: `terraform:drift:${name}`,
        schedule: ws.driftCheck.schedule,
        kind: 'terraform.drift.schedule',
        subject: name,
      },
      now,
      async (_run, due) => {
        const envs = ws.environments
          ? (await ctx.store.listEnvironments({ template: name, statuses: ['active'], limit: 500 })).map(
              asEnv,
            )
          : [];
        const units = [{ workspace: name }, ...envs.map((e) => ({ workspace: e.id, template: name }))];
        for (const unit of units) {
          const job: DriftRequest = { ...unit, due: due.toISOString() };
          await enqueueJob(ctx.cloud.fc, SELF, {
            kind: DRIFT_JOB,
            idempotencyKey: `drift:${unit.workspace}:${job.due}`,
            payload: job,
            correlationId: ctx.correlationId,
          });
          started.push(`${unit.workspace}@${job.due}`);
        }
        return units.length;
      },
    );
    if (outcome.status === 'busy') started.push(`${name}: ${outcome.message}`);
  }
  return started;
}

/** What the unit was last applied from: an environment's source, or the workspace's newest applied plan. */
async function appliedSource(ctx: HandlerContext, req: DriftRequest) {
  if (req.template) {
    const env = await ctx.store.getEnvironment(req.workspace);
    if (env?.status !== 'active') return { skipped: `environment ${req.workspace} is not active` };
    const e = asEnv(env);
    return { source: e.meta.source, variables: e.meta.variables };
  }
  const applied = (await ctx.store.listPlans(req.workspace, { limit: 100 }))
    .map(asPlan)
    .find((p) => p.status === 'applied' && !p.meta.purpose);
  if (!applied) return { skipped: `nothing was applied to ${req.workspace} yet` };
  return { source: applied.meta.source, variables: undefined };
}

/**
 * Compare a unit with the real infrastructure: `plan -refresh-only` and a normal plan of what was
 * last applied, decided from their JSON. A drift is reported once (until it changes), its end once;
 * outputs alone are not drift. With `openPlan`, the normal plan is kept to reconcile, awaiting
 * approval: never applied by itself.
 */
export async function checkDrift(
  ctx: HandlerContext,
  run: RunHandle,
  req: DriftRequest,
): Promise<DriftOutcome> {
  const template = req.template ?? req.workspace;
  const ws = workspaceOf(ctx.config, template);
  if (!ws?.driftCheck) return { skipped: `workspace ${template} has no driftCheck` };
  const from = await appliedSource(ctx, req);
  if ('skipped' in from) return { skipped: from.skipped as string };
  for (const lock of [workspaceLock(req.workspace), stateLockName(req.workspace)]) {
    const held = await ctx.store.lockHolder(lock);
    // A plan made while an apply runs would report the apply's own changes as drift.
    if (held) return { skipped: `${lock} is held by ${held.holder}: the next check looks again` };
  }
  const scratch = join(process.env.FC_DEVOPS_SCRATCH ?? tmpdir(), `terraform-${run.id}`);
  const log = runLog(run);
  let work: Workdir | undefined;
  try {
    log.line(`checking ${req.workspace} for drift @ ${describeSource(from.source)}`);
    work = await openWorkdir(ctx, run, log, {
      unit: req.workspace,
      template,
      ws,
      source: from.source,
      variables: from.variables,
      scratch,
    });
    const lockTimeout = `-lock-timeout=${ctx.config.terraform.lockTimeoutSeconds}s`;
    const planned = async (file: string, extra: string[]) => {
      const r = await work!.tf(['plan', '-input=false', '-json', lockTimeout, ...extra, `-out=${file}`]);
      if (r.code !== 0) throw new PlanFailed('plan', failure(`terraform plan ${extra.join(' ')}`.trim(), r));
      const shown = await work!.show(file, true);
      if (shown.code !== 0) throw new PlanFailed('show', failure('terraform show', shown));
      return JSON.parse(shown.stdout) as PlanJson;
    };
    const refreshFile = join(scratch, 'refresh.tfplan');
    const normalFile = join(scratch, 'normal.tfplan');
    const report = decideDrift(await planned(refreshFile, ['-refresh-only']), await planned(normalFile, []));
    const lines = driftLines(report);
    for (const line of lines.length ? lines : ['no drift']) log.line(line);
    return await tell(ctx, run, req, from.source, report, lines, async () =>
      ws.driftCheck?.openPlan
        ? await keepPlan(ctx, run, {
            request: {
              workspace: req.workspace,
              template: req.template,
              purpose: 'drift-reconcile',
              source: from.source,
              requestedBy: 'drift',
            },
            summary: summarizePlan(JSON.parse((await work!.show(normalFile, true)).stdout)),
            file: readFileSync(normalFile),
            variablesSha256: variablesSha256(work!.vars),
            subject: `${req.template ? 'environment' : 'workspace'} ${req.workspace} @ ${describeSource(from.source)} (reconcile drift)`,
          })
        : undefined,
    );
  } finally {
    await log.close();
    await work?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function tell(
  ctx: HandlerContext,
  run: RunHandle,
  req: DriftRequest,
  source: PlanSource,
  report: DriftReport,
  lines: string[],
  reconcile: () => Promise<{ planId: string } | { skipped: string } | undefined>,
): Promise<DriftOutcome> {
  const key = `drift:${req.workspace}`;
  const [last] = await ctx.store.readHistory<DriftMark>(key, { limit: 1 });
  const before = last?.value.fingerprint ?? null;
  const subject = `${req.template ? 'environment' : 'workspace'} ${req.workspace}`;
  const details = { workspace: req.workspace, ...(req.template ? { template: req.template } : {}) };
  if (report.drift && report.fingerprint !== before) {
    const kept = await reconcile();
    const planId = kept && 'planId' in kept ? kept.planId : undefined;
    await ctx.store.appendHistory<DriftMark>(key, {
      value: {
        fingerprint: report.fingerprint,
        addresses: [...report.drifted, ...report.pending].map((i) => i.address),
      },
      actor: 'drift',
    });
    await ctx.events
      .publish({
        kind: 'terraform.drift.detected',
        severity: 'warning',
        subject,
        summary: `${req.workspace} drifted: ${[...new Set([...report.drifted, ...report.pending].map((i) => i.address))].join(', ')}`,
        runId: run.id,
        details: {
          ...details,
          changes: lines.join('\n'),
          next: planId
            ? `a plan to reconcile it waits for approval: fc-devops terraform show ${req.workspace} ${planId}`
            : `plan to reconcile it (never applied without approval): fc-devops terraform plan ${req.workspace} --commit ${source.kind === 'commit' ? source.commit : '<commit>'}`,
        },
      })
      .catch((error: Error) => run.log.warn('event not published', { error: error.message }));
    return { drift: true, report: 'detected', lines, ...(planId ? { reconcilePlan: planId } : {}) };
  }
  if (!report.drift && before !== null) {
    await ctx.store.appendHistory<DriftMark>(key, { value: { fingerprint: null }, actor: 'drift' });
    await ctx.events
      .publish({
        kind: 'terraform.drift.resolved',
        severity: 'info',
        subject,
        summary: `${req.workspace} matches its configuration again`,
        runId: run.id,
        details: { ...details, changes: lines.join('\n') },
      })
      .catch((error: Error) => run.log.warn('event not published', { error: error.message }));
    return { drift: false, report: 'resolved', lines };
  }
  return { drift: report.drift, report: 'unchanged', lines };
}
