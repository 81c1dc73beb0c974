import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../local/sandbox/keys.ts';
import { signRequest } from '../../shared/auth/signing.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { KubeClient } from '../../shared/kube/client.ts';
import { parseKubeconfig } from '../../shared/kube/kubeconfig.ts';
import type { Deployment } from '../../shared/kube/types.ts';
import { openStore } from '../../shared/store/open.ts';
import { until } from '../helpers.ts';
import { type System, startSystem } from '../system.ts';

const KEYS = { 'ops-alice': 'alice-secret', 'ops-bob': 'bob-secret', 'ops-carol': 'carol-secret' } as const;
const CLUSTER = 'c8sandboxshop01';
const REG = 'registry.cn-hangzhou.aliyuncs.com/shop';

const target = (deployment: string, extra = '') =>
  `{ kind: k8s-deployment, cluster: ${CLUSTER}, namespace: shop, deployment: ${deployment}, container: ${deployment}${extra} }`;
const health = (deployment: string) =>
  `, healthChecks: [{ url: "__SANDBOX__/apps/${CLUSTER}/shop/${deployment}/healthz", passes: 1 }]`;

const config = `region: cn-hangzhou
releases:
  targets:
    web: ${target('web', `, healthySeconds: 60${health('web')}`)}
    api: ${target('api', `, onFailure: pause, healthySeconds: 0`)}
    cart: ${target('cart', `, healthySeconds: 120${health('cart')}`)}
    legacy: ${target('legacy', ', healthySeconds: 0')}
    ghost: ${target('ghost')}
    nowhere: { kind: k8s-deployment, cluster: c8nosuchcluster, namespace: shop, deployment: web, container: web }
    vault: { kind: k8s-deployment, cluster: ${CLUSTER}, namespace: vault, deployment: keys, container: keys }
    twin: { kind: k8s-deployment, cluster: ${CLUSTER}, namespace: shop, deployment: twin-b, container: app, healthySeconds: 0 }
    solo: ${target('solo', ', healthySeconds: 0')}
    gated: ${target('gated', ', healthySeconds: 0, requireApproval: true, channel: shop-web')}
    proxy: { kind: k8s-deployment, cluster: ${CLUSTER}, namespace: shop, deployment: web, container: nginx }
access:
  keys:
    ops-alice: { secret: "\${env:T_ALICE}", roles: [{ targets: ["*"], actions: [view, promote, rollback] }] }
    ops-bob: { secret: "\${env:T_BOB}", roles: [{ targets: ["*"], actions: [view, approve] }] }
    ops-carol: { secret: "\${env:T_CAROL}", roles: [{ targets: ["*"], actions: [view] }] }
images:
  channels: { shop-web: {} }
`;

const two = (name: string, tag: string) => ({ [name]: `${REG}/${name}:${tag}`, sidecar: `${REG}/proxy:1.0` });

describe('release: Kubernetes Deployments on ACK, through the running system and the sandbox cluster', () => {
  let system: System;
  // How far the sandbox clock (and so the timer's trigger time) is ahead of real time.
  let offsetMs = 0;

  beforeAll(async () => {
    system = await startSystem({
      config: (url) => config.replaceAll('__SANDBOX__', url),
      env: () => ({ T_ALICE: KEYS['ops-alice'], T_BOB: KEYS['ops-bob'], T_CAROL: KEYS['ops-carol'] }),
      seed: {
        cs: {
          clusters: [
            {
              id: CLUSTER,
              nodepools: [],
              kubernetes: {
                podReadySeconds: 5,
                namespaces: ['vault'],
                grants: { [SANDBOX_CREDENTIALS.accessKeyId]: ['shop'] },
                deployments: [
                  {
                    namespace: 'shop',
                    name: 'web',
                    replicas: 4,
                    progressDeadlineSeconds: 60,
                    revisions: [two('web', '1.0.0'), two('web', '1.1.0')],
                  },
                  {
                    namespace: 'shop',
                    name: 'api',
                    replicas: 2,
                    progressDeadlineSeconds: 60,
                    revisions: [{ api: `${REG}/api:1.0.0` }],
                  },
                  {
                    namespace: 'shop',
                    name: 'cart',
                    replicas: 2,
                    revisions: [{ cart: `${REG}/cart:1.0.0` }, { cart: `${REG}/cart:1.1.0` }],
                  },
                  {
                    namespace: 'shop',
                    name: 'legacy',
                    replicas: 1,
                    revisions: [
                      { legacy: `${REG}/legacy:1.0` },
                      { legacy: `${REG}/legacy:2.0` },
                      { legacy: `${REG}/legacy:3.0` },
                    ],
                    causes: ['first release', 'second release', 'third release'],
                  },
                  ...['twin-a', 'twin-b'].map((name) => ({
                    namespace: 'shop',
                    name,
                    replicas: 2,
                    revisions: [{ app: `${REG}/app:1` }, { app: `${REG}/app:2` }, { app: `${REG}/app:3` }],
                    causes: ['one', 'two', 'three'],
                  })),
                  { namespace: 'shop', name: 'solo', replicas: 2, revisions: [{ solo: `${REG}/solo:1` }] },
                  { namespace: 'shop', name: 'gated', replicas: 1, revisions: [{ gated: `${REG}/gated:1` }] },
                  { namespace: 'vault', name: 'keys', replicas: 1, revisions: [{ keys: `${REG}/keys:1` }] },
                ],
              },
            },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const call = async (key: keyof typeof KEYS | null, method: string, path: string, body?: unknown) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = key ? signRequest({ method, path, body: text, keyId: key, secret: KEYS[key] }) : {};
    const response = await fetch(`${system.runtime.url}/release${path}`, {
      method,
      headers: { ...headers, 'content-type': 'application/json' },
      ...(text ? { body: text } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  /** Move sandbox time on, then fire the release timer at the same moment. */
  const tick = async (advanceSeconds = 0) => {
    if (advanceSeconds) {
      offsetMs += advanceSeconds * 1000;
      await fetch(`${system.sandbox.url}/_sandbox/time`, {
        method: 'POST',
        body: JSON.stringify({ advanceMs: advanceSeconds * 1000 }),
      });
    }
    const r = await fetch(`${system.runtime.url}/2023-03-30/functions/release/invocations`, {
      method: 'POST',
      body: JSON.stringify({
        triggerTime: new Date(Date.now() + offsetMs).toISOString().replace(/\.\d+Z$/, 'Z'),
        triggerName: 'advance',
        payload: '',
      }),
    });
    return (await r.json()) as Record<string, string>;
  };
  const fault = (image: string, kind: string, afterSeconds?: number) =>
    fetch(`${system.sandbox.url}/_sandbox/kube/images`, {
      method: 'POST',
      body: JSON.stringify({ image, kind, afterSeconds }),
    });
  const kubeconfig = async () =>
    (
      await createCloud({
        region: 'cn-hangzhou',
        accountId: '1',
        baseUrl: system.sandbox.url,
        credentials: async () => SANDBOX_CREDENTIALS,
      }).ack.userKubeconfig(CLUSTER, { temporaryMinutes: 4320 })
    ).config;
  const deployment = async (name: string): Promise<Deployment> =>
    new KubeClient(parseKubeconfig(await kubeconfig())).getDeployment('shop', name);
  /** kubectl pointed at the sandbox cluster, or undefined (said) when it is not installed. */
  const kubectl = async () => {
    if (!(await findKubectl())) {
      console.warn(
        'kubectl is not installed (apt-get install kubernetes-client): the kubectl half of this test is skipped',
      );
      return undefined;
    }
    const dir = mkdtempSync(join(tmpdir(), 'kubectl-'));
    writeFileSync(join(dir, 'config'), await kubeconfig());
    return async (...args: string[]) =>
      (
        await promisify(execFile)(
          'kubectl',
          ['--kubeconfig', join(dir, 'config'), '--cache-dir', join(dir, 'cache'), '-n', 'shop', ...args],
          { timeout: 30_000 },
        )
      ).stdout;
  };
  const told = (event: string, subject: RegExp) =>
    until(
      () =>
        system.sandbox.calls.find(
          (c) =>
            c.action === 'InvokeFunction' &&
            (c.params as { event?: string }).event === event &&
            subject.test((c.params as { subject?: string }).subject ?? ''),
        )?.params as { severity?: string } | undefined,
      10_000,
    );

  it('rolls a good image out, checks its health for healthySeconds, and records it', async () => {
    const started = await call('ops-alice', 'POST', '/targets/web/promote', { tag: '1.2.0' });
    expect(started.status).toBe(202);
    expect(started.body.release).toMatchObject({
      status: 'rolling',
      from: { revision: 2, images: two('web', '1.1.0') },
      to: { images: { ...two('web', '1.1.0'), web: `${REG}/web:1.2.0` } },
    });
    // A promote while the rollout runs is refused with the rollout's state.
    const again = await call('ops-alice', 'POST', '/targets/web/promote', { tag: '1.3.0' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'InProgress', release: { status: 'rolling' } });

    expect((await tick(3)).web).toMatch(/^waiting: Waiting for deployment "web" rollout to finish/);
    expect((await tick(30)).web).toMatch(/^verifying until /);
    expect((await call('ops-carol', 'GET', '/targets/web')).body.release.status).toBe('verifying');
    expect((await tick(61)).web).toBe('promoted');

    const dep = await deployment('web');
    expect(dep.spec.template.spec.containers.map((c) => c.image)).toEqual([
      `${REG}/web:1.2.0`,
      `${REG}/proxy:1.0`,
    ]);
    expect(dep.metadata.annotations?.['kubernetes.io/change-cause']).toBe(
      `fc-devops: promote web to ${REG}/web:1.2.0 by ops-alice`,
    );
    const history = await call('ops-carol', 'GET', '/targets/web/history');
    expect(history.body.entries[0]).toMatchObject({
      action: 'promote',
      outcome: 'succeeded',
      revision: 3,
      to: { web: `${REG}/web:1.2.0` },
      by: 'ops-alice',
    });
    expect((await told('release.promoted', /^web revision 3$/)).severity).toBe('info');
  });

  it('undoes an image that never becomes ready, to exactly the previous pod template, and says so critically', async () => {
    const before = await deployment('web');
    await fault(`${REG}/web:9.9.9`, 'never-ready');
    expect(
      (await call('ops-alice', 'POST', '/targets/web/promote', { image: `${REG}/web:9.9.9` })).status,
    ).toBe(202);
    expect((await tick(30)).web).toMatch(
      /^waiting: Waiting for deployment "web" rollout to finish: 2 out of 4 new replicas/,
    );
    expect((await tick(40)).web).toBe('rolling back: deployment "web" exceeded its progress deadline');
    const undone = await deployment('web');
    // The pod template, field by field, is the one before the promote.
    expect(undone.spec.template).toEqual(before.spec.template);
    expect(undone.metadata.annotations?.['kubernetes.io/change-cause']).toBe(
      before.metadata.annotations?.['kubernetes.io/change-cause'],
    );
    expect((await told('release.rolled-back', /^web revision 3$/)).severity).toBe('critical');
    expect((await tick(30)).web).toBe('rolled back');
    const status = await call('ops-carol', 'GET', '/targets/web');
    expect(status.body.release).toMatchObject({
      status: 'rolled-back',
      operation: 'rollback',
      automatic: true,
    });
    expect(status.body.current).toMatchObject({
      revision: 5,
      images: two('web', '1.2.0'),
      rollout: { state: 'complete' },
    });
    const [rollback, promote] = (await call('ops-carol', 'GET', '/targets/web/history')).body.entries;
    expect(rollback).toMatchObject({
      action: 'rollback',
      automatic: true,
      outcome: 'rolled-back',
      revision: 3,
    });
    expect(promote).toMatchObject({
      action: 'promote',
      outcome: 'rolled-back',
      reason: 'deployment "web" exceeded its progress deadline',
    });
  });

  it('rolls back when the health checks fail after a complete rollout (pods crashing after becoming ready)', async () => {
    const before = await deployment('cart');
    await fault(`${REG}/cart:2.0.0`, 'crash-after-ready', 20);
    expect((await call('ops-alice', 'POST', '/targets/cart/promote', { tag: '2.0.0' })).status).toBe(202);
    expect((await tick(15)).cart).toMatch(/^verifying until /);
    expect((await tick(30)).cart).toMatch(
      /^rolling back: health check failed: .*\/apps\/c8sandboxshop01\/shop\/cart\/healthz answered 503, expected 200$/,
    );
    expect((await deployment('cart')).spec.template).toEqual(before.spec.template);
    expect((await tick(30)).cart).toBe('rolled back');
    expect((await told('release.rolled-back', /^cart /)).severity).toBe('critical');
  });

  it('pauses instead of rolling back when the target says so, and a rollback by hand resumes it', async () => {
    await fault(`${REG}/api:2.0.0`, 'never-ready');
    expect((await call('ops-alice', 'POST', '/targets/api/promote', { tag: '2.0.0' })).status).toBe(202);
    expect((await tick(90)).api).toBe('paused: deployment "api" exceeded its progress deadline');
    const paused = await deployment('api');
    expect(paused.spec.paused).toBe(true);
    expect(paused.spec.template.spec.containers[0]!.image).toBe(`${REG}/api:2.0.0`);
    expect((await call('ops-carol', 'GET', '/targets/api')).body.release.status).toBe('paused');
    expect((await told('release.paused', /^api$/)).severity).toBe('critical');
    // Nothing moves a paused target by itself.
    expect((await tick(60)).api).toBeUndefined();

    const back = await call('ops-alice', 'POST', '/targets/api/rollback', { reason: 'bad build' });
    expect(back.status).toBe(202);
    expect((await tick(30)).api).toBe('rolled back');
    const resumed = await deployment('api');
    expect(resumed.spec.paused).toBe(false);
    expect(resumed.spec.template.spec.containers[0]!.image).toBe(`${REG}/api:1.0.0`);
  });

  it('rolls back by hand to a named revision, and kubectl rollout history agrees with release status', async () => {
    const plan = await call('ops-alice', 'POST', '/targets/legacy/rollback', { revision: 1, dryRun: true });
    expect(plan.status).toBe(200);
    expect(plan.body.plan.calls[0]).toMatchObject({
      action: 'PatchDeployment',
      toRevision: 1,
      images: { legacy: `${REG}/legacy:1.0` },
      patch: [
        { op: 'replace', path: '/spec/template' },
        {
          op: 'add',
          path: '/metadata/annotations',
          value: { 'kubernetes.io/change-cause': 'first release' },
        },
      ],
    });
    expect((await deployment('legacy')).spec.template.spec.containers[0]!.image).toBe(`${REG}/legacy:3.0`);
    expect((await call('ops-alice', 'POST', '/targets/legacy/rollback', { revision: 7 })).body).toMatchObject(
      {
        error: 'RevisionNotFound',
        message: 'shop/legacy: unable to find specified revision 7 in history',
      },
    );
    expect((await call('ops-alice', 'POST', '/targets/legacy/rollback', { revision: 1 })).status).toBe(202);
    expect((await tick(30)).legacy).toBe('rolled back');
    const status = (await call('ops-carol', 'GET', '/targets/legacy')).body.current;
    expect(status.images).toEqual({ legacy: `${REG}/legacy:1.0` });
    // Revision 1 came back as revision 4, as Kubernetes renumbers an undone revision.
    expect(
      status.revisions.map((r: { revision: number; changeCause: string }) => [r.revision, r.changeCause]),
    ).toEqual([
      [2, 'second release'],
      [3, 'third release'],
      [4, 'first release'],
    ]);

    const run = await kubectl();
    if (!run) return;
    const history = await run('rollout', 'history', 'deployment/legacy');
    const rows = history
      .split('\n')
      .filter((l) => /^\d+\s/.test(l))
      .map((l) => {
        const [revision, ...cause] = l.trim().split(/\s+/);
        return [Number(revision), cause.join(' ')];
      });
    expect(rows).toEqual(
      status.revisions.map((r: { revision: number; changeCause: string }) => [r.revision, r.changeCause]),
    );
    expect(await run('rollout', 'status', 'deployment/legacy')).toBe(
      'deployment "legacy" successfully rolled out\n',
    );
    expect(await run('rollout', 'history', 'deployment/legacy', '--revision', '4')).toContain(
      `Image:\t${REG}/legacy:1.0`,
    );
  });

  it('undoes exactly as kubectl rollout undo does (the same template, annotations and renumbered history)', async () => {
    const run = await kubectl();
    if (!run) return;
    expect(await run('rollout', 'undo', 'deployment/twin-a', '--to-revision=1')).toBe(
      'deployment.apps/twin-a rolled back\n',
    );
    expect((await call('ops-alice', 'POST', '/targets/twin/rollback', { revision: 1 })).status).toBe(202);
    expect((await tick(30)).twin).toBe('rolled back');
    const [a, b] = [await deployment('twin-a'), await deployment('twin-b')];
    const same = (d: Deployment) => ({
      containers: d.spec.template.spec.containers,
      annotations: d.metadata.annotations,
      generation: d.metadata.generation,
    });
    expect(same(b)).toEqual(same(a));
    expect(a.metadata.annotations).toEqual({
      'deployment.kubernetes.io/revision': '4',
      'kubernetes.io/change-cause': 'one',
    });
    const rows = (await run('rollout', 'history', 'deployment/twin-a'))
      .split('\n')
      .filter((l) => /^\d/.test(l));
    expect(rows.map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ['2', 'two'],
      ['3', 'three'],
      ['4', 'one'],
    ]);
    const revisions = (await call('ops-carol', 'GET', '/targets/twin')).body.current.revisions;
    expect(
      revisions.map((r: { revision: number; changeCause: string }) => [String(r.revision), r.changeCause]),
    ).toEqual(rows.map((l) => l.split(/\s+/).slice(0, 2)));
  });

  it('stops watching a rollout someone changed outside fc-devops (kubectl set image), and says so', async () => {
    const run = await kubectl();
    if (!run) return;
    expect((await call('ops-alice', 'POST', '/targets/solo/promote', { tag: '2' })).status).toBe(202);
    await run('set', 'image', 'deployment/solo', `solo=${REG}/solo:99`);
    expect((await tick(1)).solo).toMatch(
      /^stopped: the Deployment was changed outside fc-devops \(generation 3, ours 2\); no longer watched$/,
    );
    expect((await call('ops-carol', 'GET', '/targets/solo')).body.release.status).toBe('failed');
    expect((await deployment('solo')).spec.template.spec.containers[0]!.image).toBe(`${REG}/solo:99`);
    expect((await told('release.failed', /^solo$/)).severity).toBe('warning');
  });

  it('finishes a patch whose record was lost, from what the Deployment says', async () => {
    const store = await openStore({ databaseUrl: system.runtime.databaseUrl });
    try {
      const dep = await deployment('cart');
      const images = { cart: dep.spec.template.spec.containers[0]!.image };
      // The patch landed (the Deployment runs these images) but the state still says applying.
      await store.appendHistory('release:state:cart', {
        value: {
          kind: 'k8s-deployment',
          operation: 'promote',
          status: 'rolling',
          from: { revision: 1, images },
          to: { images },
          generation: 0,
          startedAt: new Date().toISOString(),
          by: 'ops-alice',
          applying: { want: images, previous: null, since: new Date().toISOString() },
        },
      });
    } finally {
      await store.close();
    }
    // Reconciled to the Deployment's generation, then watched: complete and healthy at once.
    const result = (await tick(1)).cart;
    expect(result).toMatch(/^completed an interrupted change; verifying until /);
    expect((await told('release.reconciled', /^cart$/)).severity).toBe('warning');
  });

  it("takes the image channel's image, waits for approval, and refuses while frozen", async () => {
    const store = await openStore({ databaseUrl: system.runtime.databaseUrl });
    try {
      await store.appendHistory('channel:shop-web', {
        value: { images: { 'cn-hangzhou': `${REG}/gated:2` } },
      });
    } finally {
      await store.close();
    }
    const plan = await call('ops-alice', 'POST', '/targets/gated/promote', { dryRun: true });
    expect(plan.body).toMatchObject({ dryRun: true, plan: { requiresApproval: true } });
    expect(plan.body.plan.calls[0].patch[1]).toEqual({
      op: 'replace',
      path: '/spec/template/spec/containers/0/image',
      value: `${REG}/gated:2`,
    });
    const asked = await call('ops-alice', 'POST', '/targets/gated/promote', {});
    expect(asked.status).toBe(202);
    const { id, token } = asked.body.approval;
    expect((await deployment('gated')).spec.template.spec.containers[0]!.image).toBe(`${REG}/gated:1`);
    expect((await call('ops-alice', 'POST', `/approvals/${id}/approve`, { token })).status).toBe(403);
    const approved = await call('ops-bob', 'POST', `/approvals/${id}/approve`, { token });
    expect(approved.status).toBe(202);
    expect(approved.body).toMatchObject({
      release: { status: 'rolling', by: 'ops-alice' },
      approval: { approvedBy: 'ops-bob' },
    });
    expect((await tick(30)).gated).toBe('promoted');
    expect((await deployment('gated')).spec.template.spec.containers[0]!.image).toBe(`${REG}/gated:2`);

    expect(
      (await call('ops-alice', 'POST', '/targets/gated/freeze', { reason: 'release week' })).status,
    ).toBe(200);
    const frozen = await call('ops-alice', 'POST', '/targets/gated/promote', { tag: '3', dryRun: true });
    expect(frozen).toMatchObject({
      status: 409,
      body: { error: 'Frozen', message: 'gated is frozen: release week' },
    });
  });

  it('takes concurrent promotes of one target in turn', async () => {
    const [a, b] = await Promise.all([
      call('ops-alice', 'POST', '/targets/legacy/promote', { tag: '5.0' }),
      call('ops-alice', 'POST', '/targets/legacy/promote', { tag: '6.0' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error).toBe('InProgress');
    expect((await tick(30)).legacy).toBe('promoted');
    const winner = a.status === 202 ? '5.0' : '6.0';
    const other = winner === '5.0' ? '6.0' : '5.0';
    expect((await deployment('legacy')).spec.template.spec.containers[0]!.image).toBe(
      `${REG}/legacy:${winner}`,
    );
    expect((await call('ops-alice', 'POST', '/targets/legacy/promote', { tag: other })).status).toBe(202);
    expect((await tick(30)).legacy).toBe('promoted');
    expect((await deployment('legacy')).spec.template.spec.containers[0]!.image).toBe(
      `${REG}/legacy:${other}`,
    );
  });

  it('refuses bad input by name and changes nothing', async () => {
    const generation = (await deployment('web')).metadata.generation;
    const cases: [keyof typeof KEYS | null, string, unknown, number, Record<string, unknown>][] = [
      [
        'ops-alice',
        '/targets/ghost/promote',
        { tag: '1' },
        404,
        { error: 'DeploymentNotFound', message: `deployment shop/ghost not found in cluster ${CLUSTER}` },
      ],
      [
        'ops-alice',
        '/targets/nowhere/promote',
        { tag: '1' },
        404,
        { error: 'ClusterNotFound', message: 'ACK cluster c8nosuchcluster not found' },
      ],
      [
        'ops-alice',
        '/targets/proxy/promote',
        { tag: '1' },
        400,
        {
          error: 'ContainerNotFound',
          message: 'deployment shop/web has no container "nginx"; its containers: web, sidecar',
        },
      ],
      ['ops-alice', '/targets/vault/promote', { tag: '1' }, 502, { error: 'ClusterRefused' }],
      ['ops-alice', '/targets/web/promote', { version: '3' }, 400, { field: 'body.version' }],
      ['ops-alice', '/targets/web/promote', { image: 'Not An Image' }, 400, {}],
      ['ops-alice', '/targets/web/promote', {}, 400, { error: 'ImageRequired' }],
      ['ops-alice', '/targets/web/rollback', { revision: 0 }, 400, {}],
      ['ops-carol', '/targets/web/promote', { tag: '7' }, 403, {}],
      [null, '/targets/web/promote', { tag: '7' }, 401, {}],
    ];
    for (const [key, path, body, status, answer] of cases) {
      const r = await call(key, 'POST', path, body);
      expect({ path, body, status: r.status }).toEqual({ path, body, status });
      expect(r.body).toMatchObject(answer);
    }
    expect((await call('ops-carol', 'GET', '/targets/vault')).body.current).toMatchObject({
      error: 'ClusterRefused',
    });
    expect((await deployment('web')).metadata.generation).toBe(generation);
    expect((await call('ops-carol', 'GET', '/targets/web')).body.release.status).toBe('rolled-back');
  });
});

async function findKubectl(): Promise<string | undefined> {
  try {
    await promisify(execFile)('kubectl', ['version', '--client']);
    return 'kubectl';
  } catch {
    return undefined;
  }
}
