import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { SANDBOX_CREDENTIALS } from '../../local/sandbox/keys.ts';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { signRequest } from '../../shared/auth/signing.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { until } from '../helpers.ts';
import { type System, startSystem } from '../system.ts';

const KEYS = { 'ops-alice': 'alice-secret', 'ops-bob': 'bob-secret', 'ops-carol': 'carol-secret' } as const;

const config = (health: string) => `region: cn-hangzhou
releases:
  targets:
    api-canary:
      kind: fc-alias
      function: demo-api
      alias: prod
      steps: [10, 50, 100]
      stepWaitSeconds: 0
      healthChecks: [{ url: "${health}/ok", passes: 2, intervalSeconds: 1, maxLatencyMs: 2000 }]
    api-fragile:
      kind: fc-alias
      function: demo-api
      alias: fragile
      steps: [20, 100]
      stepWaitSeconds: 0
      healthChecks: [{ url: "${health}/broken", passes: 1 }]
    api-direct:
      kind: fc-alias
      function: demo-api
      alias: staging
    api-guarded:
      kind: fc-alias
      function: demo-api
      alias: guarded
      requireApproval: true
    web-image:
      kind: image-channel
      from: staging
      to: prod
      scalingConfiguration: { scalingGroupId: asg-bp1sandbox0001, scalingConfigurationId: asc-bp1sandbox0001 }
    web-lt:
      kind: image-channel
      from: staging
      to: prod-lt
      launchTemplate: { launchTemplateId: lt-web }
    web-geo:
      kind: image-channel
      from: staging-geo
      to: prod-geo
      scalingConfiguration: { scalingGroupId: asg-geo-hz, scalingConfigurationId: asc-geo-hz }
      regions:
        cn-shanghai:
          scalingConfiguration: { scalingGroupId: asg-geo-sh, scalingConfigurationId: asc-geo-sh }
images:
  channels: { staging: {}, prod: {}, prod-lt: {}, staging-geo: {}, prod-geo: {} }
access:
  keys:
    ops-alice: { secret: "\${env:T_ALICE}", roles: [{ targets: ["*"], actions: [view, promote, rollback] }] }
    ops-bob: { secret: "\${env:T_BOB}", roles: [{ targets: ["*"], actions: [view, approve] }] }
    ops-carol: { secret: "\${env:T_CAROL}", roles: [{ targets: ["*"], actions: [view] }] }
`;

describe('release: promote and roll back through the running system', () => {
  let system: System;
  let sandbox: Sandbox;
  let runtime: LocalRuntime;
  let health: Server;
  let store: Store;

  beforeAll(async () => {
    health = createServer((req, res) => res.writeHead(req.url === '/ok' ? 200 : 500).end());
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
    const healthUrl = `http://127.0.0.1:${(health.address() as { port: number }).port}`;
    system = await startSystem({
      config: config(healthUrl),
      env: () => ({ T_ALICE: KEYS['ops-alice'], T_BOB: KEYS['ops-bob'], T_CAROL: KEYS['ops-carol'] }),
      seed: {
        fc: {
          functions: [
            {
              name: 'demo-api',
              versions: 3,
              aliases: { prod: '1', staging: '1', guarded: '1', fragile: '1' },
            },
          ],
        },
        ecs: {
          images: [
            { id: 'm-old', name: 'web-old' },
            { id: 'm-new', name: 'web-new' },
          ],
          launchTemplates: [{ id: 'lt-web', imageIds: ['m-old'] }],
        },
        ess: {
          groups: [
            {
              id: 'asg-bp1sandbox0001',
              name: 'web',
              min: 1,
              max: 5,
              desired: 2,
              configurationId: 'asc-bp1sandbox0001',
              imageId: 'm-old',
            },
            {
              id: 'asg-geo-hz',
              name: 'geo',
              min: 1,
              max: 3,
              desired: 1,
              configurationId: 'asc-geo-hz',
              imageId: 'm-old',
            },
          ],
        },
        regions: {
          'cn-shanghai': {
            ecs: {
              images: [
                { id: 'm-sh-old', name: 'web-old' },
                { id: 'm-sh-new', name: 'web-new' },
              ],
            },
            ess: {
              groups: [
                {
                  id: 'asg-geo-sh',
                  name: 'geo',
                  min: 1,
                  max: 3,
                  desired: 1,
                  configurationId: 'asc-geo-sh',
                  imageId: 'm-sh-old',
                },
              ],
            },
          },
        },
      },
    });
    ({ sandbox, runtime } = system);
    store = await openStore({ databaseUrl: runtime.databaseUrl });
  });
  afterAll(async () => {
    await store?.close();
    await system?.stop();
    health?.close();
  });

  const sandboxCloud = () =>
    createCloud({
      region: 'cn-hangzhou',
      accountId: '1',
      baseUrl: sandbox.url,
      credentials: async () => SANDBOX_CREDENTIALS,
    });
  const fc = () => sandboxCloud().fc;
  const call = async (
    key: keyof typeof KEYS | null,
    method: string,
    path: string,
    body?: unknown,
    secret?: string,
  ) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = key
      ? signRequest({ method, path, body: text, keyId: key, secret: secret ?? KEYS[key] })
      : {};
    const response = await fetch(`${runtime.url}/release${path}`, {
      method,
      headers: { ...headers, 'content-type': 'application/json' },
      ...(text ? { body: text } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const tick = async () => {
    const r = await fetch(`${runtime.url}/2023-03-30/functions/release/invocations`, {
      method: 'POST',
      body: JSON.stringify({
        triggerTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        triggerName: 'advance',
        payload: '',
      }),
    });
    return (await r.json()) as Record<string, string>;
  };

  it('walks a canary through its steps with health checks and finishes', async () => {
    const started = await call('ops-alice', 'POST', '/targets/api-canary/promote', { version: '3' });
    expect(started.status).toBe(202);
    expect(await fc().getAlias('demo-api', 'prod')).toMatchObject({
      versionId: '1',
      additionalVersionWeight: { '3': 0.1 },
    });
    expect((await call('ops-alice', 'POST', '/targets/api-canary/promote', { version: '2' })).status).toBe(
      409,
    );
    expect(await tick()).toEqual({ 'api-canary': 'step 1' });
    expect(await fc().getAlias('demo-api', 'prod')).toMatchObject({
      versionId: '1',
      additionalVersionWeight: { '3': 0.5 },
    });
    expect(await tick()).toEqual({ 'api-canary': 'promoted' });
    expect(await fc().getAlias('demo-api', 'prod')).toMatchObject({
      versionId: '3',
      additionalVersionWeight: {},
    });
    const status = await call('ops-carol', 'GET', '/targets/api-canary');
    expect(status.body).toMatchObject({
      frozen: false,
      release: { status: 'succeeded', from: '1', to: '3' },
    });
  });

  it('rolls a canary back by itself when a health check fails, and says so', async () => {
    expect((await call('ops-alice', 'POST', '/targets/api-fragile/promote', { version: '2' })).status).toBe(
      202,
    );
    const result = await tick();
    expect(result['api-fragile']).toMatch(/^rolled back: .*\/broken answered 500, expected 200/);
    expect(await fc().getAlias('demo-api', 'fragile')).toMatchObject({
      versionId: '1',
      additionalVersionWeight: {},
    });
    const history = await call('ops-carol', 'GET', '/targets/api-fragile/history');
    expect(history.body.entries[0]).toMatchObject({
      action: 'rollback',
      from: '2',
      to: '1',
      by: 'timer:advance',
      automatic: true,
    });
    // notify received the automatic rollback as an event of its own.
    const told = await until(async () =>
      (await store.listRuns({ kind: 'notify.event' })).runs.find((r) =>
        r.subject.startsWith('release.rolled-back api-fragile'),
      ),
    );
    expect(told.status).toBe('succeeded');
  });

  it('promotes directly and rolls back by hand to the previous version', async () => {
    expect(
      (await call('ops-alice', 'POST', '/targets/api-direct/promote', { version: '2', dryRun: true })).body,
    ).toMatchObject({
      dryRun: true,
      plan: { calls: [{ action: 'UpdateAlias', versionId: '2', percent: 100 }] },
    });
    expect((await fc().getAlias('demo-api', 'staging')).versionId).toBe('1');
    expect(
      (await call('ops-alice', 'POST', '/targets/api-direct/promote', { version: '2' })).body,
    ).toMatchObject({ promoted: { from: '1', to: '2' } });
    expect((await call('ops-alice', 'POST', '/targets/api-direct/promote', { version: '99' })).status).toBe(
      404,
    );
    const back = await call('ops-alice', 'POST', '/targets/api-direct/rollback', {});
    expect(back.body).toMatchObject({ rolledBack: { from: '2', to: '1' } });
    expect((await fc().getAlias('demo-api', 'staging')).versionId).toBe('1');
  });

  it('promotes an image into the scaling configuration and rolls it back', async () => {
    await store.appendHistory('channel:prod', { value: { images: { 'cn-hangzhou': 'm-old' } } });
    await store.appendHistory('channel:staging', { value: { images: { 'cn-hangzhou': 'm-new' } } });
    const cloud = sandboxCloud();
    expect((await call('ops-alice', 'POST', '/targets/web-image/promote', {})).status).toBe(200);
    expect((await cloud.ess.scalingConfigurations('asg-bp1sandbox0001'))[0]?.ImageId).toBe('m-new');
    expect((await call('ops-alice', 'POST', '/targets/web-image/rollback', {})).status).toBe(200);
    expect((await cloud.ess.scalingConfigurations('asg-bp1sandbox0001'))[0]?.ImageId).toBe('m-old');
    expect(
      (await store.readHistory<{ images: Record<string, string> }>('channel:prod', { limit: 1 }))[0]?.value
        .images,
    ).toEqual({ 'cn-hangzhou': 'm-old' });
  });

  it("rolls each region's scaling configuration to that region's copy, and refuses a promote a region has no copy for", async () => {
    await store.appendHistory('channel:prod-geo', {
      value: { images: { 'cn-hangzhou': 'm-old', 'cn-shanghai': 'm-sh-old' } },
    });
    const hz = sandboxCloud();
    const sh = createCloud({
      region: 'cn-shanghai',
      accountId: '1',
      baseUrl: sandbox.url,
      credentials: async () => SANDBOX_CREDENTIALS,
    });
    const images = async () => [
      (await hz.ess.scalingConfigurations('asg-geo-hz'))[0]?.ImageId,
      (await sh.ess.scalingConfigurations('asg-geo-sh'))[0]?.ImageId,
    ];
    // The build has not copied the image to Shanghai yet: nothing moves anywhere.
    await store.appendHistory('channel:staging-geo', { value: { images: { 'cn-hangzhou': 'm-new' } } });
    const refused = await call('ops-alice', 'POST', '/targets/web-geo/promote', {});
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error: 'ImageNotInRegion',
      message: expect.stringContaining(
        'channel staging-geo has no copy of its image in cn-shanghai (it has cn-hangzhou)',
      ),
    });
    expect(await images()).toEqual(['m-old', 'm-sh-old']);

    await store.appendHistory('channel:staging-geo', {
      value: { images: { 'cn-hangzhou': 'm-new', 'cn-shanghai': 'm-sh-new' } },
    });
    const plan = await call('ops-alice', 'POST', '/targets/web-geo/promote', { dryRun: true });
    expect(plan.body.plan.calls.slice(1)).toEqual([
      {
        action: 'ModifyScalingConfiguration',
        scalingGroupId: 'asg-geo-hz',
        scalingConfigurationId: 'asc-geo-hz',
        imageId: 'm-new',
      },
      {
        action: 'ModifyScalingConfiguration',
        region: 'cn-shanghai',
        scalingGroupId: 'asg-geo-sh',
        scalingConfigurationId: 'asc-geo-sh',
        imageId: 'm-sh-new',
      },
    ]);
    expect((await call('ops-alice', 'POST', '/targets/web-geo/promote', {})).status).toBe(200);
    expect(await images()).toEqual(['m-new', 'm-sh-new']);
    expect((await call('ops-alice', 'POST', '/targets/web-geo/rollback', {})).status).toBe(200);
    expect(await images()).toEqual(['m-old', 'm-sh-old']);
  });

  it('rolls an image into a launch template as a new default version, and back', async () => {
    await store.appendHistory('channel:prod-lt', { value: { images: { 'cn-hangzhou': 'm-old' } } });
    await store.appendHistory('channel:staging', { value: { images: { 'cn-hangzhou': 'm-new' } } });
    const cloud = sandboxCloud();
    const plan = await call('ops-alice', 'POST', '/targets/web-lt/promote', { dryRun: true });
    expect(plan.body.plan.calls.map((c: { action: string }) => c.action)).toEqual([
      'SetChannel',
      'CreateLaunchTemplateVersion',
      'ModifyLaunchTemplateDefaultVersion',
    ]);
    expect((await call('ops-alice', 'POST', '/targets/web-lt/promote', {})).status).toBe(200);
    const defaultImage = async () =>
      (await cloud.ecs.launchTemplateVersions('lt-web')).find((v) => v.DefaultVersion)?.LaunchTemplateData
        .ImageId;
    expect(await defaultImage()).toBe('m-new');
    expect((await call('ops-alice', 'POST', '/targets/web-lt/rollback', {})).status).toBe(200);
    expect(await defaultImage()).toBe('m-old');
    expect((await cloud.ecs.launchTemplateVersions('lt-web')).map((v) => v.VersionNumber)).toEqual([1, 2, 3]);
  });

  it('refuses promotes of a frozen target until it is unfrozen', async () => {
    expect(
      (
        await call('ops-alice', 'POST', '/targets/api-direct/freeze', {
          reason: 'schema migration in progress',
        })
      ).status,
    ).toBe(200);
    const refused = await call('ops-alice', 'POST', '/targets/api-direct/promote', { version: '3' });
    expect(refused).toMatchObject({
      status: 409,
      body: { error: 'Frozen', message: 'api-direct is frozen: schema migration in progress' },
    });
    expect((await call('ops-alice', 'POST', '/targets/api-direct/unfreeze', {})).status).toBe(200);
    expect((await call('ops-alice', 'POST', '/targets/api-direct/promote', { version: '3' })).status).toBe(
      200,
    );
  });

  it('waits for a different key to approve a guarded promote', async () => {
    const asked = await call('ops-alice', 'POST', '/targets/api-guarded/promote', { version: '2' });
    expect(asked.status).toBe(202);
    const { id, token } = asked.body.approval as { id: string; token: string };
    expect((await fc().getAlias('demo-api', 'guarded')).versionId).toBe('1');
    expect((await call('ops-alice', 'POST', `/approvals/${id}/approve`, { token })).status).toBe(403);
    expect((await call('ops-bob', 'POST', `/approvals/${id}/approve`, { token: 'wrong' })).status).toBe(403);
    const approved = await call('ops-bob', 'POST', `/approvals/${id}/approve`, { token });
    expect(approved).toMatchObject({
      status: 200,
      body: { promoted: { from: '1', to: '2' }, approval: { approvedBy: 'ops-bob' } },
    });
    // Approving it again says it was decided, not that a release is running.
    expect(await call('ops-bob', 'POST', `/approvals/${id}/approve`, { token })).toMatchObject({
      status: 409,
      body: { error: 'already-decided' },
    });
    expect((await fc().getAlias('demo-api', 'guarded')).versionId).toBe('2');
  });

  it('is operated by the CLI, which signs its requests', async () => {
    const { spawn } = await import('node:child_process');
    const cli = (args: string[], key: keyof typeof KEYS) =>
      new Promise<{ code: number | null; out: string }>((done) => {
        const child = spawn(
          process.execPath,
          [
            resolve(import.meta.dirname, '../../bin/fc-devops.mjs'),
            'release',
            ...args,
            '--url',
            `${runtime.url}/release`,
            '--key',
            key,
          ],
          {
            env: { ...process.env, FC_DEVOPS_KEY_SECRET: KEYS[key] },
          },
        );
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.on('exit', (code) => done({ code, out }));
      });
    const status = await cli(['status', 'api-direct'], 'ops-carol');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ target: 'api-direct', kind: 'fc-alias', frozen: false });
    const plan = await cli(['promote', 'api-direct', '--version', '2', '--dry-run'], 'ops-alice');
    expect(JSON.parse(plan.out)).toMatchObject({ dryRun: true });
    expect((await cli(['promote', 'api-direct', '--version', '2'], 'ops-carol')).code).toBe(1);
  });

  it('refuses unsigned, wrongly signed and under-privileged calls, and audits each', async () => {
    expect((await call(null, 'POST', '/targets/api-direct/promote', {})).status).toBe(401);
    expect(
      (await call('ops-alice', 'POST', '/targets/api-direct/promote', {}, 'not-the-secret')).status,
    ).toBe(401);
    expect((await call('ops-carol', 'POST', '/targets/api-direct/promote', {})).status).toBe(403);
    expect((await call('ops-alice', 'POST', '/targets/nope/promote', {})).body).toMatchObject({
      error: 'TargetNotFound',
    });
    expect(
      (await call('ops-alice', 'POST', '/targets/api-direct/promote', { version: 'seven' })).status,
    ).toBe(400);
    const refused = (await store.listAudit({ target: 'api-direct', limit: 50 })).filter(
      (r) => r.decision === 'refused',
    );
    expect(refused.map((r) => [r.actor, r.reason])).toEqual(
      expect.arrayContaining([
        ['anonymous', 'no credentials'],
        ['ops-alice', 'signature does not match'],
        ['ops-carol', 'key ops-carol may not promote api-direct'],
      ]),
    );
  });
});
