import { createHmac } from 'node:crypto';
import { safeEqual } from '../../util/compare.ts';

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`. */
export function githubSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Gitee's signature mode: base64(HMAC-SHA256(secret, `${timestamp}\n${secret}`)); it does not cover the body. */
export function giteeSignature(secret: string, timestampMs: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export const GITEE_WINDOW_MS = 60 * 60 * 1000;

export type Verdict = { ok: true } | { ok: false; reason: string };

/** Check one request against one secret, the way its host signs. */
export function verifyWith(
  host: string,
  headers: Readonly<Record<string, string>>,
  body: Buffer,
  secret: string,
  now: Date,
): Verdict {
  switch (host) {
    case 'github': {
      const sig = headers['x-hub-signature-256'];
      if (!sig) return { ok: false, reason: 'X-Hub-Signature-256 is missing' };
      return safeEqual(sig, githubSignature(secret, body))
        ? { ok: true }
        : { ok: false, reason: 'X-Hub-Signature-256 does not match the body' };
    }
    case 'gitlab':
    case 'codeup': {
      const name = host === 'gitlab' ? 'x-gitlab-token' : 'x-codeup-token';
      const token = headers[name];
      if (!token)
        return { ok: false, reason: `${host === 'gitlab' ? 'X-Gitlab-Token' : 'X-Codeup-Token'} is missing` };
      return safeEqual(token, secret) ? { ok: true } : { ok: false, reason: 'the token does not match' };
    }
    case 'gitee': {
      const raw = headers['x-gitee-token'];
      if (!raw) return { ok: false, reason: 'X-Gitee-Token is missing' };
      const ts = headers['x-gitee-timestamp'];
      let token = raw;
      try {
        token = decodeURIComponent(raw);
      } catch {}
      if (ts && /^\d{10,16}$/.test(ts)) {
        const skew = Math.abs(now.getTime() - Number(ts));
        if (safeEqual(token, giteeSignature(secret, ts))) {
          return skew <= GITEE_WINDOW_MS
            ? { ok: true }
            : { ok: false, reason: 'X-Gitee-Timestamp is more than an hour away from now' };
        }
      }
      // Password mode: the secret itself, in plain text.
      return safeEqual(token, secret) ? { ok: true } : { ok: false, reason: 'X-Gitee-Token does not match' };
    }
    default:
      return { ok: false, reason: `unknown host ${host}` };
  }
}
