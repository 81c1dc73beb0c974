import { createHmac, randomBytes } from 'node:crypto';
import { SESSION_SCHEME } from '../../shared/auth/signing.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import type { HttpRequest } from '../../shared/events/http.ts';
import type { Store } from '../../shared/store/port.ts';
import { safeEqual } from '../../shared/util/compare.ts';
import { sha256Hex } from '../../shared/util/hash.ts';
import { own } from '../../shared/util/records.ts';

export const COOKIE = 'fcd_session';
export const SESSION_TTL_MS = 8 * 3_600_000;
/** Sign-in attempts per key, and per source address, in a sliding minute. */
export const SIGN_IN_LIMIT = 5;
const SIGN_IN_LIMIT_PER_SOURCE = 20;
const SIGN_IN_WINDOW_MS = 60_000;

export function cookies(request: HttpRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(/;\s*/)) {
    const at = part.indexOf('=');
    if (at > 0) out[part.slice(0, at)] = part.slice(at + 1);
  }
  return out;
}

/** The session token the browser sent, if it looks like one we issue. */
export function sessionToken(request: HttpRequest): string | undefined {
  const token = Object.hasOwn(cookies(request), COOKIE) ? cookies(request)[COOKIE] : undefined;
  return token && /^[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
}

/** The CSRF token of a session: derived from it, so nothing more is stored, and useless without it. */
export function csrfOf(token: string): string {
  return createHmac('sha256', token).update('fc-devops console csrf').digest('base64url');
}

/** The request as the gate sees a console call: the session as its credential. */
export function asSession(request: HttpRequest, token: string): HttpRequest {
  return { ...request, headers: { ...request.headers, authorization: `${SESSION_SCHEME} ${token}` } };
}

/** HTTPS as the browser sees it (FC's gateway says so in X-Forwarded-Proto). */
export function overHttps(request: HttpRequest): boolean {
  return (request.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
}

export function sessionCookie(
  request: HttpRequest,
  base: string,
  token: string,
  maxAgeSeconds: number,
): string {
  return [
    `${COOKIE}=${token}`,
    `Path=${base || '/'}`,
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(overHttps(request) ? ['Secure'] : []),
  ].join('; ');
}

/**
 * A change must come from the console's own pages: the session's CSRF token (form field or
 * header), and, when the browser names one, an Origin of this host.
 */
export function csrfProblem(
  request: HttpRequest,
  token: string,
  form: Record<string, string>,
): string | undefined {
  const origin = request.headers.origin;
  if (origin && origin !== 'null') {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {}
    if (host !== request.headers.host)
      return `a request from another origin (${origin.slice(0, 100)}) is refused`;
  } else if (origin === 'null') return 'a request from an opaque origin is refused';
  const given = form._csrf ?? request.headers['x-csrf-token'] ?? '';
  if (!given) return 'the CSRF token is missing';
  if (!safeEqual(given, csrfOf(token))) return 'the CSRF token does not match this session';
  return undefined;
}

export type SignIn =
  | { ok: true; keyId: string; token: string }
  | { ok: false; status: 401 | 429; message: string; keyId: string | undefined; retryAt?: Date };

/** One message for an unknown key and a wrong secret: the answer tells an attacker nothing. */
export const WRONG = 'wrong key or secret';

/**
 * Check a key id and its secret (or a bearer token the key lists), within the rate limit, and
 * open a session. Every attempt is audited by the caller.
 */
export async function signIn(
  input: { keyId: string; secret: string; source: string },
  deps: { keys: Config['access']['keys']; store: Store; env: NodeJS.ProcessEnv },
): Promise<SignIn> {
  const keyId = input.keyId.trim().slice(0, 64);
  for (const [bucket, limit] of [
    [`console-sign-in:ip:${input.source}`, SIGN_IN_LIMIT_PER_SOURCE],
    [`console-sign-in:key:${keyId}`, SIGN_IN_LIMIT],
  ] as const) {
    const slot = await deps.store.rateTake(bucket, limit, SIGN_IN_WINDOW_MS);
    if (!slot.allowed)
      return {
        ok: false,
        status: 429,
        message: `too many sign-in attempts; try again after ${slot.retryAt.toISOString()}`,
        keyId: keyId || undefined,
        retryAt: slot.retryAt,
      };
  }
  const key = own(deps.keys, keyId);
  const secret = key?.secret ? resolveSecret(key.secret, deps.env) : undefined;
  const matches =
    !!key &&
    input.secret.length > 0 &&
    ((!!secret && safeEqual(secret, input.secret)) ||
      (!!key.tokenSha256 && safeEqual(key.tokenSha256, sha256Hex(input.secret))));
  if (!matches) return { ok: false, status: 401, message: WRONG, keyId: keyId || undefined };
  const token = randomBytes(32).toString('base64url');
  await deps.store.createSession({ tokenSha256: sha256Hex(token), keyId, ttlMs: SESSION_TTL_MS });
  return { ok: true, keyId, token };
}

/** The key a browser's session belongs to, if the session is alive and the key still exists. */
export async function sessionKey(
  request: HttpRequest,
  deps: { keys: Config['access']['keys']; store: Store },
): Promise<{ keyId: string; token: string } | undefined> {
  const token = sessionToken(request);
  if (!token) return undefined;
  const session = await deps.store.getSession(sha256Hex(token));
  if (!session || !own(deps.keys, session.keyId)) return undefined;
  return { keyId: session.keyId, token };
}
