/**
 * Secrets must never reach logs, run records or notifications. Redaction works on two levels:
 * keys whose name says "secret" lose their value, and strings are scrubbed of the shapes secrets
 * take inside text (signed URL parameters, bearer tokens, STS keys).
 */

const SECRET_KEY =
  /(secret|password|passwd|token|signature|authorization|credential|private[-_]?key|access[-_]?key[-_]?secret|^sign$|^x-fc-security-token$)/i;

// Query parameters that carry signatures or tokens in signed URLs (OSS, DingTalk, RPC, STS).
const SECRET_PARAM =
  /([?&](?:signature|sign|access_token|token|securitytoken|security-token|x-oss-signature|x-oss-security-token|x-acs-security-token)=)[^&\s"']+/gi;
const BEARER = /\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const HEX_SIGNATURE = /\bsha(?:1|256)=[0-9a-f]{20,}/gi;
// Alibaba Cloud STS security tokens are long base64 blobs that start with CAIS.
const STS_TOKEN = /\bCAIS[A-Za-z0-9+/=]{20,}/g;

export const REDACTED = '[REDACTED]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function redactString(text: string): string {
  return text
    .replace(SECRET_PARAM, `$1${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(HEX_SIGNATURE, REDACTED)
    .replace(STS_TOKEN, REDACTED);
}

/** Deep copy of `value` with secret-named keys blanked and secret-shaped substrings removed. */
export function redact(value: unknown, extraSecrets: readonly string[] = [], depth = 0): unknown {
  if (depth > 12) return '[…]';
  if (typeof value === 'string') return redactKnown(redactString(value), extraSecrets);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message, extraSecrets, depth + 1) };
  }
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((v) => redact(v, extraSecrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      isSecretKey(k) && v !== undefined && v !== null && v !== ''
        ? REDACTED
        : redact(v, extraSecrets, depth + 1);
  }
  return out;
}

/** Blank out known secret values (resolved `${env:...}` references) wherever they appear. */
function redactKnown(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 6) out = out.split(s).join(REDACTED);
  }
  return out;
}
