import { Readable } from 'node:stream';
import FcModule, * as $fc from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { KEY, startSandbox } from './harness.ts';

/**
 * The official FC 3.0 SDK (@alicloud/fc20230330), unmodified, pointed at the sandbox with only its
 * endpoint and keys changed: it signs ACS3 over the API's own paths (`/2023-03-30/...`), which the
 * sandbox serves at its root, as the cloud does.
 */
// The package is CommonJS with the client class at `exports.default`: TypeScript sees the module
// object, the test runner may hand over the class itself.
const FcClient = ((FcModule as unknown as { default?: unknown }).default ??
  FcModule) as typeof FcModule.default;
type Client = InstanceType<typeof FcClient>;
const client = (sandbox: Sandbox, keys: { accessKeyId: string; accessKeySecret: string } = KEY): Client => {
  const url = new URL(sandbox.url);
  return new FcClient(
    new $OpenApiUtil.Config({ ...keys, endpoint: url.host, protocol: 'http', regionId: 'cn-hangzhou' }),
  );
};

const failure = async (call: Promise<unknown>) => {
  try {
    await call;
  } catch (error) {
    const e = error as { code?: string; statusCode?: number; data?: { statusCode?: number } };
    return { code: e.code, status: e.statusCode ?? e.data?.statusCode };
  }
  return { code: 'no error' };
};

describe('the official FC 3.0 SDK against the sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => sandbox?.stop());

  it('reads and moves aliases, lists and publishes versions, with the documented fields', async () => {
    const fc = client(sandbox);
    const alias = await fc.getAlias('demo-api', 'prod');
    expect(alias.statusCode).toBe(200);
    expect(alias.body).toMatchObject({ aliasName: 'prod', versionId: '2' });
    expect(typeof alias.body?.lastModifiedTime).toBe('string');

    const versions = await fc.listFunctionVersions(
      'demo-api',
      new $fc.ListFunctionVersionsRequest({ limit: 10 }),
    );
    expect(versions.body?.versions?.map((v: $fc.Version) => v.versionId)).toEqual(
      expect.arrayContaining(['1', '2', '3']),
    );

    const published = await fc.publishFunctionVersion(
      'demo-api',
      new $fc.PublishFunctionVersionRequest({
        body: new $fc.PublishVersionInput({ description: 'by the SDK' }),
      }),
    );
    expect(published.body).toMatchObject({ versionId: '4', description: 'by the SDK' });

    const moved = await fc.updateAlias(
      'demo-api',
      'staging',
      new $fc.UpdateAliasRequest({
        body: new $fc.UpdateAliasInput({ versionId: '4', additionalVersionWeight: { '3': 0.1 } }),
      }),
    );
    expect(moved.body).toMatchObject({
      aliasName: 'staging',
      versionId: '4',
      additionalVersionWeight: { '3': 0.1 },
    });
  });

  it('queues an async invocation (x-fc-invocation-type: Async) and makes an alias', async () => {
    const fc = client(sandbox);
    const invoked = await fc.invokeFunctionWithOptions(
      'demo-api',
      new $fc.InvokeFunctionRequest({ body: Readable.from([Buffer.from('{"kind":"probe"}')]) }),
      new $fc.InvokeFunctionHeaders({ xFcInvocationType: 'Async', xFcAsyncTaskId: 'sdk-task-1' }),
      new RuntimeOptions({}),
    );
    expect(invoked.statusCode).toBe(202);
    expect(invoked.headers?.['x-fc-request-id']).toBeTruthy();
    const calls = (await (await fetch(`${sandbox.url}/_sandbox/calls`)).json()) as {
      action: string;
      status: number;
    }[];
    expect(calls.filter((c) => c.action === 'InvokeFunction').map((c) => c.status)).toEqual([202]);
    const made = await fc.createAlias(
      'demo-api',
      new $fc.CreateAliasRequest({
        body: new $fc.CreateAliasInput({ aliasName: 'canary', versionId: '3', description: 'by the SDK' }),
      }),
    );
    expect(made.body).toMatchObject({ aliasName: 'canary', versionId: '3', description: 'by the SDK' });
    expect((await fc.getAlias('demo-api', 'canary')).body?.versionId).toBe('3');
  });

  it('refuses a wrong secret and an unknown key as FC does', async () => {
    expect(
      await failure(client(sandbox, { ...KEY, accessKeySecret: 'wrong' }).getAlias('demo-api', 'prod')),
    ).toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    expect(
      await failure(
        client(sandbox, { accessKeyId: 'LTAI5tNobody', accessKeySecret: 'x' }).getAlias('demo-api', 'prod'),
      ),
    ).toMatchObject({ code: 'InvalidAccessKeyId.NotFound' });
  });

  it('answers an unknown alias with FC’s not-found error', async () => {
    expect(await failure(client(sandbox).getAlias('demo-api', 'nope'))).toMatchObject({
      code: 'AliasNotFound',
    });
  });
});
