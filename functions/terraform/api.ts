import * as z from 'zod/mini';
import { guarded } from '../../shared/auth/guard.ts';
import { allowed } from '../../shared/auth/roles.ts';
import { enqueueJob } from '../../shared/cloud/jobs.ts';
import { type HttpRequest, type HttpResponse, json, parseJsonBody } from '../../shared/events/http.ts';
import { lazySchema } from '../../shared/events/parse.ts';
import { humanText } from '../../shared/events/text.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import { PLAN_JOB, type PlanJob } from '../../shared/terraform/plan-job.ts';
import { applicability } from './apply.ts';
import { stateLockName } from './backend.ts';
import { afterReject } from './env-lifecycle.ts';
import { asPlan, describeSource, type Plan } from './model.ts';
import { APPLY_JOB, SELF } from './plan.ts';
import { open } from './seal.ts';
import { countsLine, summaryLines } from './summary.ts';
import { planKey, type Workspace, workspaceLock, workspaceOf } from './workspace.ts';

const PlanBody = lazySchema(() =>
  z.strictObject({
    commit: z.string().check(z.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a full commit id')),
    ref: z.optional(z.string().check(z.maxLength(512))),
  }),
);
const ReasonBody = lazySchema(() => z.strictObject({ reason: z.optional(humanText(500)) }));

const WS = '([a-z][a-z0-9-]{0,62})';
const PLAN_ID = '(plan-[0-9a-f-]{36})';
const ROUTES: { method: string; path: RegExp; action: string; op: string }[] = [
  { method: 'GET', path: new RegExp(`^/workspaces/${WS}/?$`), action: 'view', op: 'status' },
  { method: 'GET', path: new RegExp(`^/workspaces/${WS}/plans/${PLAN_ID}/?$`), action: 'view', op: 'show' },
  { method: 'POST', path: new RegExp(`^/workspaces/${WS}/plans/?$`), action: 'plan', op: 'plan' },
  {
    method: 'POST',
    path: new RegExp(`^/workspaces/${WS}/plans/${PLAN_ID}/approve/?$`),
    action: 'approve',
    op: 'approve',
  },
  {
    method: 'POST',
    path: new RegExp(`^/workspaces/${WS}/plans/${PLAN_ID}/reject/?$`),
    action: 'reject',
    op: 'reject',
  },
  {
    method: 'POST',
    path: new RegExp(`^/workspaces/${WS}/plans/${PLAN_ID}/apply/?$`),
    action: 'apply',
    op: 'apply',
  },
  {
    method: 'POST',
    path: new RegExp(`^/workspaces/${WS}/plans/${PLAN_ID}/discard/?$`),
    action: 'plan',
    op: 'discard',
  },
  { method: 'POST', path: new RegExp(`^/workspaces/${WS}/unlock/?$`), action: 'unlock', op: 'unlock' },
];

/**
 * The terraform endpoints (below the function's HTTP trigger), each signed and audited:
 *   GET  /workspaces/<ws>                          status: lock holder, state version, last plans   (view)
 *   GET  /workspaces/<ws>/plans/<id>               one plan and its summary                         (view)
 *   POST /workspaces/<ws>/plans {commit, ref?}     plan the workspace at a commit now               (plan)
 *   POST /workspaces/<ws>/plans/<id>/approve       approve (another key than the one that asked)    (approve)
 *   POST /workspaces/<ws>/plans/<id>/reject        reject                                           (approve, or the requester)
 *   POST /workspaces/<ws>/plans/<id>/apply         apply exactly that plan                          (apply)
 *   POST /workspaces/<ws>/plans/<id>/discard       drop a plan                                      (plan)
 *   POST /workspaces/<ws>/unlock {reason?}         force-unlock the workspace and its state         (unlock)
 */
export async function handle(request: HttpRequest, ctx: HandlerContext): Promise<HttpResponse> {
  const route = ROUTES.find((r) => r.path.test(request.path));
  if (!route)
    return json(404, { error: 'NotFound', message: `no endpoint ${request.method} ${request.path}` });
  if (request.method !== route.method)
    return json(
      405,
      { error: 'MethodNotAllowed', message: `use ${route.method} for ${request.path}` },
      { allow: route.method },
    );
  const m = route.path.exec(request.path)!;
  const name = m[1]!;
  const planId = m[2];
  // An environment's plans and state are kept under its id; its template is the workspace of the config.
  const env = workspaceOf(ctx.config, name) ? undefined : await ctx.store.getEnvironment(name);
  const ws = workspaceOf(ctx.config, env?.template ?? name);
  const target = env?.template ?? name;
  // Deciding on a plan: destructive plans may ask each approver for a further action as well.
  const plan =
    planId && (route.op === 'approve' || route.op === 'reject') ? await ctx.store.getPlan(planId) : undefined;
  const keys = ctx.config.access.keys;
  const authorize =
    route.op === 'approve' && ws && plan && asPlan(plan).meta.summary.destructive
      ? (k: string) => allowed(keys, k, 'approve', target) && allowed(keys, k, ws.destructive.action, target)
      : route.op === 'reject'
        ? (k: string) => allowed(keys, k, 'approve', target) || k === (plan && asPlan(plan).meta.requestedBy)
        : undefined;
  return guarded(
    request,
    { action: route.action, target, ...(authorize ? { authorize } : {}) },
    ctx.guardDeps,
    async (keyId) => {
      if (!ws)
        return json(404, { error: 'WorkspaceNotFound', message: `no terraform workspace named ${name}` });
      switch (route.op) {
        case 'status':
          return json(200, await status(ctx, name, ws));
        case 'plan':
          // An environment's plans are made by its life (create, destroy), from the commit it was made of.
          if (env)
            return json(409, {
              error: 'EnvironmentPlan',
              message: `${name} is an environment of ${env.template}: it is planned by fc-devops env commands, not at a commit`,
            });
          return planNow(request, ctx, name, keyId);
        case 'unlock':
          return unlock(request, ctx, name, keyId);
      }
      const found = await ctx.store.getPlan(planId!);
      if (!found || found.workspace !== name)
        return json(404, { error: 'PlanNotFound', message: `no plan ${planId} of workspace ${name}` });
      const p = asPlan(found);
      switch (route.op) {
        case 'show':
          return json(200, { ...view(p), lines: summaryLines(p.meta.summary), summary: p.meta.summary });
        case 'approve':
          return decide(ctx, p, keyId, 'approved');
        case 'reject':
          parseJsonBody(request, z._default(ReasonBody, {}));
          return decide(ctx, p, keyId, 'rejected');
        case 'apply':
          return apply(ctx, p, ws, keyId);
        default: {
          const { reason } = parseJsonBody(request, z._default(ReasonBody, {}));
          const dropped = await ctx.store.updatePlan(p.id, {
            from: ['awaiting-approval', 'approved', 'empty'],
            to: 'discarded',
            meta: { reason: reason ?? `discarded by ${keyId}` },
          });
          if (!dropped)
            return json(409, { error: 'PlanNotDiscardable', message: `plan ${p.id} is ${p.status}` });
          return json(200, view(asPlan(dropped)));
        }
      }
    },
  );
}

const view = (p: Plan) => ({
  id: p.id,
  workspace: p.workspace,
  status: p.status,
  source: p.meta.source,
  changes: p.meta.summary.noChanges ? 'no changes' : countsLine(p.meta.summary),
  destructive: p.meta.summary.destructive,
  requestedBy: p.meta.requestedBy,
  approvals: { needed: p.meta.approvals.length, approvedBy: p.meta.approvedBy ?? [] },
  createdAt: p.createdAt.toISOString(),
  expiresAt: p.expiresAt.toISOString(),
  runId: p.meta.runId,
  ...(p.meta.applyRunId ? { applyRunId: p.meta.applyRunId } : {}),
  ...(p.meta.reason ? { reason: p.meta.reason } : {}),
});

async function status(ctx: HandlerContext, name: string, ws: Workspace) {
  const lock = await ctx.store.lockHolder(workspaceLock(name));
  const stateLock = await ctx.store.lockHolder(stateLockName(name));
  const state = ws.backend.type === 'fc-devops' ? await ctx.store.getState(name) : undefined;
  const plans = (await ctx.store.listPlans(name, { limit: 10 })).map((p) => view(asPlan(p)));
  return {
    workspace: name,
    backend: ws.backend.type,
    lock: lock
      ? { holder: lock.holder, since: lock.acquiredAt.toISOString(), expiresAt: lock.expiresAt.toISOString() }
      : null,
    stateLock: stateLock ? { holder: stateLock.holder, expiresAt: stateLock.expiresAt.toISOString() } : null,
    state: state
      ? {
          version: state.version,
          serial: state.serial,
          lineage: state.lineage,
          at: state.createdAt.toISOString(),
          runId: state.runId,
        }
      : null,
    plans,
  };
}

async function planNow(request: HttpRequest, ctx: HandlerContext, name: string, keyId: string) {
  const body = parseJsonBody(request, PlanBody);
  const job: PlanJob = {
    workspace: name,
    trigger: 'http',
    requestedBy: keyId,
    source: { kind: 'commit', repository: '', commit: body.commit, ref: body.ref ?? '' },
  };
  const idempotencyKey = `plan-now:${keyId}:${name}:${body.commit}:${request.headers['idempotency-key'] ?? request.requestId}`;
  const message = await enqueueJob(ctx.cloud.fc, SELF, {
    kind: PLAN_JOB,
    idempotencyKey,
    payload: job,
    correlationId: ctx.correlationId,
  });
  return json(202, { workspace: name, commit: body.commit, job: message.id, idempotencyKey });
}

/**
 * One approval of a plan, by a signed key that is not the one that asked for it. A destructive plan
 * may need two, from two different keys. The last approval starts the apply.
 */
async function decide(ctx: HandlerContext, plan: Plan, keyId: string, decision: 'approved' | 'rejected') {
  if (plan.status !== 'awaiting-approval')
    return json(409, { error: 'NotAwaitingApproval', message: `plan ${plan.id} is ${plan.status}` });
  // Approving a plan that could not be applied anyway (expired, superseded, its state moved) decides nothing.
  const ws = workspaceOf(ctx.config, plan.meta.template ?? plan.workspace)!;
  const why =
    decision === 'approved'
      ? await applicability(
          ctx.store,
          { ...plan, status: 'approved' },
          ws.backend.type === 'fc-devops',
          ctx.now(),
        )
      : undefined;
  if (why)
    return json(409, {
      error: 'PlanNotApplicable',
      message: `plan ${plan.id} cannot be applied: ${why}; it stays undecided`,
    });
  const key = planKey(ctx.config);
  const pending = [];
  for (const a of plan.meta.approvals) {
    const approval = await ctx.store.getApproval(a.id);
    if (approval?.status === 'approved' && approval.decidedBy === keyId && decision === 'approved')
      return json(409, {
        error: 'AlreadyApproved',
        message: `${keyId} already approved plan ${plan.id}; another key must give the next approval`,
      });
    if (approval?.status === 'pending') pending.push(a);
  }
  const next = pending[0];
  if (!next)
    return json(409, { error: 'NotAwaitingApproval', message: `plan ${plan.id} has no approval pending` });
  const token = open(Buffer.from(next.token, 'base64'), key, plan.workspace).toString('utf8');
  const result = await ctx.store.decideApproval({ id: next.id, token, decision, decidedBy: keyId });
  if (!result.ok) {
    const [status, message] =
      result.reason === 'self-approval'
        ? [403, `${keyId} asked for plan ${plan.id} and cannot approve it`]
        : result.reason === 'expired'
          ? [410, `the approval of plan ${plan.id} expired`]
          : [409, `plan ${plan.id}: ${result.reason}`];
    return json(status, { error: result.reason, message });
  }
  const approvedBy = [...(plan.meta.approvedBy ?? []), ...(decision === 'approved' ? [keyId] : [])];
  if (decision === 'rejected') {
    const rejected = await ctx.store.updatePlan(plan.id, {
      from: ['awaiting-approval'],
      to: 'discarded',
      meta: { reason: `rejected by ${keyId}` },
    });
    await tell(ctx, plan, 'terraform.plan.rejected', `${keyId} rejected plan ${plan.id}`);
    // An environment whose creation (or destroy) was rejected does not wait for its end to say so.
    if (rejected && plan.meta.template) await afterReject(ctx, asPlan(rejected), keyId);
    return json(200, view(rejected ? asPlan(rejected) : plan));
  }
  if (pending.length > 1) {
    const updated = await ctx.store.updatePlan(plan.id, {
      from: ['awaiting-approval'],
      to: 'awaiting-approval',
      meta: { approvedBy },
    });
    return json(200, {
      ...view(updated ? asPlan(updated) : plan),
      message: `approved by ${keyId}; ${pending.length - 1} more approval(s) needed`,
    });
  }
  const approved = await ctx.store.updatePlan(plan.id, {
    from: ['awaiting-approval'],
    to: 'approved',
    meta: { approvedBy },
  });
  if (!approved)
    return json(409, { error: 'NotAwaitingApproval', message: `plan ${plan.id} changed meanwhile` });
  await tell(
    ctx,
    plan,
    'terraform.plan.approved',
    `${approvedBy.join(' and ')} approved plan ${plan.id}; applying it`,
  );
  return startApply(ctx, asPlan(approved), keyId);
}

async function apply(ctx: HandlerContext, plan: Plan, ws: Workspace, keyId: string) {
  const why = await applicability(ctx.store, plan, ws.backend.type === 'fc-devops', ctx.now());
  if (why)
    return json(409, {
      error: 'PlanNotApplicable',
      message: `plan ${plan.id} cannot be applied: ${why}`,
      replan: `POST /workspaces/${plan.workspace}/plans {"commit": "<commit>"} (fc-devops terraform plan ${plan.workspace} --commit <commit>)`,
    });
  return startApply(ctx, plan, keyId);
}

/** Start the apply job (once per plan), unless another operation holds the workspace. */
async function startApply(ctx: HandlerContext, plan: Plan, keyId: string) {
  const holder = await ctx.store.lockHolder(workspaceLock(plan.workspace));
  if (holder)
    return json(409, {
      error: 'WorkspaceBusy',
      message: `workspace ${plan.workspace} is held by ${holder.holder} until ${holder.expiresAt.toISOString()}`,
      state: { holder: holder.holder, expiresAt: holder.expiresAt.toISOString() },
    });
  const message = await enqueueJob(ctx.cloud.fc, SELF, {
    kind: APPLY_JOB,
    idempotencyKey: `apply:${plan.id}`,
    payload: {
      workspace: plan.workspace,
      planId: plan.id,
      requestedBy: keyId,
      ...(plan.meta.template ? { template: plan.meta.template } : {}),
    },
    correlationId: ctx.correlationId,
  });
  return json(202, { ...view(plan), applying: true, job: message.id });
}

async function unlock(request: HttpRequest, ctx: HandlerContext, name: string, keyId: string) {
  const { reason } = parseJsonBody(request, z._default(ReasonBody, {}));
  const workspace = await ctx.store.breakLock(workspaceLock(name));
  const state = await ctx.store.breakLock(stateLockName(name));
  const released = [
    ...(workspace ? [{ lock: 'workspace', holder: workspace.holder }] : []),
    ...(state ? [{ lock: 'state', holder: state.holder }] : []),
  ];
  if (released.length > 0)
    await ctx.events
      .publish({
        kind: 'terraform.unlocked',
        severity: 'warning',
        subject: `workspace ${name}`,
        summary: `${keyId} force-unlocked ${name} (${released.map((r) => `${r.lock} held by ${r.holder}`).join(', ')})${reason ? `: ${reason}` : ''}`,
      })
      .catch(() => {});
  return json(200, { workspace: name, released });
}

async function tell(ctx: HandlerContext, plan: Plan, kind: string, summary: string) {
  await ctx.events
    .publish({
      kind,
      severity: 'info',
      subject: `workspace ${plan.workspace} @ ${describeSource(plan.meta.source)}`,
      summary,
      details: { workspace: plan.workspace, plan: plan.id },
    })
    .catch((error: Error) => ctx.log.warn('event not published', { error: error.message }));
}
