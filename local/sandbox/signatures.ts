import { createHash, createHmac } from 'node:crypto';
import { safeEqual as same } from '../../shared/util/compare.ts';
import { sha256Hex } from '../../shared/util/hash.ts';
import { ApiError, type Params } from './api-error.ts';

/** Sandbox access keys: id → secret. */
export type KeyStore = Record<string, string>;

const SKEW_MS = 15 * 60 * 1000;

/** Nonces seen in the last 15 minutes: a replayed request is refused, as the real gateway does. */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  /** Nonces remembered now. */
  get size(): number {
    return this.seen.size;
  }

  use(nonce: string, now = Date.now()): void {
    // A Map iterates in insertion order, which is time order: the expired ones are a prefix, so the
    // sweep stops at the first nonce still fresh instead of visiting all of them on every request (a
    // sandbox under `npm start` sees tens of thousands in fifteen minutes).
    for (const [n, at] of this.seen) {
      if (now - at <= SKEW_MS) break;
      this.seen.delete(n);
    }
    if (this.seen.has(nonce))
      throw new ApiError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    this.seen.set(nonce, now);
  }
}

/**
 * Percent-encoding as the gateway canonicalises (RFC 3986, byte by byte over UTF-8). The sandbox
 * keeps its own copy of every canonicalisation: it shares no code with the clients' signers, so a
 * mistake in a signer cannot be agreed with here.
 */
function pct(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function secretFor(keys: KeyStore, id: string | undefined): string {
  const secret = id ? keys[id] : undefined;
  if (!secret) throw new ApiError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  return secret;
}

function checkTime(value: string | undefined, now = Date.now()): void {
  const at = value ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at))
    throw new ApiError(
      400,
      'InvalidTimeStamp.Format',
      'Specified time stamp or date value is not well formatted.',
    );
  if (Math.abs(now - at) > SKEW_MS)
    throw new ApiError(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
}

function mismatch(stringToSign: string): ApiError {
  return new ApiError(
    400,
    'SignatureDoesNotMatch',
    `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`,
  );
}

/** RPC signature V1 (HMAC-SHA1 over the sorted, percent-encoded parameters). */
export function verifyRpc(
  method: string,
  params: Params,
  keys: KeyStore,
  nonces: NonceCache,
  now = Date.now(),
): string {
  const secret = secretFor(keys, params.AccessKeyId);
  if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0') {
    throw new ApiError(
      400,
      'InvalidParameter',
      'SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0.',
    );
  }
  checkTime(params.Timestamp, now);
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${pct(k)}=${pct(params[k] ?? '')}`)
    .join('&');
  const stringToSign = `${method}&${pct('/')}&${pct(canonical)}`;
  const expected = createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
  if (!same(expected, params.Signature ?? '')) throw mismatch(stringToSign);
  nonces.use(params.SignatureNonce ?? '');
  return params.AccessKeyId!;
}

/** ROA signature (pop-core ROAClient): `Authorization: acs <id>:<Base64(HMAC-SHA1(secret, StringToSign))>`. */
export function verifyRoa(
  req: { method: string; path: string; query: Params; headers: Record<string, string>; body: Buffer },
  keys: KeyStore,
  nonces: NonceCache,
  now = Date.now(),
): string {
  const auth = /^acs ([^:]+):(.+)$/.exec(req.headers.authorization ?? '');
  if (!auth)
    throw new ApiError(
      400,
      'MissingParameter',
      'The input parameter "Authorization" that is mandatory for processing this request is not supplied.',
    );
  const secret = secretFor(keys, auth[1]);
  checkTime(req.headers.date, now);
  const h = req.headers;
  const acsHeaders = Object.keys(h)
    .filter((k) => k.startsWith('x-acs-'))
    .sort()
    .map((k) => `${k}:${(h[k] ?? '').replace(/[\t\n\r\f]/g, ' ').trim()}\n`)
    .join('');
  const queryKeys = Object.keys(req.query).sort();
  const resource = queryKeys.length
    ? `${req.path}?${queryKeys.map((k) => `${k}=${req.query[k]}`).join('&')}`
    : req.path;
  const stringToSign = `${req.method}\n${h.accept ?? ''}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date ?? ''}\n${acsHeaders}${resource}`;
  const expected = createHmac('sha1', secret).update(stringToSign).digest('base64');
  if (!same(expected, auth[2]!)) throw mismatch(stringToSign);
  if (
    req.body.length > 0 &&
    h['content-md5'] &&
    h['content-md5'] !== createHash('md5').update(req.body).digest('base64')
  ) {
    throw new ApiError(
      400,
      'InvalidContent.MD5Mismatch',
      'The Content-MD5 you specified did not match what we received.',
    );
  }
  nonces.use(h['x-acs-signature-nonce'] ?? '');
  return auth[1]!;
}

/** Signature V3 (`ACS3-HMAC-SHA256`), used by the FC 3.0 API. */
export function verifyAcs3(
  req: { method: string; path: string; query: Params; headers: Record<string, string>; body: Buffer },
  keys: KeyStore,
  nonces: NonceCache,
  now = Date.now(),
): string {
  const auth = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$/.exec(
    req.headers.authorization ?? '',
  );
  if (!auth)
    throw new ApiError(
      400,
      'MissingParameter',
      'The input parameter "Authorization" that is mandatory for processing this request is not supplied.',
    );
  const secret = secretFor(keys, auth[1]);
  checkTime(req.headers['x-acs-date'], now);
  if (req.headers['x-acs-content-sha256'] !== sha256Hex(req.body)) {
    throw new ApiError(400, 'InvalidContent.SHA256Mismatch', 'x-acs-content-sha256 does not match the body.');
  }
  const signed = auth[2]!.split(';');
  const canonical = [
    req.method.toUpperCase(),
    req.path,
    Object.keys(req.query)
      .map((k) => [pct(k), pct(req.query[k] ?? '')] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&'),
    signed.map((h) => `${h}:${(req.headers[h] ?? '').trim()}\n`).join(''),
    signed.join(';'),
    req.headers['x-acs-content-sha256'],
  ].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  if (!same(createHmac('sha256', secret).update(toSign).digest('hex'), auth[3]!)) throw mismatch(canonical);
  nonces.use(req.headers['x-acs-signature-nonce'] ?? '');
  return auth[1]!;
}

/** OSS signature V1. OSS has no nonce; its Date must be within 15 minutes. */
export function verifyOss(
  req: { method: string; headers: Record<string, string>; resource: string },
  keys: KeyStore,
  now = Date.now(),
): string {
  const auth = /^OSS ([^:]+):(.+)$/.exec(req.headers.authorization ?? '');
  if (!auth) throw new ApiError(403, 'AccessDenied', 'Anonymous access is forbidden for this operation.');
  const secret = keys[auth[1]!];
  if (!secret)
    throw new ApiError(
      403,
      'InvalidAccessKeyId',
      'The OSS Access Key Id you provided does not exist in our records.',
    );
  const date = Date.parse(req.headers.date ?? '');
  if (Number.isNaN(date) || Math.abs(now - date) > SKEW_MS) {
    throw new ApiError(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  }
  const h = req.headers;
  const ossHeaders = Object.keys(h)
    .filter((k) => k.startsWith('x-oss-'))
    .sort()
    .map((k) => `${k}:${(h[k] ?? '').trim()}\n`)
    .join('');
  const stringToSign = `${req.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date ?? ''}\n${ossHeaders}${req.resource}`;
  if (!same(createHmac('sha1', secret).update(stringToSign).digest('base64'), auth[2]!)) {
    throw new ApiError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
  }
  return auth[1]!;
}

/**
 * OSS signature V4, checked the way the service documents it, with nothing taken from the client's
 * signer: the canonical request is rebuilt from what arrived (the raw query decoded and re-encoded,
 * the headers as received), so a client that signs one thing and sends another is refused.
 */
export function verifyOssV4(
  req: { method: string; headers: Record<string, string>; bucket: string; key: string; rawQuery: string },
  keys: KeyStore,
  region: string,
  now = Date.now(),
): string {
  const auth =
    /^OSS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/oss\/aliyun_v4_request,\s*(?:AdditionalHeaders=([a-z0-9;-]+),\s*)?Signature=([0-9a-f]{64})$/.exec(
      req.headers.authorization ?? '',
    );
  if (!auth)
    throw new ApiError(
      403,
      'AccessDenied',
      'The Authorization header is not a valid OSS4-HMAC-SHA256 signature.',
    );
  const [, keyId, day, scopeRegion, additional = '', signature] = auth as unknown as string[];
  const secret = keys[keyId!];
  if (!secret)
    throw new ApiError(
      403,
      'InvalidAccessKeyId',
      'The OSS Access Key Id you provided does not exist in our records.',
    );
  const stamp = req.headers['x-oss-date'] ?? '';
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  const at = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN;
  if (Number.isNaN(at) || Math.abs(now - at) > SKEW_MS)
    throw new ApiError(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  if (stamp.slice(0, 8) !== day || scopeRegion !== region)
    throw new ApiError(
      403,
      'SignatureDoesNotMatch',
      `The credential scope must be ${stamp.slice(0, 8)}/${region}/oss/aliyun_v4_request.`,
    );
  const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, '%20'));
  const pairs = req.rawQuery
    .split('&')
    .filter(Boolean)
    .map((part) => {
      const i = part.indexOf('=');
      const name = pct(decode(i < 0 ? part : part.slice(0, i)));
      const value = i < 0 ? '' : pct(decode(part.slice(i + 1)));
      return [name, value] as [string, string];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const extra = additional ? additional.split(';') : [];
  const names = Object.keys(req.headers)
    .map((h) => h.toLowerCase())
    .filter((h) => h.startsWith('x-oss-') || h === 'content-type' || h === 'content-md5' || extra.includes(h))
    .sort();
  const lines = [
    req.method,
    pct(`/${req.bucket}/${req.key}`).replace(/%2F/g, '/'),
    pairs.map(([k, v]) => (v ? `${k}=${v}` : k)).join('&'),
    names.map((h) => `${h}:${(req.headers[h] ?? '').trim()}\n`).join(''),
    additional,
    req.headers['x-oss-content-sha256'] ?? 'UNSIGNED-PAYLOAD',
  ];
  const digest = createHash('sha256').update(lines.join('\n')).digest('hex');
  const toSign = ['OSS4-HMAC-SHA256', stamp, `${day}/${region}/oss/aliyun_v4_request`, digest].join('\n');
  let k: Buffer = createHmac('sha256', `aliyun_v4${secret}`).update(day!).digest();
  for (const part of [region, 'oss', 'aliyun_v4_request']) k = createHmac('sha256', k).update(part).digest();
  if (!same(createHmac('sha256', k).update(toSign).digest('hex'), signature!))
    throw new ApiError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
  return keyId!;
}
