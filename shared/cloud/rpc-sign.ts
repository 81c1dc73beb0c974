import { createHash, createHmac, randomUUID } from 'node:crypto';
import { percentEncode } from './acs3.ts';

/**
 * Signature V2 of RPC-style APIs (ECS, RDS, ESS, DirectMail): every parameter, sorted by name and
 * RFC 3986-encoded, joined with `&`, then `METHOD&%2F&<encoded>` signed with HMAC-SHA1 under
 * `secret&` (Alibaba Cloud's "Request syntax and signature method V2 for RPC APIs").
 */
export function rpcStringToSign(method: string, params: Record<string, string>): string {
  const canonical = Object.keys(params)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join('&');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

export const rpcSignature = (params: Record<string, string>, method: string, secret: string): string =>
  createHmac('sha1', `${secret}&`).update(rpcStringToSign(method, params), 'utf8').digest('base64');

/** Lists and objects as RPC APIs take them: `Key.1`, `Key.1.Name` (what the official SDKs send). */
export function flattenParams(
  params: Record<string, unknown>,
  prefix = '',
  out: Record<string, string> = {},
) {
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    const name = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value))
      value.forEach((item, i) => {
        if (item !== null && typeof item === 'object')
          flattenParams(item as Record<string, unknown>, `${name}.${i + 1}`, out);
        else if (item !== undefined && item !== null) out[`${name}.${i + 1}`] = String(item);
      });
    else if (typeof value === 'object') flattenParams(value as Record<string, unknown>, name, out);
    else out[name] = String(value);
  }
  return out;
}

/** The form body of a signed RPC call (POST), common parameters and Signature included. */
export function signRpcForm(
  action: string,
  version: string,
  params: Record<string, unknown>,
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
  now = new Date(),
): string {
  const all: Record<string, string> = {
    Action: action,
    Format: 'JSON',
    Version: version,
    Timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    // A fresh nonce per attempt: Alibaba Cloud refuses a nonce it has seen (replay protection).
    SignatureNonce: randomUUID(),
    AccessKeyId: credentials.accessKeyId,
    ...(credentials.securityToken ? { SecurityToken: credentials.securityToken } : {}),
    ...flattenParams(params),
  };
  all.Signature = rpcSignature(all, 'POST', credentials.accessKeySecret);
  return Object.keys(all)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(all[k]!)}`)
    .join('&');
}

/**
 * Signature of ROA-style APIs (ACK): `METHOD\nAccept\nContent-MD5\nContent-Type\nDate\n`, the
 * `x-acs-*` headers sorted (`name:value\n`), then the path with its query sorted by name and not
 * encoded; HMAC-SHA1 under the secret itself.
 */
export function roaStringToSign(
  method: string,
  path: string,
  headers: Record<string, string>,
  query: Record<string, string>,
): string {
  const acs = Object.keys(headers)
    .filter((k) => k.startsWith('x-acs-'))
    .sort()
    .map((k) => `${k}:${headers[k]!.replace(/[\t\n\r\f]/g, ' ').trim()}\n`)
    .join('');
  const keys = Object.keys(query).sort();
  const resource = keys.length ? `${path}?${keys.map((k) => `${k}=${query[k]}`).join('&')}` : path;
  return [
    method,
    headers.accept ?? '',
    headers['content-md5'] ?? '',
    headers['content-type'] ?? '',
    headers.date ?? '',
    `${acs}${resource}`,
  ].join('\n');
}

export function signRoa(
  request: {
    method: string;
    path: string;
    query: Record<string, string>;
    headers: Record<string, string>;
    body: Buffer;
  },
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
  meta: { version: string; host: string; now?: Date },
): Record<string, string> {
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])),
    accept: 'application/json',
    date: (meta.now ?? new Date()).toUTCString(),
    host: meta.host,
    'x-acs-signature-nonce': randomUUID(),
    'x-acs-signature-method': 'HMAC-SHA1',
    'x-acs-signature-version': '1.0',
    'x-acs-version': meta.version,
    'content-md5': createHash('md5').update(request.body).digest('base64'),
  };
  if (credentials.securityToken) {
    headers['x-acs-accesskey-id'] = credentials.accessKeyId;
    headers['x-acs-security-token'] = credentials.securityToken;
  }
  const toSign = roaStringToSign(request.method, request.path, headers, request.query);
  const signature = createHmac('sha1', credentials.accessKeySecret).update(toSign, 'utf8').digest('base64');
  headers.authorization = `acs ${credentials.accessKeyId}:${signature}`;
  return headers;
}
