import { authenticate, guarded } from '../../shared/auth/guard.ts';
import { allowed } from '../../shared/auth/roles.ts';
import type { HttpRequest, HttpResponse } from '../../shared/events/http.ts';
import { json } from '../../shared/events/http.ts';
import { defineHandler, type HandlerContext } from '../../shared/runtime/define-handler.ts';
import { RunStatus } from '../../shared/store/port.ts';
import { type Chrome, errorPage, h, layout, page, table } from './html.ts';
import { runRows, stagesHtml } from './runs-view.ts';
import { SECTIONS, sectionPage, sectionPost, visibleSections } from './sections.ts';
import {
  asSession,
  csrfOf,
  csrfProblem,
  SESSION_TTL_MS,
  sessionCookie,
  sessionKey,
  signIn,
  WRONG,
} from './session.ts';
import { CSS, JS } from './static.ts';

/** Where the console's trigger is mounted as the browser sees it (`/console` under npm start). */
const base = () => (process.env.FC_DEVOPS_HTTP_PREFIX ?? '').replace(/\/+$/, '');

const redirect = (to: string, headers: Record<string, string> = {}): HttpResponse => ({
  statusCode: 303,
  headers: { location: to, 'cache-control': 'no-store', ...headers },
  body: '',
});

function form(request: HttpRequest): Record<string, string> {
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return {};
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of new URLSearchParams(request.body.toString('utf8'))) out[k] = v;
  return out;
}

export const handler = defineHandler({
  http: (request, ctx) => route(request, ctx),
});

async function route(request: HttpRequest, ctx: HandlerContext): Promise<HttpResponse> {
  const b = base();
  const path = request.path.replace(/\/+$/, '') || '/';
  if (request.method === 'GET' && path === '/static/console.css')
    return asset(CSS, 'text/css; charset=utf-8');
  if (request.method === 'GET' && path === '/static/console.js')
    return asset(JS, 'text/javascript; charset=utf-8');
  const keys = ctx.config.access.keys;
  const chrome: Chrome = { base: b, title: 'Sign in' };
  if (path === '/sign-in') return request.method === 'POST' ? signInPost(request, ctx) : signInPage(chrome);
  if (path.startsWith('/api/')) return api(request, ctx, path);

  const who = await sessionKey(request, { keys, store: ctx.store });
  if (!who) {
    if (request.method === 'GET') return redirect(`${b}/sign-in`);
    return errorPage(chrome, 401, 'Your session ended: sign in again.');
  }
  const c: Chrome = {
    base: b,
    title: '',
    keyId: who.keyId,
    csrf: csrfOf(who.token),
    sections: visibleSections(ctx.config, who.keyId),
  };
  if (request.method === 'POST') {
    const fields = form(request);
    const bad = csrfProblem(request, who.token, fields);
    if (bad) {
      await ctx.store.audit({
        actor: who.keyId,
        action: 'console',
        target: path.slice(0, 200),
        decision: 'refused',
        reason: bad,
        ...(request.sourceIp ? { source: request.sourceIp } : {}),
      });
      return errorPage(c, 403, `Refused: ${bad}.`);
    }
    if (path === '/sign-out') {
      await ctx.store.deleteSession((await import('../../shared/util/hash.ts')).sha256Hex(who.token));
      return redirect(`${b}/sign-in`, { 'set-cookie': sessionCookie(request, b, '', 0) });
    }
    const cancel = /^\/runs\/([A-Za-z0-9_-]{1,80})\/cancel$/.exec(path);
    if (cancel) {
      const answer = await cancelRun(asSession(request, who.token), ctx, cancel[1]!);
      if (answer.statusCode >= 400) return errorPage(c, answer.statusCode, messageOf(answer));
      return redirect(`${b}/runs/${encodeURIComponent(cancel[1]!)}`);
    }
    return sectionPost(request, ctx, c, who, path, fields);
  }
  if (request.method !== 'GET') return errorPage(c, 405, `${request.method} is not used here`);
  if (path === '/') return redirect(`${b}${c.sections?.[0]?.path ?? '/runs'}`);
  if (path === '/runs') return runsPage(request, ctx, c, who.keyId);
  const one = /^\/runs\/([A-Za-z0-9_-]{1,80})$/.exec(path);
  if (one) return runPage(ctx, c, who.keyId, one[1]!);
  if (path === '/audit') return auditPage(request, ctx, c, who.keyId);
  if (SECTIONS.some((s) => s.path === path)) return sectionPage(ctx, c, who, path);
  return errorPage({ ...c }, 404, `There is no page ${path}.`);
}

function asset(body: string, type: string): HttpResponse {
  return {
    statusCode: 200,
    headers: {
      'content-type': type,
      'cache-control': 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    },
    body,
  };
}

function signInPage(c: Chrome, message?: string, status = 200): HttpResponse {
  return page(
    status,
    layout(
      c,
      h`<form class="signin" method="post" action="${c.base}/sign-in">
${message ? h`<p class="error" data-test="error">${message}</p>` : ''}
<label>Access key <input name="key" autocomplete="username" required maxlength="64"></label>
<label>Secret <input name="secret" type="password" autocomplete="current-password" required maxlength="512"></label>
<button data-test="sign-in">Sign in</button></form>`,
    ),
  );
}

async function signInPost(request: HttpRequest, ctx: HandlerContext): Promise<HttpResponse> {
  const b = base();
  const fields = form(request);
  const origin = request.headers.origin;
  if (origin && origin !== 'null' && safeHost(origin) !== request.headers.host)
    return signInPage({ base: b, title: 'Sign in' }, 'Refused: a sign-in from another origin.', 403);
  const source = request.sourceIp ?? 'unknown';
  const result = await signIn(
    { keyId: fields.key ?? '', secret: fields.secret ?? '', source },
    { keys: ctx.config.access.keys, store: ctx.store, env: process.env },
  );
  await ctx.store.audit({
    actor: result.keyId && Object.hasOwn(ctx.config.access.keys, result.keyId) ? result.keyId : 'anonymous',
    action: 'sign-in',
    target: 'console',
    decision: result.ok ? 'allowed' : 'refused',
    ...(result.ok ? {} : { reason: result.status === 429 ? 'rate limited' : WRONG }),
    source,
    details: { requestId: request.requestId, status: result.ok ? 303 : result.status },
  });
  if (!result.ok) return signInPage({ base: b, title: 'Sign in' }, result.message, result.status);
  return redirect(`${b}/`, { 'set-cookie': sessionCookie(request, b, result.token, SESSION_TTL_MS / 1000) });
}

function safeHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function messageOf(response: HttpResponse): string {
  try {
    const body = JSON.parse(response.body) as { message?: string };
    return body.message ?? `HTTP ${response.statusCode}`;
  } catch {
    return `HTTP ${response.statusCode}`;
  }
}

const mayViewRuns = (ctx: HandlerContext, keyId: string) =>
  allowed(ctx.config.access.keys, keyId, 'view', 'runs');

async function runsPage(request: HttpRequest, ctx: HandlerContext, c: Chrome, keyId: string) {
  if (!mayViewRuns(ctx, keyId)) return errorPage(c, 403, `Key ${keyId} may not view runs.`);
  const q = request.query;
  const status = RunStatus.includes(q.status as RunStatus) ? (q.status as RunStatus) : undefined;
  const pageOf = await ctx.store.listRuns({
    limit: 50,
    ...(q.kind ? { kind: q.kind.slice(0, 100) } : {}),
    ...(q.subject ? { subject: q.subject.slice(0, 500) } : {}),
    ...(status ? { status } : {}),
    ...(q.cursor ? { cursor: q.cursor } : {}),
  });
  const now = ctx.now();
  const filters = new URLSearchParams(
    Object.entries({ kind: q.kind, subject: q.subject, status }).filter((e): e is [string, string] => !!e[1]),
  );
  return page(
    200,
    layout(
      { ...c, title: 'Runs', current: '/runs' },
      h`<form method="get" action="${c.base}/runs" class="filters">
<input name="kind" placeholder="kind" value="${q.kind ?? ''}"> <input name="subject" placeholder="subject" value="${q.subject ?? ''}">
<select name="status"><option value="">any status</option>${RunStatus.map((s) => h`<option${s === status ? h` selected` : ''}>${s}</option>`)}</select>
<button>Filter</button></form>
${table(['run', 'kind', 'subject', 'status', 'created', 'took', 'stage'], runRows(c, pageOf.runs, now), 'runs')}
${pageOf.next ? h`<p><a href="${c.base}/runs?${filters.toString()}${filters.size ? '&' : ''}cursor=${pageOf.next}">Older runs</a></p>` : ''}`,
    ),
  );
}

async function runPage(ctx: HandlerContext, c: Chrome, keyId: string, id: string) {
  if (!mayViewRuns(ctx, keyId)) return errorPage(c, 403, `Key ${keyId} may not view runs.`);
  const run = await ctx.store.getRun(id);
  if (!run) return errorPage(c, 404, `There is no run ${id}.`);
  const log = await ctx.store.readRunLogFrom(id, 0);
  const live = run.status === 'running' || run.status === 'queued';
  const canCancel = live && allowed(ctx.config.access.keys, keyId, 'run', 'runs');
  const now = ctx.now();
  const { actionForm } = await import('./html.ts');
  return page(
    200,
    layout(
      { ...c, title: `Run ${run.id}`, current: '/runs' },
      h`<dl><dt>kind</dt><dd>${run.kind}</dd><dt>subject</dt><dd>${run.subject}</dd>
<dt>status</dt><dd><span id="status" class="status-${run.status}" data-test="status">${run.status}</span>${
        run.cancelRequestedAt
          ? h` (cancel asked by ${run.cancelRequestedBy} at ${run.cancelRequestedAt.toISOString()})`
          : ''
      }</dd><dt>created</dt><dd>${run.createdAt.toISOString()}</dd><dt>attempt</dt><dd>${run.attempt}</dd>
${run.error ? h`<dt>error</dt><dd><code>${JSON.stringify(run.error)}</code></dd>` : ''}
${run.result !== null ? h`<dt>result</dt><dd><code>${JSON.stringify(run.result).slice(0, 2000)}</code></dd>` : ''}</dl>
${canCancel ? h`<div id="cancel">${actionForm(c, `/runs/${encodeURIComponent(run.id)}/cancel`, 'Cancel run', '', { danger: true, test: 'cancel' })}</div>` : ''}
<h2>Stages</h2><div id="stages">${stagesHtml(run, now)}</div>
<h2>Log</h2><pre class="log" id="log" data-test="log" data-run="${run.id}" data-offset="${log.next}" data-live="${live ? '1' : '0'}">${log.text}</pre>`,
    ),
  );
}

async function auditPage(request: HttpRequest, ctx: HandlerContext, c: Chrome, keyId: string) {
  if (!allowed(ctx.config.access.keys, keyId, 'view', 'audit'))
    return errorPage(c, 403, `Key ${keyId} may not view the audit log.`);
  const q = request.query;
  const records = await ctx.store.listAudit({
    limit: 200,
    ...(q.actor ? { actor: q.actor.slice(0, 200) } : {}),
    ...(q.target ? { target: q.target.slice(0, 500) } : {}),
  });
  return page(
    200,
    layout(
      { ...c, title: 'Audit log', current: '/audit' },
      h`<form method="get" action="${c.base}/audit"><input name="actor" placeholder="actor" value="${q.actor ?? ''}"> <input name="target" placeholder="target" value="${q.target ?? ''}"> <button>Filter</button></form>
${table(
  ['at', 'actor', 'action', 'target', 'decision', 'reason', 'source'],
  records.map((r) => [
    r.at.toISOString(),
    r.actor,
    r.action,
    r.target,
    r.decision,
    r.reason ?? '',
    r.source ?? '',
  ]),
  'audit',
)}`,
    ),
  );
}

/**
 * The runs API, for the live log and for the CLI: a signed request or a console session. Reads
 * are not audited (the live log asks every second); a cancel is, through the gate.
 */
async function api(request: HttpRequest, ctx: HandlerContext, path: string): Promise<HttpResponse> {
  const keys = ctx.config.access.keys;
  const cancel = /^\/api\/runs\/([A-Za-z0-9_-]{1,80})\/cancel$/.exec(path);
  const session = await sessionKey(request, { keys, store: ctx.store });
  let req = request;
  if (session) {
    if (request.method !== 'GET') {
      const bad = csrfProblem(request, session.token, {});
      if (bad) return json(403, { error: 'Forbidden', message: bad });
    }
    req = asSession(request, session.token);
  }
  if (cancel && request.method === 'POST') return cancelRun(req, ctx, cancel[1]!);
  if (request.method !== 'GET')
    return json(405, { error: 'MethodNotAllowed', message: `use GET for ${path}` });
  const who = await authenticate(req, keys, ctx.guardDeps);
  if (!who.ok) return json(401, { error: 'Unauthorized', message: who.reason });
  if (!mayViewRuns(ctx, who.keyId))
    return json(403, { error: 'Forbidden', message: `key ${who.keyId} may not view runs` });
  if (path === '/api/runs') {
    const q = request.query;
    if (q.status && !RunStatus.includes(q.status as RunStatus))
      return json(400, { error: 'BadStatus', message: `query.status: one of ${RunStatus.join(', ')}` });
    return json(
      200,
      await ctx.store.listRuns({
        limit: Math.min(Number(q.limit ?? 20) || 20, 500),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.subject ? { subject: q.subject } : {}),
        ...(q.status ? { status: q.status as RunStatus } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      }),
    );
  }
  const m = /^\/api\/runs\/([A-Za-z0-9_-]{1,80})(\/log)?$/.exec(path);
  if (!m) return json(404, { error: 'NotFound', message: `no endpoint GET ${path}` });
  const run = await ctx.store.getRun(m[1]!);
  if (!run) return json(404, { error: 'RunNotFound', message: `no run ${m[1]}` });
  if (!m[2]) return json(200, run);
  const offset = Number(request.query.offset ?? 0);
  const log = await ctx.store.readRunLogFrom(run.id, Number.isFinite(offset) ? offset : 0);
  return json(200, {
    status: run.status,
    stages: run.stages,
    stagesHtml: stagesHtml(run, ctx.now()).html,
    text: log.text,
    next: log.next,
  });
}

/** Ask a run to stop: the gate checks the `run` action on `runs` and audits it. */
function cancelRun(request: HttpRequest, ctx: HandlerContext, id: string): Promise<HttpResponse> {
  return guarded(
    request,
    {
      action: 'cancel',
      target: `runs/${id}`,
      authorize: (k) => allowed(ctx.config.access.keys, k, 'run', 'runs'),
    },
    ctx.guardDeps,
    async (keyId) => {
      const run = await ctx.store.requestCancel(id, keyId);
      if (!run) return json(404, { error: 'RunNotFound', message: `no run ${id}` });
      if (
        run.status === 'succeeded' ||
        run.status === 'failed' ||
        (run.status === 'cancelled' && !run.cancelRequestedBy)
      )
        return json(409, { error: 'RunFinished', message: `run ${id} already ended ${run.status}`, run });
      return json(202, {
        message:
          run.status === 'cancelled'
            ? `run ${id} cancelled`
            : `run ${id} asked to stop; it ends at its next check`,
        run,
      });
    },
  );
}
