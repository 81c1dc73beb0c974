import { createHmac, randomUUID } from 'node:crypto';
import { sha256Hex } from '../util/hash.ts';

/** RFC 3986 encoding as Alibaba Cloud canonicalizes it: `A-Z a-z 0-9 - _ . ~` stay, the rest is %XY. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export interface Acs3Request {
  method: string;
  /** The path as sent, e.g. `/2023-03-30/functions/web/invocations`. */
  path: string;
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
}

/** The canonical request of signature V3 (`ACS3-HMAC-SHA256`), for signing and for checking. */
export function canonicalRequest(req: Acs3Request, signedHeaders: string[]): string {
  const query = Object.keys(req.query)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(req.query[k] ?? '')}`)
    .join('&');
  const headers = signedHeaders.map((h) => `${h}:${(req.headers[h] ?? '').trim()}\n`).join('');
  return [
    req.method.toUpperCase(),
    req.path,
    query,
    headers,
    signedHeaders.join(';'),
    req.headers['x-acs-content-sha256'] ?? sha256Hex(req.body),
  ].join('\n');
}

export function acs3Signature(secret: string, canonical: string): string {
  return createHmac('sha256', secret)
    .update(`ACS3-HMAC-SHA256\n${sha256Hex(canonical)}`)
    .digest('hex');
}

/** Add the V3 signature headers to a request. */
export function signAcs3(
  req: Omit<Acs3Request, 'headers'> & { headers?: Record<string, string> },
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
  meta: { action: string; version: string; host: string; now?: Date },
): Record<string, string> {
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    host: meta.host,
    'x-acs-action': meta.action,
    'x-acs-version': meta.version,
    'x-acs-date': (meta.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': randomUUID(),
    'x-acs-content-sha256': sha256Hex(req.body),
  };
  if (credentials.securityToken) headers['x-acs-security-token'] = credentials.securityToken;
  const signed = Object.keys(headers)
    .filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-'))
    .sort();
  const signature = acs3Signature(credentials.accessKeySecret, canonicalRequest({ ...req, headers }, signed));
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${credentials.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`;
  return headers;
}
