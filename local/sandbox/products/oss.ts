import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ApiError } from '../api-error.ts';
import type { RestRequest, RestResponse } from './rest.ts';

/** The sandbox account's owner id, as OSS lists it with every object. */
const OWNER = '1234567890123456';

/** Where the sandbox keeps objects; the local runtime's buckets when both run, so writes fire triggers. */
export interface ObjectStore {
  put(bucket: string, key: string, body: Buffer): { eTag: string };
  get(bucket: string, key: string): Buffer | undefined;
  delete(bucket: string, key: string): boolean;
  /** Directory of a bucket, for listing. */
  root: string;
}

export function directoryStore(root: string): ObjectStore {
  const file = (b: string, k: string) => join(root, b, k);
  return {
    root,
    put(b, k, body) {
      mkdirSync(dirname(file(b, k)), { recursive: true });
      writeFileSync(file(b, k), body);
      return { eTag: createHash('md5').update(body).digest('hex').toUpperCase() };
    },
    get(b, k) {
      try {
        return readFileSync(file(b, k));
      } catch {
        return undefined;
      }
    },
    delete(b, k) {
      try {
        rmSync(file(b, k));
        return true;
      } catch {
        return false;
      }
    },
  };
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function ossError(status: number, code: string, message: string): ApiError {
  return new ApiError(status, code, message);
}

function walk(dir: string, base: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, base, out);
    else out.push(relative(base, path));
  }
}

/** OSS, path style: `/<bucket>/<key>`. */
export function ossRoute(
  store: ObjectStore,
  req: RestRequest,
  bucket: string,
  key: string,
): { action: string; run: () => RestResponse } {
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) {
    return {
      action: 'Unknown',
      run: () => {
        throw ossError(400, 'InvalidBucketName', `The specified bucket is not valid: ${bucket}`);
      },
    };
  }
  if (key === '' && req.method === 'GET') {
    return {
      action: 'ListObjects',
      run: () => {
        const prefix = req.query.prefix ?? '';
        const marker = req.query.marker ?? '';
        const max = Math.min(1000, Number(req.query['max-keys'] ?? 100));
        const keys: string[] = [];
        walk(join(store.root, bucket), join(store.root, bucket), keys);
        const matched = keys.filter((k) => k.startsWith(prefix) && k > marker).sort();
        const pageKeys = matched.slice(0, max);
        const truncated = matched.length > max;
        const contents = pageKeys
          .map((k) => {
            const path = join(store.root, bucket, k);
            const body = readFileSync(path);
            const etag = createHash('md5').update(body).digest('hex').toUpperCase();
            // The fields of OSS's ListObjects (GetBucket) Contents, Owner included: the official SDK reads them.
            return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${statSync(path).mtime.toISOString()}</LastModified><ETag>&quot;${etag}&quot;</ETag><Type>Normal</Type><Size>${body.length}</Size><StorageClass>Standard</StorageClass><Owner><ID>${OWNER}</ID><DisplayName>${OWNER}</DisplayName></Owner></Contents>`;
          })
          .join('');
        const xml = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><Marker>${xmlEscape(marker)}</Marker><MaxKeys>${max}</MaxKeys><Delimiter></Delimiter><IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextMarker>${xmlEscape(pageKeys.at(-1) ?? '')}</NextMarker>` : ''}${contents}</ListBucketResult>`;
        return { status: 200, body: null, raw: xml, headers: { 'content-type': 'application/xml' } };
      },
    };
  }
  const multipart = multipartRoute(store, req, bucket, key);
  if (multipart) return multipart;
  if (req.method === 'PUT') {
    return {
      action: 'PutObject',
      run: () => {
        const md5 = req.headers['content-md5'];
        if (md5 && md5 !== createHash('md5').update(req.body).digest('base64'))
          throw ossError(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
        const { eTag } = store.put(bucket, key, req.body);
        return { status: 200, body: null, raw: '', headers: { etag: `"${eTag}"` } };
      },
    };
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    return {
      action: req.method === 'GET' ? 'GetObject' : 'HeadObject',
      run: () => {
        const body = store.get(bucket, key);
        if (!body) throw ossError(404, 'NoSuchKey', 'The specified key does not exist.');
        const etag = createHash('md5').update(body).digest('hex').toUpperCase();
        // A Range GET answers 206 with that part (OSS: one range; a malformed one gets the whole
        // object, a start past the end 416 InvalidRange).
        const range = req.method === 'GET' ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '') : null;
        if (range) {
          const start = Number(range[1]);
          if (start >= body.length)
            throw ossError(416, 'InvalidRange', 'The requested range cannot be satisfied.');
          const end = Math.min(body.length - 1, range[2] ? Number(range[2]) : body.length - 1);
          return {
            status: 206,
            body: null,
            raw: body.subarray(start, end + 1),
            headers: {
              etag: `"${etag}"`,
              'content-type': 'application/octet-stream',
              'content-range': `bytes ${start}-${end}/${body.length}`,
            },
          };
        }
        return {
          status: 200,
          body: null,
          raw: req.method === 'GET' ? body : '',
          headers: {
            etag: `"${etag}"`,
            'content-type': 'application/octet-stream',
            ...(req.method === 'HEAD' ? { 'content-length': String(body.length) } : {}),
          },
        };
      },
    };
  }
  if (req.method === 'DELETE') {
    return {
      action: 'DeleteObject',
      run: () => {
        store.delete(bucket, key);
        return { status: 204, body: null, raw: '' };
      },
    };
  }
  return {
    action: 'Unknown',
    run: () => {
      throw ossError(405, 'MethodNotAllowed', `${req.method} is not allowed`);
    },
  };
}

/** Uploads in progress: upload id -> its object and parts (in memory; a restart abandons them, as OSS would not). */
const uploads = new Map<string, { bucket: string; key: string; parts: Map<number, Buffer> }>();
/** OSS refuses parts under 100 KB except the last. */
const MIN_PART = 100 * 1024;

const md5Hex = (b: Buffer) => createHash('md5').update(b).digest('hex').toUpperCase();

/** InitiateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload. */
function multipartRoute(
  store: ObjectStore,
  req: RestRequest,
  bucket: string,
  key: string,
): { action: string; run: () => RestResponse } | undefined {
  const uploadId = req.query.uploadId;
  const upload = () => {
    const u = uploadId ? uploads.get(uploadId) : undefined;
    if (!u || u.bucket !== bucket || u.key !== key)
      throw ossError(404, 'NoSuchUpload', 'The specified upload does not exist.');
    return u;
  };
  if (req.method === 'POST' && 'uploads' in req.query)
    return {
      action: 'InitiateMultipartUpload',
      run: () => {
        const id = randomUUID().replace(/-/g, '').toUpperCase();
        uploads.set(id, { bucket, key, parts: new Map() });
        const xml = `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`;
        return { status: 200, body: null, raw: xml, headers: { 'content-type': 'application/xml' } };
      },
    };
  if (req.method === 'PUT' && uploadId && req.query.partNumber)
    return {
      action: 'UploadPart',
      run: () => {
        const n = Number(req.query.partNumber);
        if (!Number.isInteger(n) || n < 1 || n > 10_000)
          throw ossError(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000.');
        const md5 = req.headers['content-md5'];
        if (md5 && md5 !== createHash('md5').update(req.body).digest('base64'))
          throw ossError(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
        upload().parts.set(n, Buffer.from(req.body));
        return { status: 200, body: null, raw: '', headers: { etag: `"${md5Hex(req.body)}"` } };
      },
    };
  if (req.method === 'POST' && uploadId)
    return {
      action: 'CompleteMultipartUpload',
      run: () => {
        const u = upload();
        const listed = [
          ...req.body
            .toString('utf8')
            .matchAll(/<Part>\s*<PartNumber>(\d+)<\/PartNumber>\s*<ETag>([^<]*)<\/ETag>\s*<\/Part>/g),
        ].map((m) => ({ n: Number(m[1]), eTag: m[2]!.replace(/&quot;|"/g, '') }));
        if (listed.length === 0)
          throw ossError(400, 'MalformedXML', 'The XML you provided was not well-formed.');
        const chunks: Buffer[] = [];
        for (const [i, p] of listed.entries()) {
          const part = u.parts.get(p.n);
          if (!part || md5Hex(part) !== p.eTag)
            throw ossError(
              400,
              'InvalidPart',
              `One or more of the specified parts could not be found: ${p.n}.`,
            );
          if (i > 0 && p.n <= listed[i - 1]!.n)
            throw ossError(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
          if (i < listed.length - 1 && part.length < MIN_PART)
            throw ossError(
              400,
              'EntityTooSmall',
              'Your proposed upload is smaller than the minimum allowed size.',
            );
          chunks.push(part);
        }
        const body = Buffer.concat(chunks);
        store.put(bucket, key, body);
        uploads.delete(uploadId!);
        const eTag = `${md5Hex(Buffer.concat(listed.map((p) => Buffer.from(p.eTag, 'hex'))))}-${listed.length}`;
        const xml = `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${xmlEscape(key)}</Key><ETag>"${eTag}"</ETag></CompleteMultipartUploadResult>`;
        return { status: 200, body: null, raw: xml, headers: { 'content-type': 'application/xml' } };
      },
    };
  if (req.method === 'DELETE' && uploadId)
    return {
      action: 'AbortMultipartUpload',
      run: () => {
        upload();
        uploads.delete(uploadId);
        return { status: 204, body: null, raw: '' };
      },
    };
  return undefined;
}
