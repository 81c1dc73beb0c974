import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { SANDBOX_CREDENTIALS } from '../../local/sandbox/keys.ts';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { createJob } from '../../shared/events/job.ts';
import { NotifyEventSchema } from '../../shared/notify/event.ts';
import { eventsVia } from '../../shared/notify/publish.ts';
import { openStore } from '../../shared/store/open.ts';
import { until } from '../helpers.ts';
import { type System, startSystem } from '../system.ts';

const CONFIG = `region: cn-hangzhou
notifications:
  channels:
    ding: { type: dingtalk, webhook: "\${env:T_DING_URL}", secret: "\${env:T_DING_SECRET}" }
    ding-bad: { type: dingtalk, webhook: "\${env:T_DING_URL}", secret: "\${env:T_WRONG}" }
  routes:
    - match: { kinds: ["fragile.**"] }
      channels: [ding-bad]
      groupWindowSeconds: 0
    - match: { kinds: ["**"] }
      channels: [ding]
      groupWindowSeconds: 0
`;

describe('the notify function in the local runtime', () => {
  let system: System;
  let sandbox: Sandbox;
  let runtime: LocalRuntime;
  beforeAll(async () => {
    system = await startSystem({
      config: CONFIG,
      sinks: { dingtalk: { tok: 'SECsecret' }, lark: {}, wecom: [], slack: [], webhook: {} },
      retryBaseMs: 50,
      env: (url) => ({
        T_DING_URL: `${url}/sinks/dingtalk/robot/send?access_token=tok`,
        T_DING_SECRET: 'SECsecret',
        T_WRONG: 'SECwrong',
      }),
    });
    ({ sandbox, runtime } = system);
  });
  afterAll(async () => system?.stop());

  const fc = () =>
    createCloud({
      region: 'cn-hangzhou',
      accountId: '1234567890123456',
      baseUrl: sandbox.url,
      credentials: async () => SANDBOX_CREDENTIALS,
    }).fc;
  const notifyDone = (n: number) =>
    until(
      () =>
        (runtime.invocations.filter((i) => i.functionName === 'notify').length >= n &&
          runtime.queue.list().length === 0) ||
        undefined,
      20_000,
    );

  it('delivers a published event, and a redelivered job sends nothing twice', async () => {
    const event = await eventsVia(fc()).publish({
      kind: 'release.promoted',
      severity: 'info',
      subject: 'api-prod v7',
      summary: 'promoted to 100%',
    });
    await notifyDone(1);
    const { bytes } = createJob({
      kind: 'notify.event',
      idempotencyKey: `event:${event.id}`,
      payload: event,
    });
    await fc().invokeAsync('notify', bytes);
    await fc().invokeAsync('notify', bytes);
    await notifyDone(3);
    const delivered = sandbox.messages.filter((m) => JSON.stringify(m.body).includes('api-prod v7'));
    expect(delivered).toHaveLength(1);
    const results = runtime.invocations
      .filter((i) => i.functionName === 'notify')
      .map((i) => JSON.parse(i.response).status);
    expect(results).toEqual(['done', 'duplicate', 'duplicate']);
  });

  it('delivers an event whose text holds NUL characters (a packer log tail), once', async () => {
    const before = runtime.invocations.filter((i) => i.functionName === 'notify').length;
    await eventsVia(fc()).publish({
      kind: 'image.build.failed',
      severity: 'error',
      subject: 'pipeline web @ nul0000',
      summary: 'packer build failed: \u0000binary junk',
      details: { logTail: '==> file: wrote \u0000\u0001 bytes' },
    });
    await notifyDone(before + 1);
    const attempts = runtime.invocations.slice(-1);
    expect(JSON.parse(attempts[0]!.response).status).toBe('done');
    const delivered = sandbox.messages.filter((m) => JSON.stringify(m.body).includes('nul0000'));
    expect(delivered).toHaveLength(1);
    expect(JSON.stringify(delivered[0]!.body)).toContain('packer build failed');
  });

  it('acknowledges an event that fails its schema instead of retrying it', async () => {
    const before = runtime.invocations.length;
    const bad = {
      ...NotifyEventSchema.parse({
        id: 'x',
        kind: 'a.b',
        severity: 'info',
        subject: 's',
        summary: 'x',
        time: new Date().toISOString(),
      }),
      severity: 'loud',
    };
    const { bytes } = createJob({ kind: 'notify.event', idempotencyKey: 'bad', payload: bad });
    await fc().invokeAsync('notify', bytes);
    await notifyDone(5);
    const attempts = runtime.invocations.slice(before).filter((i) => i.functionName === 'notify');
    expect(attempts).toHaveLength(1);
    expect(JSON.parse(attempts[0]!.response)).toMatchObject({
      status: 'rejected',
      issues: [{ path: 'payload.severity' }],
    });
  });

  it('makes a delivery that failed for good visible as a failed run', async () => {
    await eventsVia(fc()).publish({
      kind: 'fragile.thing.failed',
      severity: 'error',
      subject: 'x',
      summary: 'y',
    });
    await notifyDone(6);
    const store = await openStore({ databaseUrl: runtime.databaseUrl });
    try {
      const { runs } = await store.listRuns({ kind: 'notify.delivery', status: 'failed' });
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        subject: 'ding-bad',
        error: { channel: 'ding-bad', message: 'dingtalk answered 310000: sign not match' },
      });
      const [eventRun] = (await store.listRuns({ kind: 'notify.event', subject: 'fragile.thing.failed x' }))
        .runs;
      expect(await store.readRunLog(eventRun!.id)).toMatch(/failed ding-bad events=1 attempts=\d+/);
    } finally {
      await store.close();
    }
  });
});
