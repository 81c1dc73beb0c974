import type { Config } from '../config/schema/index.ts';
import { resolveSecret } from '../config/secret-ref.ts';
import { type HttpRequest, type HttpResponse, json } from '../events/http.ts';
import { ConflictError, KeyReuseError, ParseError } from '../runtime/errors.ts';
import { redactString } from '../runtime/redact.ts';
import type { Store } from '../store/port.ts';
import { safeEqual } from '../util/compare.ts';
import { sha256Hex } from '../util/hash.ts';
import { own } from '../util/records.ts';
import { type Action, allowed } from './roles.ts';
import { SCHEME, SESSION_SCHEME, signature } from './signing.ts';

export const SKEW_SECONDS = 300;

/**
 * Who is calling: a request signed with an access key's secret (see signing.ts), or a bearer token
 * whose SHA-256 a key lists. Nonces are remembered for twice the skew window, so a captured request
 * cannot be replayed.
 */
export async function authenticate(
  request: HttpRequest,
  keys: Config['access']['keys'],
  deps: { store: Store; now: () => Date; env?: NodeJS.ProcessEnv },
): Promise<
  { ok: true; keyId: string } | { ok: false; status: 401; reason: string; keyId: string | undefined }
> {
  const auth = request.headers.authorization ?? '';
  const session = new RegExp(`^${SESSION_SCHEME} ([A-Za-z0-9_-]{43})$`).exec(auth);
  if (session) {
    // A console sign-in (functions/console): the console checked the CSRF token before sending it on.
    const found = await deps.store.getSession(sha256Hex(session[1]!));
    return found && own(keys, found.keyId)
      ? { ok: true, keyId: found.keyId }
      : { ok: false, status: 401, reason: 'console session unknown or expired', keyId: found?.keyId };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
  if (bearer) {
    const digest = sha256Hex(bearer[1]!);
    const keyId = Object.entries(keys).find(
      ([, k]) => k.tokenSha256 && safeEqual(k.tokenSha256, digest),
    )?.[0];
    return keyId
      ? { ok: true, keyId }
      : { ok: false, status: 401, reason: 'unknown bearer token', keyId: undefined };
  }
  const signed = new RegExp(`^${SCHEME} Key=([A-Za-z0-9_-]{3,64}),Signature=([0-9a-f]{64})$`).exec(auth);
  if (!signed)
    return {
      ok: false,
      status: 401,
      reason: auth ? 'malformed Authorization header' : 'no credentials',
      keyId: undefined,
    };
  const keyId = signed[1]!;
  const key = own(keys, keyId);
  const secret = key?.secret ? resolveSecret(key.secret, deps.env ?? process.env) : undefined;
  if (!secret) return { ok: false, status: 401, reason: 'unknown key', keyId };
  const timestamp = request.headers['x-fc-devops-timestamp'] ?? '';
  const nonce = request.headers['x-fc-devops-nonce'] ?? '';
  const bodySha256 = sha256Hex(request.body);
  if (
    !/^\d{9,11}$/.test(timestamp) ||
    Math.abs(deps.now().getTime() / 1000 - Number(timestamp)) > SKEW_SECONDS
  ) {
    return { ok: false, status: 401, reason: 'timestamp missing or outside the allowed clock skew', keyId };
  }
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(nonce))
    return { ok: false, status: 401, reason: 'nonce missing or malformed', keyId };
  if ((request.headers['x-fc-devops-content-sha256'] ?? bodySha256) !== bodySha256) {
    return { ok: false, status: 401, reason: 'body does not match its hash', keyId };
  }
  const expected = signature(secret, {
    method: request.method,
    path: request.path,
    query: request.query,
    timestamp,
    nonce,
    bodySha256,
  });
  if (!safeEqual(expected, signed[2]!))
    return { ok: false, status: 401, reason: 'signature does not match', keyId };
  // Remember the nonce after the signature checks out, so forged requests cannot burn nonces.
  const claim = await deps.store.claim(`auth-nonce:${keyId}:${nonce}`, {
    owner: keyId,
    leaseMs: 2 * SKEW_SECONDS * 1000,
    ttlMs: 2 * SKEW_SECONDS * 1000,
  });
  if (claim.status !== 'claimed')
    return { ok: false, status: 401, reason: 'nonce already used (replay)', keyId };
  await deps.store.complete(`auth-nonce:${keyId}:${nonce}`, keyId, null);
  return { ok: true, keyId };
}

export interface GuardDeps {
  keys: Config['access']['keys'];
  store: Store;
  now: () => Date;
  env?: NodeJS.ProcessEnv;
}

export interface Access {
  /** What the caller does (`promote`, `approve`, `reject`, `run`, ...), as the audit log records it. */
  action: string;
  target: string;
  /** Who may: by default a key whose roles allow `action` on `target`. */
  authorize?: (keyId: string) => boolean;
}

/**
 * The gate in front of every operator endpoint: authenticate, authorize the action on the target,
 * run `handle` for the caller, and write one audit record of what happened. A request refused at
 * the gate (401, 403) is recorded refused with the reason; one the handler refuses (a 4xx answer,
 * or an error the runtime answers with one: a bad body, a conflict) is recorded refused with the
 * answer's message; one that failed (a 5xx, an unexpected error) is recorded failed. Only an
 * answer below 400 is recorded allowed.
 */
export async function guarded(
  request: HttpRequest,
  access: Access,
  deps: GuardDeps,
  handle: (keyId: string) => Promise<HttpResponse>,
): Promise<HttpResponse> {
  const record = (
    actor: string,
    decision: 'allowed' | 'refused' | 'failed',
    reason?: string,
    status?: number,
  ) =>
    deps.store.audit({
      actor,
      action: access.action,
      target: access.target,
      decision,
      ...(reason ? { reason: reason.slice(0, 2000) } : {}),
      ...(request.sourceIp ? { source: request.sourceIp } : {}),
      details: {
        method: request.method,
        path: request.path,
        requestId: request.requestId,
        status: status ?? null,
      },
    });
  const refuse = async (status: 401 | 403, reason: string, actor: string) => {
    await record(actor, 'refused', reason, status);
    return json(
      status,
      { error: status === 401 ? 'Unauthorized' : 'Forbidden', message: reason },
      status === 401 ? { 'www-authenticate': SCHEME } : {},
    );
  };
  const who = await authenticate(request, deps.keys, deps);
  if (!who.ok) return refuse(401, who.reason, who.keyId ?? 'anonymous');
  const keyId = who.keyId;
  const may =
    access.authorize ?? ((k: string) => allowed(deps.keys, k, access.action as Action, access.target));
  if (!may(keyId)) return refuse(403, `key ${keyId} may not ${access.action} ${access.target}`, keyId);
  let response: HttpResponse;
  try {
    response = await handle(keyId);
  } catch (error) {
    // The errors the runtime answers with a 4xx are refusals; anything else failed.
    const refused =
      error instanceof ParseError || error instanceof ConflictError || error instanceof KeyReuseError;
    await record(
      keyId,
      refused ? 'refused' : 'failed',
      redactString(`${(error as Error).name}: ${(error as Error).message}`),
    );
    throw error;
  }
  const status = response.statusCode;
  await record(
    keyId,
    status < 400 ? 'allowed' : status < 500 ? 'refused' : 'failed',
    status < 400 ? undefined : messageOf(response),
    status,
  );
  return response;
}

/** The `message` of a JSON error answer, else its status. */
function messageOf(response: HttpResponse): string {
  try {
    const body = JSON.parse(response.body) as { message?: unknown; error?: unknown };
    if (typeof body.message === 'string') return body.message;
    if (typeof body.error === 'string') return body.error;
  } catch {}
  return `HTTP ${response.statusCode}`;
}

/**
 * A `POST` endpoint that runs something: 404 unless the method and path match, else `guarded` for
 * the action `run` on the target the path names (or a fixed one).
 */
export async function guardedRun(
  request: HttpRequest,
  path: RegExp,
  target: (match: RegExpExecArray) => string,
  deps: GuardDeps,
  handle: (keyId: string, target: string) => Promise<HttpResponse>,
): Promise<HttpResponse> {
  const m = path.exec(request.path);
  if (!m || request.method !== 'POST')
    return json(404, { error: 'NotFound', message: `no endpoint ${request.method} ${request.path}` });
  const name = target(m);
  return guarded(request, { action: 'run', target: name }, deps, (keyId) => handle(keyId, name));
}
