import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import type { Cloud } from '../../shared/cloud/cloud.ts';
import { ossResource } from '../../shared/cloud/oss.ts';
import { cloudFor, startSandbox } from './harness.ts';

const file = (bytes: number) => {
  const path = join(mkdtempSync(join(tmpdir(), 'oss-')), 'blob.raw');
  const data = randomBytes(bytes);
  writeFileSync(path, data);
  return { path, data };
};
const actions = (sandbox: Sandbox, from: number) =>
  sandbox.calls.slice(from).map((c) => `${c.action} ${c.status}`);

describe('OSS uploads of files', () => {
  let sandbox: Sandbox;
  let cloud: Cloud;
  beforeAll(async () => {
    sandbox = await startSandbox();
    cloud = cloudFor(sandbox);
  });
  afterAll(async () => sandbox?.stop());

  it('signs sub-resources as part of the resource', () => {
    expect(ossResource('b', 'k/x.raw', { uploads: '' })).toBe('/b/k/x.raw?uploads');
    expect(ossResource('b', 'k', { uploadId: 'U1', partNumber: '2', prefix: 'ignored' })).toBe(
      '/b/k?partNumber=2&uploadId=U1',
    );
  });

  it('puts a small file in one request', async () => {
    const { path, data } = file(1000);
    const from = sandbox.calls.length;
    expect(await cloud.oss.putFile('fc-devops-artifacts', 'small.raw', path)).toMatchObject({
      bytes: 1000,
      parts: 1,
    });
    expect(actions(sandbox, from)).toEqual(['PutObject 200']);
    expect(await cloud.oss.get('fc-devops-artifacts', 'small.raw')).toEqual(data);
  });

  it('uploads a large file in parts, never the whole file at once', async () => {
    const { path, data } = file(1024 * 1024 + 123);
    const from = sandbox.calls.length;
    const r = await cloud.oss.putFile('fc-devops-artifacts', 'disk/web.raw', path, { partSize: 256 * 1024 });
    expect(r).toMatchObject({
      bytes: data.length,
      parts: 5,
      eTag: expect.stringMatching(/^[0-9A-F]{32}-5$/),
    });
    expect(actions(sandbox, from)).toEqual([
      'InitiateMultipartUpload 200',
      ...Array(5).fill('UploadPart 200'),
      'CompleteMultipartUpload 200',
    ]);
    expect(await cloud.oss.get('fc-devops-artifacts', 'disk/web.raw')).toEqual(data);
  });

  it('aborts the upload when a part keeps failing, leaving no object', async () => {
    const { path } = file(600 * 1024);
    sandbox.faults.set('UploadPart', { failNext: 20, failWith: 'unavailable' });
    const from = sandbox.calls.length;
    await expect(
      cloud.oss.putFile('fc-devops-artifacts', 'disk/broken.raw', path, { partSize: 256 * 1024 }),
    ).rejects.toThrow();
    sandbox.faults.clear();
    expect(actions(sandbox, from).at(-1)).toBe('AbortMultipartUpload 204');
    expect(await cloud.oss.head('fc-devops-artifacts', 'disk/broken.raw')).toBeUndefined();
  });

  it('downloads a large object in ranged parts to a file, with its SHA-256, and says which key is missing', async () => {
    const { path, data } = file(300 * 1024);
    await cloud.oss.putFile('fc-devops-artifacts', 'ranged.raw', path, { partSize: 100 * 1024 });
    const out = join(mkdtempSync(join(tmpdir(), 'oss-')), 'copy.raw');
    const from = sandbox.calls.length;
    const got = await cloud.oss.getFile('fc-devops-artifacts', 'ranged.raw', out, { partSize: 64 * 1024 });
    expect(got).toEqual({ bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    expect(readFileSync(out).equals(data)).toBe(true);
    // One HEAD for the size, then five parts of 64 KB (the last one shorter), each answered 206.
    expect(actions(sandbox, from)).toEqual(['HeadObject 200', ...Array(5).fill('GetObject 206')]);
    expect(await cloud.oss.sha256Of('fc-devops-artifacts', 'ranged.raw', { partSize: 64 * 1024 })).toBe(
      got.sha256,
    );
    await expect(cloud.oss.getFile('fc-devops-artifacts', 'missing.raw', out)).rejects.toThrow(
      /NoSuchKey: fc-devops-artifacts\/missing.raw does not exist/,
    );
  });
});
