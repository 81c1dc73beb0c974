import { createHash, createHmac } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { percentEncode } from './acs3.ts';
import type { CredentialSource } from './credentials.ts';
import { CloudError } from './errors.ts';
import type { RetryPolicy } from './retry.ts';
import { signedFetch } from './signed-http.ts';

/** OSS signature V1: `Authorization: OSS <AccessKeyId>:<Base64(HMAC-SHA1(secret, StringToSign))>`. */
export function ossStringToSign(input: {
  method: string;
  headers: Record<string, string>;
  resource: string;
}): string {
  const h = input.headers;
  const ossHeaders = Object.keys(h)
    .filter((k) => k.startsWith('x-oss-'))
    .sort()
    .map((k) => `${k}:${(h[k] ?? '').trim()}\n`)
    .join('');
  return `${input.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date ?? ''}\n${ossHeaders}${input.resource}`;
}

/** Query parameters that are sub-resources: they are signed as part of the resource (sorted). */
const SUB_RESOURCES = new Set(['uploads', 'uploadId', 'partNumber', 'acl', 'tagging', 'restore', 'symlink']);

/** The CanonicalizedResource of OSS signature V1: `/<bucket>/<key>` plus its sub-resources. */
export function ossResource(bucket: string, key: string, query: Record<string, string>): string {
  const subs = Object.keys(query)
    .filter((k) => SUB_RESOURCES.has(k))
    .sort()
    .map((k) => (query[k] === '' ? k : `${k}=${query[k]}`));
  return `/${bucket}/${key}${subs.length ? `?${subs.join('&')}` : ''}`;
}

export const ossSignature = (secret: string, stringToSign: string) =>
  createHmac('sha1', secret).update(stringToSign).digest('base64');

/** The query as OSS V4 canonicalises it, and as it goes on the wire: encoded, sorted, bare when empty. */
export function ossV4Query(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => [percentEncode(k), v === '' ? '' : percentEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join('&');
}

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * OSS signature V4 (`OSS4-HMAC-SHA256`), the only one new accounts and buckets accept: the
 * canonical request (method, `/<bucket>/<key>`, query, the x-oss-* / content-type / content-md5
 * headers, UNSIGNED-PAYLOAD) hashed into a string to sign, signed with a key derived from the
 * secret, the day, the region and the product. Returns the headers to send, Authorization included.
 */
export function signOssV4(input: {
  method: string;
  bucket: string;
  key: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
  region: string;
  time: Date;
}): Record<string, string> {
  const stamp = input.time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = stamp.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) headers[k.toLowerCase()] = v;
  headers['x-oss-date'] = stamp;
  headers['x-oss-content-sha256'] ??= 'UNSIGNED-PAYLOAD';
  if (input.securityToken) headers['x-oss-security-token'] = input.securityToken;
  const signed = Object.keys(headers)
    .filter((k) => k.startsWith('x-oss-') || k === 'content-type' || k === 'content-md5')
    .sort();
  const canonical = [
    input.method,
    `/${input.bucket}/${input.key}`.split('/').map(percentEncode).join('/'),
    ossV4Query(input.query),
    signed.map((k) => `${k}:${headers[k]!.trim()}\n`).join(''),
    '',
    headers['x-oss-content-sha256'],
  ].join('\n');
  const scope = `${day}/${input.region}/oss/aliyun_v4_request`;
  const toSign = `OSS4-HMAC-SHA256\n${stamp}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
  const key = hmac(
    hmac(hmac(hmac(`aliyun_v4${input.accessKeySecret}`, day), input.region), 'oss'),
    'aliyun_v4_request',
  );
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return {
    ...headers,
    authorization: `OSS4-HMAC-SHA256 Credential=${input.accessKeyId}/${scope},Signature=${signature}`,
  };
}

export interface OssObject {
  key: string;
  size: number;
  eTag: string;
  lastModified: string;
}

/**
 * OSS objects: put, get, head, list, delete. Virtual-hosted style (`<bucket>.oss-<region>.aliyuncs.com`)
 * on the cloud; path style (`<endpoint>/<bucket>/<key>`) when the endpoint is overridden (the sandbox).
 */
export class OssClient {
  constructor(
    private readonly config: {
      endpoint: string;
      credentials: CredentialSource;
      /** The buckets' region: V4 signatures are scoped to it. */
      region: string;
      /** `v1` only for an old bucket that still takes it; new accounts and buckets refuse V1. */
      signatureVersion?: 'v1' | 'v4';
      pathStyle?: boolean;
      timeoutMs?: number;
      retry?: RetryPolicy;
    },
  ) {}

  private async call(
    action: string,
    method: string,
    bucket: string,
    key: string,
    options: {
      query?: Record<string, string>;
      body?: Buffer;
      contentType?: string;
      /** Sent as is and not signed (as OSS's V4 leaves unlisted headers): `range`. */
      headers?: Record<string, string>;
    } = {},
  ) {
    const query = options.query ?? {};
    const pathStyle = this.config.pathStyle ?? !/aliyuncs\.com/.test(this.config.endpoint);
    const encodedKey = key.split('/').map(encodeURIComponent).join('/');
    const endpoint = pathStyle ? this.config.endpoint : this.config.endpoint.replace('://', `://${bucket}.`);
    const path = pathStyle ? `/${bucket}/${encodedKey}` : `/${encodedKey}`;
    const headers: Record<string, string> = { date: new Date().toUTCString(), ...options.headers };
    if (options.body) {
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
      headers['content-md5'] = createHash('md5').update(options.body).digest('base64');
    }
    return signedFetch(
      { service: 'oss', ...this.config, endpoint },
      action,
      { method, path, query, headers, ...(options.body ? { body: options.body } : {}) },
      (req, credentials, url) => {
        if (this.config.signatureVersion !== 'v1') {
          // The wire carries exactly the query that was signed.
          url.search = ossV4Query(query);
          return signOssV4({
            method,
            bucket,
            key,
            query,
            headers: req.headers,
            accessKeyId: credentials.accessKeyId,
            accessKeySecret: credentials.accessKeySecret,
            securityToken: credentials.securityToken || undefined,
            region: this.config.region,
            time: new Date(),
          });
        }
        const signed = { ...req.headers };
        if (credentials.securityToken) signed['x-oss-security-token'] = credentials.securityToken;
        const toSign = ossStringToSign({
          method,
          headers: signed,
          resource: ossResource(bucket, key, query),
        });
        return {
          ...signed,
          authorization: `OSS ${credentials.accessKeyId}:${ossSignature(credentials.accessKeySecret, toSign)}`,
        };
      },
    );
  }

  async put(bucket: string, key: string, body: Buffer, contentType?: string): Promise<{ eTag: string }> {
    const r = await this.call('PutObject', 'PUT', bucket, key, {
      body,
      ...(contentType ? { contentType } : {}),
    });
    return { eTag: (r.headers.get('etag') ?? '').replace(/"/g, '') };
  }

  /**
   * Upload a file without holding it in memory: one PutObject up to `partSize`, else a multipart
   * upload in parts of `partSize` (aborted if any part fails, so no parts are left to pay for).
   */
  async putFile(
    bucket: string,
    key: string,
    file: string,
    options: { contentType?: string; partSize?: number } = {},
  ): Promise<{ eTag: string; bytes: number; parts: number }> {
    const partSize = Math.max(100 * 1024, options.partSize ?? 64 * 1024 * 1024);
    const bytes = statSync(file).size;
    if (bytes <= partSize) {
      const { eTag } = await this.put(bucket, key, readFileSync(file), options.contentType);
      return { eTag, bytes, parts: 1 };
    }
    const init = await this.call('InitiateMultipartUpload', 'POST', bucket, key, {
      query: { uploads: '' },
      body: Buffer.alloc(0),
      ...(options.contentType ? { contentType: options.contentType } : {}),
    });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.body.toString('utf8'))?.[1];
    if (!uploadId) throw new Error(`InitiateMultipartUpload for ${bucket}/${key} returned no UploadId`);
    const fd = openSync(file, 'r');
    try {
      const parts: { n: number; eTag: string }[] = [];
      for (let offset = 0, n = 1; offset < bytes; offset += partSize, n++) {
        const chunk = Buffer.alloc(Math.min(partSize, bytes - offset));
        readSync(fd, chunk, 0, chunk.length, offset);
        const r = await this.call('UploadPart', 'PUT', bucket, key, {
          query: { partNumber: String(n), uploadId },
          body: chunk,
        });
        parts.push({ n, eTag: r.headers.get('etag') ?? '' });
      }
      const xml = `<CompleteMultipartUpload>${parts
        .map((p) => `<Part><PartNumber>${p.n}</PartNumber><ETag>${p.eTag}</ETag></Part>`)
        .join('')}</CompleteMultipartUpload>`;
      const done = await this.call('CompleteMultipartUpload', 'POST', bucket, key, {
        query: { uploadId },
        body: Buffer.from(xml),
        contentType: 'application/xml',
      });
      const eTag = /<ETag>([^<]+)<\/ETag>/.exec(done.body.toString('utf8'))?.[1] ?? '';
      return { eTag: eTag.replace(/&quot;|"/g, ''), bytes, parts: parts.length };
    } catch (error) {
      await this.call('AbortMultipartUpload', 'DELETE', bucket, key, { query: { uploadId } }).catch(() => {});
      throw error;
    } finally {
      closeSync(fd);
    }
  }

  async get(bucket: string, key: string): Promise<Buffer> {
    return (await this.call('GetObject', 'GET', bucket, key)).body;
  }

  /**
   * Read an object in ranged parts (`Range: bytes=a-b`, `partSize` each), in order, without ever
   * holding it whole: a dump or a disk image larger than the function's memory still copies.
   */
  async readParts(
    bucket: string,
    key: string,
    onPart: (chunk: Buffer) => void | Promise<void>,
    options: { partSize?: number } = {},
  ): Promise<{ bytes: number }> {
    const head = await this.head(bucket, key);
    if (!head)
      throw new CloudError('oss', 'GetObject', {
        code: 'NoSuchKey',
        message: `${bucket}/${key} does not exist`,
        status: 404,
      });
    const partSize = Math.max(64 * 1024, options.partSize ?? 64 * 1024 * 1024);
    for (let offset = 0; offset < head.size; offset += partSize) {
      const end = Math.min(head.size, offset + partSize) - 1;
      const r = await this.call('GetObject', 'GET', bucket, key, {
        headers: { range: `bytes=${offset}-${end}` },
      });
      // A 200 is the whole object (a server that ignored the range): take it once and stop.
      if (r.status === 200) {
        await onPart(r.body);
        return { bytes: r.body.length };
      }
      await onPart(r.body);
    }
    return { bytes: head.size };
  }

  /** Download an object to a file in ranged parts; its size and SHA-256 as read. */
  async getFile(
    bucket: string,
    key: string,
    file: string,
    options: { partSize?: number } = {},
  ): Promise<{ bytes: number; sha256: string }> {
    const hash = createHash('sha256');
    const fd = openSync(file, 'w');
    try {
      const { bytes } = await this.readParts(
        bucket,
        key,
        (chunk) => {
          hash.update(chunk);
          writeSync(fd, chunk);
        },
        options,
      );
      return { bytes, sha256: hash.digest('hex') };
    } finally {
      closeSync(fd);
    }
  }

  /** The SHA-256 of an object, read in ranged parts. */
  async sha256Of(bucket: string, key: string, options: { partSize?: number } = {}): Promise<string> {
    const hash = createHash('sha256');
    await this.readParts(bucket, key, (chunk) => void hash.update(chunk), options);
    return hash.digest('hex');
  }

  async head(
    bucket: string,
    key: string,
  ): Promise<{ size: number; eTag: string; lastModified: string } | undefined> {
    try {
      const r = await this.call('HeadObject', 'HEAD', bucket, key);
      return {
        size: Number(r.headers.get('content-length') ?? 0),
        eTag: (r.headers.get('etag') ?? '').replace(/"/g, ''),
        lastModified: r.headers.get('last-modified') ?? '',
      };
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined;
      throw error;
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.call('DeleteObject', 'DELETE', bucket, key);
  }

  /** One page of ListObjects (V1): keys under `prefix`, after `marker`. */
  async list(
    bucket: string,
    options: { prefix?: string; marker?: string; maxKeys?: number } = {},
  ): Promise<{ objects: OssObject[]; nextMarker: string | undefined }> {
    const query: Record<string, string> = { 'max-keys': String(options.maxKeys ?? 1000) };
    if (options.prefix) query.prefix = options.prefix;
    if (options.marker) query.marker = options.marker;
    const xml = (await this.call('ListObjects', 'GET', bucket, '', { query })).body.toString('utf8');
    const objects = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map((m) => {
      const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(m[1]!)?.[1] ?? '';
      return {
        key: unescapeXml(field('Key')),
        size: Number(field('Size')),
        eTag: field('ETag').replace(/&quot;|"/g, ''),
        lastModified: field('LastModified'),
      };
    });
    const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
    const next = /<NextMarker>([^<]*)<\/NextMarker>/.exec(xml)?.[1];
    return { objects, nextMarker: truncated ? unescapeXml(next ?? objects.at(-1)?.key ?? '') : undefined };
  }
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
