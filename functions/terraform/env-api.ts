// The environments' endpoints: create, list, show, extend, destroy, and mark a failed destroy handled.
import * as z from 'zod/mini';
import { guarded } from '../../shared/auth/guard.ts';
import { allowed } from '../../shared/auth/roles.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import { type HttpRequest, type HttpResponse, json, parseJsonBody } from '../../shared/events/http.ts';
import { lazySchema } from '../../shared/events/parse.ts';
import { humanText } from '../../shared/events/text.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import { branchHead, GitError } from '../../shared/tools/git.ts';
import { envNotice, startCreate, startDestroy } from './env-lifecycle.ts';
import {
  asEnv,
  DESTROYABLE,
  type Environment,
  hoursBetween,
  LIVE,
  listOrder,
  newEnvId,
  parseDuration,
  whyTtlRefused,
} from './env-model.ts';
import { open } from './seal.ts';
import { planKey, workspaceOf } from './workspace.ts';

const duration = lazySchema(() => z.union([z.number(), z.string().check(z.maxLength(20))]));
const CreateBody = lazySchema(() =>
  z.strictObject({
    template: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/, 'expected a workspace name')),
    /** `4h`, `90m`, `2d`, or hours. The template's defaultTtlHours when absent. */
    ttl: z.optional(duration),
    // Values reach Terraform as environment variables: no control characters (a NUL cannot be one).
    variables: z._default(
      z.record(
        z.string().check(z.regex(/^(?!__proto__$)[A-Za-z_][A-Za-z0-9_-]{0,63}$/, 'expected a variable name')),
        humanText(4096),
      ),
      {},
    ),
    commit: z.optional(
      z.string().check(z.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a full commit id')),
    ),
  }),
);
const ExtendBody = lazySchema(() => z.strictObject({ by: duration }));
const ReasonBody = lazySchema(() => z.strictObject({ reason: z.optional(humanText(500)) }));
const HandledBody = lazySchema(() => z.strictObject({ reason: humanText(500) }));

const ID = '([a-z][a-z0-9-]{0,62})';
const ROUTES: { method: string; path: RegExp; op: string }[] = [
  { method: 'POST', path: /^\/environments\/?$/, op: 'create' },
  { method: 'GET', path: /^\/environments\/?$/, op: 'list' },
  { method: 'GET', path: new RegExp(`^/environments/${ID}/?$`), op: 'show' },
  { method: 'POST', path: new RegExp(`^/environments/${ID}/extend/?$`), op: 'extend' },
  { method: 'POST', path: new RegExp(`^/environments/${ID}/destroy/?$`), op: 'destroy' },
  { method: 'POST', path: new RegExp(`^/environments/${ID}/handled/?$`), op: 'handled' },
];

export const isEnvPath = (path: string) => /^\/environments(\/|$)/.test(path);

/**
 * The environment endpoints (below the terraform function's HTTP trigger), each signed and audited:
 *   POST /environments {template, ttl?, variables?, commit?}  create one                   (env on the template)
 *   GET  /environments[?template=&all=1]                     the live ones, failed destroys first (view)
 *   GET  /environments/<id>                                  one; its outputs only to its owner   (view)
 *   POST /environments/<id>/extend {by}                      later expiry, within maxTtlHours
 *   POST /environments/<id>/destroy {reason?}                destroy it now
 *   POST /environments/<id>/handled {reason}                 a failed destroy was dealt with by hand (destroy)
 * Extend and destroy: the owner with `env` on the template, anyone else with `destroy` on it.
 */
export async function handleEnvironments(request: HttpRequest, ctx: HandlerContext): Promise<HttpResponse> {
  const route = ROUTES.find((r) => r.path.test(request.path) && r.method === request.method);
  if (!route) {
    const other = ROUTES.find((r) => r.path.test(request.path));
    return other
      ? json(
          405,
          { error: 'MethodNotAllowed', message: `use ${other.method} for ${request.path}` },
          { allow: other.method },
        )
      : json(404, { error: 'NotFound', message: `no endpoint ${request.method} ${request.path}` });
  }
  const keys = ctx.config.access.keys;
  const templates = Object.keys(ctx.config.terraform.workspaces);
  if (route.op === 'create') {
    const template = peekTemplate(request);
    return guarded(request, { action: 'env', target: template ?? '(none)' }, ctx.guardDeps, (keyId) =>
      create(request, ctx, keyId),
    );
  }
  if (route.op === 'list')
    return guarded(
      request,
      {
        action: 'view',
        target: 'environments',
        authorize: (k) => templates.some((t) => allowed(keys, k, 'view', t)),
      },
      ctx.guardDeps,
      async (keyId) => {
        const template = request.query.template;
        if (template !== undefined && !/^[a-z][a-z0-9-]{0,62}$/.test(template))
          return json(400, {
            error: 'BadTemplate',
            message: `query.template: expected a workspace name (got ${JSON.stringify(template.slice(0, 80))})`,
          });
        const all = request.query.all === '1' || request.query.all === 'true';
        const found = (
          await ctx.store.listEnvironments({
            ...(template ? { template } : {}),
            ...(all ? {} : { statuses: LIVE }),
            limit: 500,
          })
        )
          .map(asEnv)
          .filter((e) => allowed(keys, keyId, 'view', e.template))
          .sort(listOrder);
        return json(200, { environments: found.map((e) => view(ctx, e, keyId, false)) });
      },
    );
  const id = route.path.exec(request.path)![1]!;
  const found = await ctx.store.getEnvironment(id);
  const env = found ? asEnv(found) : undefined;
  // Acting on someone else's environment takes more than acting on one's own.
  const mine = (k: string) => env !== undefined && env.owner === k;
  const target = env?.template ?? id;
  const access =
    route.op === 'show'
      ? { action: 'view', target }
      : route.op === 'handled'
        ? { action: 'destroy', target }
        : {
            action: route.op,
            target,
            authorize: (k: string) =>
              env === undefined
                ? allowed(keys, k, 'env', target) || allowed(keys, k, 'destroy', target)
                : mine(k)
                  ? allowed(keys, k, 'env', target)
                  : allowed(keys, k, 'destroy', target),
          };
  return guarded(request, access, ctx.guardDeps, async (keyId) => {
    if (!env) return json(404, { error: 'EnvironmentNotFound', message: `no environment ${id}` });
    switch (route.op) {
      case 'show':
        return json(200, view(ctx, env, keyId, true));
      case 'extend':
        return extend(request, ctx, env, keyId);
      case 'destroy':
        return destroyNow(request, ctx, env, keyId);
      default:
        return handled(request, ctx, env, keyId);
    }
  });
}

/** The template a create names, for authorization before the body is validated as a whole. */
function peekTemplate(request: HttpRequest): string | undefined {
  try {
    const body = JSON.parse(request.body.toString('utf8')) as { template?: unknown };
    return typeof body.template === 'string' && /^[a-z][a-z0-9-]{0,62}$/.test(body.template)
      ? body.template
      : undefined;
  } catch {
    return undefined;
  }
}

const hoursOf = (value: number | string, field: string) => {
  const hours = typeof value === 'number' ? value : parseDuration(value);
  if (hours === undefined)
    return {
      error: `${field}: expected a duration like 90m, 4h or 2d, or a number of hours (got ${JSON.stringify(value)})`,
    };
  // Beyond a year no template allows it, and far beyond, the date it gives does not exist.
  if (!Number.isFinite(hours) || Math.abs(hours) > 24 * 366)
    return { error: `${field}: at most a year (24 * 366 hours; got ${JSON.stringify(value)})` };
  return { hours };
};

async function create(request: HttpRequest, ctx: HandlerContext, keyId: string) {
  const body = parseJsonBody(request, CreateBody);
  const ws = workspaceOf(ctx.config, body.template);
  if (!ws)
    return json(404, { error: 'TemplateNotFound', message: `no terraform workspace named ${body.template}` });
  const template = ws.environments;
  if (!template)
    return json(400, {
      error: 'NotATemplate',
      message: `workspace ${body.template} makes no environments: give it an environments block in fc-devops.yaml`,
    });
  const ttl = hoursOf(body.ttl ?? template.defaultTtlHours, 'body.ttl');
  if ('error' in ttl) return json(400, { error: 'BadTtl', message: ttl.error });
  const refused = whyTtlRefused(ttl.hours, template, body.template);
  if (refused)
    return json(400, { error: 'BadTtl', message: `body.ttl: ${refused}`, maxTtlHours: template.maxTtlHours });
  let commit = body.commit;
  if (!commit) {
    const branch = ws.branches.find((b) => !b.includes('*'));
    if (!ws.repository || !branch)
      return json(400, {
        error: 'CommitNeeded',
        message: `workspace ${body.template} has no fixed branch to take the newest commit of: give a commit`,
      });
    try {
      commit = await branchHead(
        {
          url: ws.repository.url,
          token: ws.repository.token ? resolveSecret(ws.repository.token, process.env) : undefined,
          host: ws.repository.host,
        },
        branch,
      );
    } catch (error) {
      if (error instanceof GitError && error.permanent)
        return json(400, { error: 'CommitNeeded', message: error.message });
      throw error;
    }
  }
  const now = ctx.now();
  let id = newEnvId(body.template);
  // An environment's state is kept under its id: never one a workspace of the config already has.
  while (workspaceOf(ctx.config, id)) id = newEnvId(body.template);
  const created = asEnv(
    await ctx.store.createEnvironment({
      id,
      template: body.template,
      owner: keyId,
      status: 'creating',
      expiresAt: new Date(now.getTime() + ttl.hours * 3_600_000),
      meta: {
        source: { kind: 'commit', repository: ws.repository?.url ?? '', commit, ref: '' },
        variables: body.variables,
        ttlHours: Math.round(ttl.hours * 100) / 100,
        op: { kind: 'create', attempt: 1, startedAt: now.toISOString(), by: keyId },
      },
    }),
  );
  const job = await startCreate(ctx, created);
  return json(202, { ...view(ctx, created, keyId, true), job: job.id });
}

async function extend(request: HttpRequest, ctx: HandlerContext, env: Environment, keyId: string) {
  const body = parseJsonBody(request, ExtendBody);
  const by = hoursOf(body.by, 'body.by');
  if ('error' in by) return json(400, { error: 'BadDuration', message: by.error });
  const template = workspaceOf(ctx.config, env.template)?.environments;
  if (!template)
    return json(409, {
      error: 'TemplateGone',
      message: `template ${env.template} is no longer in the config`,
    });
  if (!(by.hours > 0))
    return json(400, {
      error: 'BadDuration',
      message: `body.by: must be more than zero (got ${by.hours} h)`,
    });
  if (!['creating', 'active', 'create-failed'].includes(env.status))
    return json(409, { error: 'NotExtendable', message: `environment ${env.id} is ${env.status}` });
  const cap = new Date(env.createdAt.getTime() + template.maxTtlHours * 3_600_000);
  if (env.expiresAt >= cap)
    return json(400, {
      error: 'BadDuration',
      message: `${env.template} environments live at most ${template.maxTtlHours} h (maxTtlHours) from their creation; ${env.id} already ends then`,
      maxTtlHours: template.maxTtlHours,
    });
  const wanted = new Date(env.expiresAt.getTime() + by.hours * 3_600_000);
  const expiresAt = wanted > cap ? cap : wanted;
  const moved = await ctx.store.updateEnvironment(env.id, {
    from: [env.status],
    to: env.status,
    expiresAt,
    meta: {
      extensions: [
        ...(env.meta.extensions ?? []),
        {
          by: keyId,
          at: ctx.now().toISOString(),
          hours: hoursBetween(env.expiresAt, expiresAt),
          expiresAt: expiresAt.toISOString(),
        },
      ],
    },
  });
  if (!moved)
    return json(409, { error: 'Changed', message: `environment ${env.id} changed meanwhile: try again` });
  const after = asEnv(moved);
  await ctx.store.audit({
    actor: keyId,
    action: 'env.extend',
    target: env.id,
    decision: 'done',
    details: { from: env.expiresAt.toISOString(), to: expiresAt.toISOString(), capped: wanted > cap },
  });
  await envNotice(ctx, after, {
    kind: 'terraform.env.extended',
    severity: 'info',
    summary: `${keyId} extended environment ${env.id} until ${expiresAt.toISOString()}${wanted > cap ? ` (capped at ${template.maxTtlHours} h from its creation)` : ''}`,
  });
  return json(200, {
    ...view(ctx, after, keyId, false),
    ...(wanted > cap
      ? { message: `capped at maxTtlHours (${template.maxTtlHours} h from its creation)` }
      : {}),
  });
}

async function destroyNow(request: HttpRequest, ctx: HandlerContext, env: Environment, keyId: string) {
  const { reason } = parseJsonBody(request, z._default(ReasonBody, {}));
  if (!DESTROYABLE.includes(env.status)) {
    const running = env.status === 'creating' || env.status === 'destroying';
    return json(409, {
      error: running ? 'OperationRunning' : 'NotDestroyable',
      message: running
        ? `environment ${env.id} is ${env.status}${env.meta.op?.awaitingApproval ? ` (plan ${env.meta.op.planId} waits for approval)` : ''}: wait for it to end`
        : `environment ${env.id} is ${env.status}`,
      ...(running && env.meta.op ? { operation: env.meta.op } : {}),
    });
  }
  const attempt =
    env.status === 'destroy-failed' && env.meta.op?.kind === 'destroy' ? env.meta.op.attempt + 1 : 1;
  const started = await startDestroy(ctx, env, {
    from: [env.status],
    by: keyId,
    reason: reason ?? `destroyed by ${keyId}`,
    attempt,
  });
  if (!started)
    return json(409, { error: 'Changed', message: `environment ${env.id} changed meanwhile: look again` });
  return json(202, view(ctx, started, keyId, false));
}

async function handled(request: HttpRequest, ctx: HandlerContext, env: Environment, keyId: string) {
  const { reason } = parseJsonBody(request, HandledBody);
  const moved = await ctx.store.updateEnvironment(env.id, {
    from: ['destroy-failed'],
    to: 'handled',
    meta: { handledBy: keyId, handledReason: reason, nextAttemptAt: null },
  });
  if (!moved)
    return json(409, {
      error: 'NotDestroyFailed',
      message: `environment ${env.id} is ${env.status}, not destroy-failed`,
    });
  const after = asEnv(moved);
  await envNotice(ctx, after, {
    kind: 'terraform.env.handled',
    severity: 'warning',
    summary: `${keyId} marked the failed destroy of environment ${env.id} handled: ${reason}`,
  });
  return json(200, view(ctx, after, keyId, false));
}

/** What anyone who may view it sees; the outputs (connection strings) only its owner, in full. */
function view(ctx: HandlerContext, env: Environment, keyId: string, withOutputs: boolean) {
  const m = env.meta;
  const mine = env.owner === keyId;
  let outputs: Record<string, unknown> | undefined;
  if (withOutputs && m.outputs) {
    outputs = mine
      ? (JSON.parse(
          open(Buffer.from(m.outputs, 'base64'), planKey(ctx.config), env.id).toString('utf8'),
        ) as Record<string, unknown>)
      : Object.fromEntries((m.outputNames ?? []).map((n) => [n, `(shown to its owner, ${env.owner})`]));
  }
  return {
    id: env.id,
    template: env.template,
    owner: env.owner,
    status: env.status,
    createdAt: env.createdAt.toISOString(),
    expiresAt: env.expiresAt.toISOString(),
    ttlHours: m.ttlHours,
    source: m.source,
    variables: mine ? m.variables : Object.keys(m.variables ?? {}),
    ...(m.op ? { operation: m.op } : {}),
    ...(m.failure ? { failure: m.failure } : {}),
    ...(m.nextAttemptAt ? { nextAttemptAt: m.nextAttemptAt } : {}),
    ...(m.extensions ? { extensions: m.extensions } : {}),
    ...(m.destroyedAt ? { destroyedAt: m.destroyedAt, hoursLived: m.hoursLived } : {}),
    ...(m.handledBy ? { handledBy: m.handledBy, handledReason: m.handledReason } : {}),
    ...(outputs ? { outputs } : {}),
  };
}
