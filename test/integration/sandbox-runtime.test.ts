import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketStore, invokeTarget } from '../../local/cli/dev-wiring.ts';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { SANDBOX_CREDENTIALS, SANDBOX_KEYS } from '../../local/sandbox/keys.ts';
import { Sandbox } from '../../local/sandbox/server.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { until } from '../helpers.ts';

describe('the sandbox cloud wired to the local runtime (as npm start runs them)', () => {
  let sandbox: Sandbox;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    sandbox = await Sandbox.start({
      port: 0,
      dir: mkdtempSync(join(tmpdir(), 'sbx-')),
      keys: SANDBOX_KEYS,
      seed: { fc: { functions: [] } },
    });
    runtime = await LocalRuntime.start({
      template: resolve(import.meta.dirname, '../fixtures/app/s.yaml'),
      port: 0,
      stateDir: mkdtempSync(join(tmpdir(), 'rt-')),
      env: { FC_DEVOPS_CLOUD_URL: sandbox.url, FLAKY_DIR: mkdtempSync(join(tmpdir(), 'flaky-')) },
      print: () => {},
    });
    sandbox.attach({ runtime: invokeTarget(runtime), objects: bucketStore(runtime) });
  });
  afterAll(async () => {
    await runtime?.stop(1000);
    await sandbox?.stop();
  });

  const cloud = () =>
    createCloud({
      region: 'cn-hangzhou',
      accountId: '1234567890123456',
      baseUrl: sandbox.url,
      credentials: async () => SANDBOX_CREDENTIALS,
    });

  it("an object written through the OSS API fires the function's OSS trigger", async () => {
    await cloud().oss.put('uploads', 'incoming/site.zip', Buffer.from('zip'));
    const fired = await until(() => runtime.invocations.find((i) => i.functionName === 'on-upload' && i.ok));
    expect(JSON.parse(fired.response)).toMatchObject({ keys: ['incoming/site.zip'] });
  });

  it('an async InvokeFunction through the FC API runs the function in the local runtime', async () => {
    const { requestId } = await cloud().fc.invokeAsync(
      'flaky',
      Buffer.from('{"id":"via-sandbox","failTimes":0}'),
    );
    const done = await until(() => runtime.invocations.find((i) => i.requestId === requestId && i.ok));
    expect(JSON.parse(done.response)).toMatchObject({ id: 'via-sandbox', attempts: 1 });
  });

  it('answers inspection requests and refuses bad ones without falling over', async () => {
    expect((await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'POST', body: '{oops' })).status).toBe(
      400,
    );
    const time = await fetch(`${sandbox.url}/_sandbox/time`, { method: 'POST', body: '{"advanceMs":60000}' });
    expect(await time.json()).toMatchObject({ scale: 1 });
    const calls = (await (await fetch(`${sandbox.url}/_sandbox/calls`)).json()) as { action: string }[];
    expect(calls.map((c) => c.action)).toEqual(['PutObject', 'InvokeFunction']);
    expect((await fetch(`${sandbox.url}/_sandbox/nothing`)).status).toBe(404);
  });
});
