import * as z from 'zod';
import { guard } from '../../shared/auth/guard.ts';
import { type Action, allowed } from '../../shared/auth/roles.ts';
import { type HttpRequest, type HttpResponse, json, parseJsonBody } from '../../shared/events/http.ts';
import { freeze, history, promote, type ReleaseDeps, rollback, status } from './operations.ts';

const PromoteBody = z
  .object({
    version: z.string().regex(/^\d+$/, 'a published version number').optional(),
    dryRun: z.boolean().default(false),
  })
  .strict();
const RollbackBody = z
  .object({ dryRun: z.boolean().default(false), reason: z.string().max(500).optional() })
  .strict();
const FreezeBody = z.object({ reason: z.string().min(1).max(500) }).strict();
const DecideBody = z.object({ token: z.string().min(1), reason: z.string().max(500).optional() }).strict();

const APPROVAL_TTL_MS = 24 * 3_600_000;

/**
 * The release endpoints (below the function's HTTP trigger):
 *   GET  /targets/<t>             status         (view)
 *   GET  /targets/<t>/history     history        (view)
 *   POST /targets/<t>/promote     {version?, dryRun?}           (promote)
 *   POST /targets/<t>/rollback    {dryRun?, reason?}            (rollback)
 *   POST /targets/<t>/freeze      {reason}                      (rollback)
 *   POST /targets/<t>/unfreeze                                  (promote)
 *   POST /approvals/<id>/approve  {token, reason?}              (approve; never the requester)
 *   POST /approvals/<id>/reject   {token, reason?}              (approve, or the requester withdrawing)
 * Every call is authenticated, authorized per target and action, and audited.
 */
export async function handle(request: HttpRequest, deps: ReleaseDeps): Promise<HttpResponse> {
  const t = /^\/targets\/([a-z][a-z0-9-]{0,62})(?:\/(history|promote|rollback|freeze|unfreeze))?\/?$/.exec(
    request.path,
  );
  const a = /^\/approvals\/([\w-]+)\/(approve|reject)\/?$/.exec(request.path);
  if (!t && !a)
    return json(404, { error: 'NotFound', message: `no endpoint ${request.method} ${request.path}` });

  if (a) return decide(request, deps, a[1]!, a[2] as 'approve' | 'reject');

  const name = t![1]!;
  const op = t![2] as 'history' | 'promote' | 'rollback' | 'freeze' | 'unfreeze' | undefined;
  const method = op === undefined || op === 'history' ? 'GET' : 'POST';
  if (request.method !== method)
    return json(
      405,
      { error: 'MethodNotAllowed', message: `use ${method} for ${request.path}` },
      { allow: method },
    );
  const action: Action =
    op === undefined || op === 'history'
      ? 'view'
      : op === 'rollback' || op === 'freeze'
        ? 'rollback'
        : 'promote';
  const gate = await guard(
    request,
    { action, target: name },
    { keys: deps.config.access.keys, store: deps.store, now: deps.now },
  );
  if (!gate.ok) return gate.response;
  const target = deps.config.releases.targets[name];
  if (!target) return json(404, { error: 'TargetNotFound', message: `no release target named ${name}` });
  const by = gate.keyId;
  if (op === undefined || op === 'history')
    return reply(op === undefined ? await status(deps, name, target) : await history(deps, name));

  // One operation per target at a time.
  const lock = await deps.store.acquireLock(`release:${name}`, { owner: request.requestId, ttlMs: 120_000 });
  if (!lock.acquired)
    return json(409, {
      error: 'InProgress',
      message: `another operation on ${name} is running (${lock.holder})`,
    });
  try {
    return await operate(request, deps, name, target, op, by);
  } finally {
    await deps.store.releaseLock({ lock: lock.name, owner: lock.owner, token: lock.token });
  }
}

async function operate(
  request: HttpRequest,
  deps: ReleaseDeps,
  name: string,
  target: NonNullable<ReleaseDeps['config']['releases']['targets'][string]>,
  op: 'promote' | 'rollback' | 'freeze' | 'unfreeze',
  by: string,
): Promise<HttpResponse> {
  switch (op) {
    case 'freeze':
      return reply(await freeze(deps, name, true, parseJsonBody(request, FreezeBody).reason, by));
    case 'unfreeze':
      return reply(await freeze(deps, name, false, undefined, by));
    case 'rollback': {
      const body = parseJsonBody(request, RollbackBody.default({ dryRun: false }));
      return reply(await rollback(deps, name, target, body, by, body.reason));
    }
    case 'promote': {
      const body = parseJsonBody(request, PromoteBody.default({ dryRun: false }));
      if (target.requireApproval && !body.dryRun) {
        const { approval, token } = await deps.store.createApproval({
          subject: `release/${name}`,
          action: 'promote',
          payload: body,
          requestedBy: by,
          ttlMs: APPROVAL_TTL_MS,
        });
        await deps.events
          .publish({
            kind: 'release.approval.requested',
            severity: 'warning',
            subject: name,
            summary: `${by} asks to promote ${name}${body.version ? ` to version ${body.version}` : ''}; approval ${approval.id}`,
          })
          .catch(() => {});
        return json(202, {
          target: name,
          approval: { id: approval.id, token, expiresAt: approval.expiresAt.toISOString() },
          message: `waiting for approval: someone else with the approve role runs fc-devops release approve ${approval.id} --token <token>`,
        });
      }
      return reply(await promote(deps, name, target, body, by));
    }
  }
}

async function decide(
  request: HttpRequest,
  deps: ReleaseDeps,
  id: string,
  verb: 'approve' | 'reject',
): Promise<HttpResponse> {
  const approval = await deps.store.getApproval(id);
  const target = approval?.subject.replace(/^release\//, '') ?? id;
  const gate = await guard(
    request,
    { action: verb === 'approve' ? 'approve' : 'view', target },
    { keys: deps.config.access.keys, store: deps.store, now: deps.now },
  );
  if (!gate.ok) return gate.response;
  if (!approval) return json(404, { error: 'ApprovalNotFound', message: `no approval ${id}` });
  // Anyone may withdraw their own request; rejecting someone else's needs the approve role.
  if (
    verb === 'reject' &&
    gate.keyId !== approval.requestedBy &&
    !allowed(deps.config.access.keys, gate.keyId, 'approve', target)
  ) {
    return json(403, { error: 'Forbidden', message: `key ${gate.keyId} may not reject ${id}` });
  }
  const body = parseJsonBody(request, DecideBody);
  const decision = await deps.store.decideApproval({
    id,
    token: body.token,
    decision: verb === 'approve' ? 'approved' : 'rejected',
    decidedBy: gate.keyId,
    ...(body.reason ? { reason: body.reason } : {}),
  });
  if (!decision.ok) {
    const status = {
      'not-found': 404,
      'bad-token': 403,
      'self-approval': 403,
      'already-decided': 409,
      expired: 410,
    }[decision.reason];
    const message = {
      'not-found': `no approval ${id}`,
      'bad-token': 'the approval token does not match',
      'self-approval': 'the key that asked for a promote cannot approve it',
      'already-decided': `approval ${id} was already decided`,
      expired: `approval ${id} expired`,
    }[decision.reason];
    return json(status, { error: decision.reason, message });
  }
  await deps.events
    .publish({
      kind: `release.approval.${verb === 'approve' ? 'approved' : 'rejected'}`,
      severity: 'info',
      subject: target,
      summary: `${gate.keyId} ${verb === 'approve' ? 'approved' : 'rejected'} ${approval.requestedBy}'s promote of ${target}`,
    })
    .catch(() => {});
  if (verb === 'reject') return json(200, { approval: { id, status: 'rejected' } });
  const name = target;
  const releaseTarget = deps.config.releases.targets[name];
  if (!releaseTarget)
    return json(404, { error: 'TargetNotFound', message: `no release target named ${name}` });
  const payload = approval.payload as { version?: string; dryRun?: boolean };
  const outcome = await promote(
    deps,
    name,
    releaseTarget,
    { version: payload.version, dryRun: false },
    approval.requestedBy,
  );
  return json(outcome.status, { ...outcome.body, approval: { id, approvedBy: gate.keyId } });
}

function reply(outcome: { status: number; body: Record<string, unknown> }): HttpResponse {
  return json(outcome.status, outcome.body);
}
