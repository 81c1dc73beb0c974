import * as z from 'zod/mini';
import { guarded } from '../../shared/auth/guard.ts';
import { allowed } from '../../shared/auth/roles.ts';
import { type HttpRequest, type HttpResponse, json, parseJsonBody } from '../../shared/events/http.ts';
import { lazySchema } from '../../shared/events/parse.ts';
import { humanText } from '../../shared/events/text.ts';
import { isImageRef } from '../../shared/kube/rollout.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import type { Decision } from '../../shared/store/port.ts';
import { own } from '../../shared/util/records.ts';
import type { AliasRelease } from './canary.ts';
import { isActive, type KubeRelease } from './kube-state.ts';
import type { Plan, PromoteResult, RollbackResult } from './outcome.ts';
import {
  type Busy,
  isBusy,
  keys,
  type Locked,
  latest,
  operator,
  type ReleaseDeps,
  releaseDeps,
  tell,
  withTargetLock,
} from './state.ts';
import { freeze, history, promote, reconcile, rollback, status } from './target.ts';

const PromoteBody = z
  .strictObject({
    version: z.optional(z.string().check(z.regex(/^\d{1,18}$/, 'a published version number'))),
    /** For a Deployment: the whole image reference, or a tag (or sha256 digest) of its current repository. */
    image: z.optional(
      z
        .string()
        .check(
          z.refine(isImageRef, 'an image reference such as registry.cn-hangzhou.aliyuncs.com/shop/web:1.4.2'),
        ),
    ),
    tag: z.optional(
      z
        .string()
        .check(
          z.regex(
            /^(?:[\w][\w.-]{0,127}|sha256:[a-f0-9]{64})$/,
            'an image tag such as 1.4.2, or sha256:<64 hex digits>',
          ),
        ),
    ),
    dryRun: z._default(z.boolean(), false),
  })
  .check(
    z.refine(
      (b) => [b.version, b.image, b.tag].filter(Boolean).length <= 1,
      'give at most one of version, image and tag',
    ),
  );
const RollbackBody = lazySchema(() =>
  z.strictObject({
    dryRun: z._default(z.boolean(), false),
    reason: z.optional(humanText(500)),
    /** For a Deployment: the revision to go back to (`kubectl rollout undo --to-revision`); the previous one by default. */
    revision: z.optional(z.int().check(z.gte(1), z.lte(2_147_483_647))),
  }),
);
const FreezeBody = lazySchema(() =>
  z.strictObject({ reason: z.pipe(humanText(500), z.string().check(z.minLength(1))) }),
);
const DecideBody = lazySchema(() =>
  z.strictObject({
    token: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,200}$/, 'the token the promote request answered with')),
    reason: z.optional(humanText(500)),
  }),
);
const ApprovedPromote = lazySchema(() =>
  z.object({
    version: z.optional(z.string()),
    image: z.optional(z.string()),
    tag: z.optional(z.string()),
  }),
);

const APPROVAL_TTL_MS = 24 * 3_600_000;
const TARGET = /^\/targets\/([a-z][a-z0-9-]{0,62})(?:\/(history|promote|rollback|freeze|unfreeze))?\/?$/;
const APPROVAL = /^\/approvals\/([A-Za-z0-9_-]{1,100})\/(approve|reject)\/?$/;

type Op = 'history' | 'promote' | 'rollback' | 'freeze' | 'unfreeze' | undefined;

/**
 * The release endpoints (below the function's HTTP trigger):
 *   GET  /targets/<t>             status         (view)
 *   GET  /targets/<t>/history     history        (view)
 *   POST /targets/<t>/promote     {version? | image? | tag?, dryRun?}   (promote)
 *   POST /targets/<t>/rollback    {dryRun?, reason?, revision?}         (rollback)
 *   POST /targets/<t>/freeze      {reason}                      (rollback)
 *   POST /targets/<t>/unfreeze                                  (promote)
 *   POST /approvals/<id>/approve  {token, reason?}              (approve; never the requester)
 *   POST /approvals/<id>/reject   {token, reason?}              (approve, or the requester withdrawing)
 * Every call is authenticated, authorized per target and action, and audited with its outcome.
 * Everything that changes a target holds the target's lock; a second change meanwhile gets 409.
 */
export async function handle(request: HttpRequest, ctx: HandlerContext): Promise<HttpResponse> {
  const a = APPROVAL.exec(request.path);
  if (a) {
    if (request.method !== 'POST') return wrongMethod(request, 'POST');
    return decide(request, ctx, a[1]!, a[2] as 'approve' | 'reject');
  }
  const t = TARGET.exec(request.path);
  if (!t) return json(404, { error: 'NotFound', message: `no endpoint ${request.method} ${request.path}` });
  const name = t[1]!;
  const op = t[2] as Op;
  const method = op === undefined || op === 'history' ? 'GET' : 'POST';
  if (request.method !== method) return wrongMethod(request, method);
  const action =
    op === undefined || op === 'history'
      ? 'view'
      : op === 'rollback' || op === 'freeze'
        ? 'rollback'
        : 'promote';
  return guarded(request, { action, target: name }, ctx.guardDeps, async (keyId) => {
    const target = own(ctx.config.releases.targets, name);
    if (!target) return json(404, { error: 'TargetNotFound', message: `no release target named ${name}` });
    const d = releaseDeps(ctx);
    if (op === undefined) return json(200, await status(d, name, target));
    if (op === 'history') return json(200, await history(d, name));
    const actor = operator(keyId);
    // Every body is checked before anything changes.
    switch (op) {
      case 'freeze':
      case 'unfreeze': {
        const reason = op === 'freeze' ? parseJsonBody(request, FreezeBody).reason : undefined;
        return locked(d, name, request, async (l) =>
          json(200, await freeze(l, name, op === 'freeze', reason, actor)),
        );
      }
      case 'rollback': {
        const body = parseJsonBody(request, z._default(RollbackBody, { dryRun: false }));
        const misfit = misfitField(target.kind, body);
        if (misfit) return misfit;
        return locked(d, name, request, async (l) => {
          await reconcile(l, name, target);
          return rolledBack(name, await rollback(l, name, target, body, actor));
        });
      }
      case 'promote': {
        const body = parseJsonBody(request, z._default(PromoteBody, { dryRun: false }));
        const misfit = misfitField(target.kind, body);
        if (misfit) return misfit;
        if (target.requireApproval && !body.dryRun) return askApproval(d, name, body, keyId);
        return locked(d, name, request, async (l) => {
          await reconcile(l, name, target);
          return promoted(name, await promote(l, name, target, body, actor));
        });
      }
    }
  });
}

async function locked(
  d: ReleaseDeps,
  name: string,
  request: HttpRequest,
  work: (locked: Locked) => Promise<HttpResponse>,
): Promise<HttpResponse> {
  const outcome = await withTargetLock(d, name, request.requestId, work);
  return isBusy(outcome) ? busy(name, outcome) : outcome;
}

/** A field that means nothing for the target's kind is refused, not ignored. */
function misfitField(
  kind: string,
  body: { version?: unknown; image?: unknown; tag?: unknown; revision?: unknown },
): HttpResponse | undefined {
  const kube = kind === 'k8s-deployment';
  const wrong = kube ? (['version'] as const) : (['image', 'tag', 'revision'] as const);
  const field = wrong.find((f) => body[f] !== undefined);
  if (!field) return undefined;
  return json(400, {
    error: 'InvalidRequest',
    message: `body.${field} does not apply to a ${kind} target${kube ? ' (give image or tag)' : ''}`,
    field: `body.${field}`,
  });
}

async function askApproval(
  d: ReleaseDeps,
  name: string,
  body: { version?: string | undefined; image?: string | undefined; tag?: string | undefined },
  keyId: string,
) {
  const asked = body.version ?? body.image ?? body.tag;
  const { approval, token } = await d.store.createApproval({
    subject: `release/${name}`,
    action: 'promote',
    payload: Object.fromEntries(
      Object.entries({ version: body.version, image: body.image, tag: body.tag }).filter(([, v]) => v),
    ),
    requestedBy: keyId,
    ttlMs: APPROVAL_TTL_MS,
  });
  await tell(d, {
    kind: 'release.approval.requested',
    severity: 'warning',
    subject: name,
    summary: `${keyId} asks to promote ${name}${asked ? ` to ${asked}` : ''}; approval ${approval.id}`,
  });
  return json(202, {
    target: name,
    approval: { id: approval.id, token, expiresAt: approval.expiresAt.toISOString() },
    message: `waiting for approval: someone else with the approve role runs fc-devops release approve ${approval.id} --token <token>`,
  });
}

/**
 * Approve or reject a waiting promote. The decision is taken under the target's lock and only when
 * the target is free: while another operation holds it, or a canary of it is running, or it is
 * frozen, the answer is 409 and the approval stays pending (no decision recorded, no notice sent).
 */
async function decide(request: HttpRequest, ctx: HandlerContext, id: string, verb: 'approve' | 'reject') {
  const approval = await ctx.store.getApproval(id);
  const name = approval?.subject.replace(/^release\//, '') ?? id;
  const keysOf = ctx.config.access.keys;
  // Anyone may withdraw their own request; deciding someone else's needs the approve role.
  const authorize = (k: string) =>
    allowed(keysOf, k, 'approve', name) || (verb === 'reject' && k === approval?.requestedBy);
  return guarded(request, { action: verb, target: name, authorize }, ctx.guardDeps, async (keyId) => {
    const body = parseJsonBody(request, DecideBody);
    if (!approval) return json(404, { error: 'ApprovalNotFound', message: `no approval ${id}` });
    const target = own(ctx.config.releases.targets, name);
    if (!target) return json(404, { error: 'TargetNotFound', message: `no release target named ${name}` });
    const d = releaseDeps(ctx);
    return locked(d, name, request, async (l) => {
      await reconcile(l, name, target);
      // An approval already decided or expired says so, whatever the target is doing.
      const now = await l.store.getApproval(id);
      if (now && now.status !== 'pending') return refused(id, { ok: false, reason: 'already-decided' });
      if (now && now.expiresAt <= l.now()) return refused(id, { ok: false, reason: 'expired' });
      if (verb === 'approve') {
        const running = await latest<AliasRelease | KubeRelease>(l.store, keys.state(name));
        if (running?.status === 'running' || isActive(running))
          return json(409, {
            error: 'InProgress',
            message: `${name} is being changed; approval ${id} stays pending`,
            release: running,
          });
      }
      const decision = await l.store.decideApproval({
        id,
        token: body.token,
        decision: verb === 'approve' ? 'approved' : 'rejected',
        decidedBy: keyId,
        ...(body.reason ? { reason: body.reason } : {}),
      });
      if (!decision.ok) return refused(id, decision);
      if (verb === 'reject') {
        await tell(l, {
          kind: 'release.approval.rejected',
          severity: 'info',
          subject: name,
          summary: `${keyId} rejected ${approval.requestedBy}'s promote of ${name}`,
        });
        return json(200, { approval: { id, status: 'rejected' } });
      }
      const payload = ApprovedPromote.parse(approval.payload ?? {});
      const outcome = await promote(
        l,
        name,
        target,
        { version: payload.version, image: payload.image, tag: payload.tag, dryRun: false },
        operator(approval.requestedBy),
      );
      await tell(l, {
        kind: 'release.approval.approved',
        severity: 'info',
        subject: name,
        summary: `${keyId} approved ${approval.requestedBy}'s promote of ${name}`,
      });
      const response = promoted(name, outcome);
      return json(response.statusCode, { ...JSON.parse(response.body), approval: { id, approvedBy: keyId } });
    });
  });
}

function refused(id: string, decision: Extract<Decision, { ok: false }>): HttpResponse {
  const answers: Record<typeof decision.reason, [number, string]> = {
    'not-found': [404, `no approval ${id}`],
    'bad-token': [403, 'the approval token does not match'],
    'self-approval': [403, 'the key that asked for a promote cannot approve it'],
    'already-decided': [409, `approval ${id} was already decided`],
    expired: [410, `approval ${id} expired`],
  };
  const [status, message] = answers[decision.reason];
  return json(status, { error: decision.reason, message });
}

const planBody = (plan: Plan) => ({
  dryRun: true,
  plan,
  ...(plan.requiresApproval
    ? {
        message: `a real promote of ${plan.target} waits until another key with the approve role approves it`,
      }
    : {}),
});

/** The one place promote results become HTTP answers. */
function promoted(name: string, r: PromoteResult): HttpResponse {
  switch (r.kind) {
    case 'plan':
      return json(200, planBody(r.plan));
    case 'frozen':
      return json(409, { error: 'Frozen', message: `${name} is frozen: ${r.reason}` });
    case 'in-progress':
      return json(409, {
        error: 'InProgress',
        message: `${name} is already being promoted`,
        release: r.release,
      });
    case 'not-found':
      return json(404, { error: r.error, message: r.message });
    case 'unchanged':
      return json(200, { target: name, message: r.message });
    case 'promoted':
      return json(200, { target: name, promoted: { from: r.from, to: r.to } });
    case 'canary':
    case 'started':
      return json(202, { target: name, release: r.release });
    case 'refused':
      return json(r.status, { error: r.error, message: r.message });
  }
}

function rolledBack(name: string, r: RollbackResult): HttpResponse {
  switch (r.kind) {
    case 'plan':
      return json(200, planBody(r.plan));
    case 'nothing':
      return json(409, { error: 'NothingToRollBack', message: r.message });
    case 'rolled-back':
      return json(200, { target: name, rolledBack: { from: r.from, to: r.to } });
    case 'started':
      return json(202, { target: name, release: r.release });
    case 'refused':
      return json(r.status, { error: r.error, message: r.message });
  }
}

function busy(name: string, b: Busy): HttpResponse {
  return json(409, {
    error: 'InProgress',
    message: `another operation on ${name} is running (${b.holder})`,
    state: { holder: b.holder, until: b.until },
  });
}

function wrongMethod(request: HttpRequest, method: string): HttpResponse {
  return json(
    405,
    { error: 'MethodNotAllowed', message: `use ${method} for ${request.path}` },
    { allow: method },
  );
}
