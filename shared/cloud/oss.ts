import { createHash, createHmac } from 'node:crypto';
import type { CredentialSource } from './credentials.ts';
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

export const ossSignature = (secret: string, stringToSign: string) =>
  createHmac('sha1', secret).update(stringToSign).digest('base64');

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
    options: { query?: Record<string, string>; body?: Buffer; contentType?: string } = {},
  ) {
    const pathStyle = this.config.pathStyle ?? !/aliyuncs\.com/.test(this.config.endpoint);
    const encodedKey = key.split('/').map(encodeURIComponent).join('/');
    const endpoint = pathStyle ? this.config.endpoint : this.config.endpoint.replace('://', `://${bucket}.`);
    const path = pathStyle ? `/${bucket}/${encodedKey}` : `/${encodedKey}`;
    const headers: Record<string, string> = { date: new Date().toUTCString() };
    if (options.body) {
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
      headers['content-md5'] = createHash('md5').update(options.body).digest('base64');
    }
    return signedFetch(
      { service: 'oss', ...this.config, endpoint },
      action,
      { method, path, query: options.query ?? {}, headers, ...(options.body ? { body: options.body } : {}) },
      (req, credentials) => {
        const signed = { ...req.headers };
        if (credentials.securityToken) signed['x-oss-security-token'] = credentials.securityToken;
        const toSign = ossStringToSign({ method, headers: signed, resource: `/${bucket}/${key}` });
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

  async get(bucket: string, key: string): Promise<Buffer> {
    return (await this.call('GetObject', 'GET', bucket, key)).body;
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
