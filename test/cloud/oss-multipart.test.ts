import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
});
