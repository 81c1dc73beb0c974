import type { Config } from '../config/schema/index.ts';
import { resolveSecret } from '../config/secret-ref.ts';
import { type HttpRequest, type HttpResponse, json } from '../events/http.ts';
import type { Store } from '../store/port.ts';
import { safeEqual } from '../util/compare.ts';
import { sha256Hex } from '../util/hash.ts';
import { type Action, allowed } from './roles.ts';
import { SCHEME, signature } from './signing.ts';

export const SKEW_SECONDS = 300;

export type AuthResult =
  | { ok: true; keyId: string }
  | { ok: false; status: 401 | 403; reason: string; keyId: string | undefined };

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
  const key = keys[keyId];
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

/**
 * The gate in front of every endpoint that changes something: authenticate, authorize the action on
 * the target, and write an audit record for every attempt, allowed or refused. Returns the key id,
 * or the 401/403 response to send.
 */
export async function guard(
  request: HttpRequest,
  access: { action: Action; target: string },
  deps: { keys: Config['access']['keys']; store: Store; now: () => Date; env?: NodeJS.ProcessEnv },
): Promise<{ ok: true; keyId: string } | { ok: false; response: HttpResponse }> {
  const who = await authenticate(request, deps.keys, deps);
  let result: AuthResult = who;
  if (who.ok && !allowed(deps.keys, who.keyId, access.action, access.target)) {
    result = {
      ok: false,
      status: 403,
      reason: `key ${who.keyId} may not ${access.action} ${access.target}`,
      keyId: who.keyId,
    };
  }
  await deps.store.audit({
    actor: result.keyId ?? 'anonymous',
    action: access.action,
    target: access.target,
    decision: result.ok ? 'allowed' : 'refused',
    ...(result.ok ? {} : { reason: result.reason }),
    ...(request.sourceIp ? { source: request.sourceIp } : {}),
    details: { method: request.method, path: request.path, requestId: request.requestId },
  });
  if (result.ok) return result;
  const error = result.status === 401 ? 'Unauthorized' : 'Forbidden';
  return {
    ok: false,
    response: json(
      result.status,
      { error, message: result.reason },
      result.status === 401 ? { 'www-authenticate': SCHEME } : {},
    ),
  };
}

/**
 * A `POST` endpoint that runs something: 404 unless the method and path match, else `guard` for the
 * action `run` on the target the path names (or a fixed one).
 */
export async function guardRunEndpoint(
  request: HttpRequest,
  path: RegExp,
  target: (match: RegExpExecArray) => string,
  deps: { keys: Config['access']['keys']; store: Store; now: () => Date; env?: NodeJS.ProcessEnv },
): Promise<{ ok: true; keyId: string; target: string } | { ok: false; response: HttpResponse }> {
  const m = path.exec(request.path);
  if (!m || request.method !== 'POST')
    return {
      ok: false,
      response: json(404, { error: 'NotFound', message: `no endpoint ${request.method} ${request.path}` }),
    };
  const name = target(m);
  const gate = await guard(request, { action: 'run', target: name }, deps);
  return gate.ok ? { ...gate, target: name } : gate;
}
