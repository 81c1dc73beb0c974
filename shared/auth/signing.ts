import { createHmac, randomBytes } from 'node:crypto';
import { percentEncode } from '../cloud/acs3.ts';
import { sha256Hex } from '../util/hash.ts';

/**
 * How operators sign requests to fc-devops endpoints (the CLI implements it; so can anyone):
 *
 *   X-Fc-Devops-Timestamp:      unix seconds
 *   X-Fc-Devops-Nonce:          16 to 128 characters, never reused
 *   X-Fc-Devops-Content-Sha256: hex SHA-256 of the raw body
 *   Authorization:              FCD-HMAC-SHA256 Key=<key id>,Signature=<hex>
 *
 *   Signature = hex(HMAC-SHA256(secret, "FCD-HMAC-SHA256\n" + METHOD + "\n" + path + "\n" +
 *               canonical query + "\n" + timestamp + "\n" + nonce + "\n" + body SHA-256))
 *
 * The canonical query sorts parameters by name and percent-encodes names and values (RFC 3986).
 * Requests more than five minutes from the server's clock, or with a nonce seen before, are refused.
 */
export const SCHEME = 'FCD-HMAC-SHA256';
/** `Authorization: FCD-Session <token>`: the console's calls for a signed-in key (32 random bytes, base64url). */
export const SESSION_SCHEME = 'FCD-Session';

export interface SignedParts {
  method: string;
  path: string;
  query: Readonly<Record<string, string>>;
  timestamp: string;
  nonce: string;
  bodySha256: string;
}

export function canonicalQuery(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(query[k] ?? '')}`)
    .join('&');
}

export function stringToSign(p: SignedParts): string {
  return [
    SCHEME,
    p.method.toUpperCase(),
    p.path,
    canonicalQuery(p.query),
    p.timestamp,
    p.nonce,
    p.bodySha256,
  ].join('\n');
}

export function signature(secret: string, parts: SignedParts): string {
  return createHmac('sha256', secret).update(stringToSign(parts)).digest('hex');
}

/** Headers for a signed request. */
export function signRequest(input: {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: Buffer | string;
  keyId: string;
  secret: string;
  now?: Date;
  nonce?: string;
}): Record<string, string> {
  const parts: SignedParts = {
    method: input.method,
    path: input.path,
    query: input.query ?? {},
    timestamp: String(Math.floor((input.now ?? new Date()).getTime() / 1000)),
    nonce: input.nonce ?? randomBytes(16).toString('hex'),
    bodySha256: sha256Hex(input.body ?? ''),
  };
  return {
    'x-fc-devops-timestamp': parts.timestamp,
    'x-fc-devops-nonce': parts.nonce,
    'x-fc-devops-content-sha256': parts.bodySha256,
    authorization: `${SCHEME} Key=${input.keyId},Signature=${signature(input.secret, parts)}`,
  };
}
