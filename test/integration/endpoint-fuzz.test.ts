import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushDelivery } from '../../local/cli/git-push.ts';
import { signRequest } from '../../shared/auth/signing.ts';
import { githubSignature } from '../../shared/events/git/verify.ts';
import { openStore } from '../../shared/store/open.ts';
import { until } from '../helpers.ts';
import { commitFiles, git } from '../images/git-repo.ts';
import { type System, startSystem } from '../system.ts';

const config = (repo: string) => `region: cn-hangzhou
images:
  channels: { staging: {}, prod: {} }
  pipelines:
    web:
      repository: { url: ${repo}, host: local, webhookSecret: "\${env:T_HOOK}" }
      template: packer/web.json
      channel: staging
  prune: { keep: 5, dryRun: true }
backups:
  policies:
    orders: { instances: [rm-fuzz], schedule: "0 0 2 * * *" }
terraform:
  planKey: \${env:T_PLAN_KEY}
  workspaces:
    infra: { repository: { url: ${repo}, host: local }, dir: ".", environments: { maxTtlHours: 8 } }
scaling:
  targets:
    web:
      kind: ess
      scalingGroupId: asg-fuzz
      min: 1
      max: 10
      alarms: { secret: "\${env:T_ALARM}", rules: [{ metric: CPUUtilization, step: 1 }] }
releases:
  targets:
    api: { kind: fc-alias, function: demo-api, alias: prod }
    api-gated: { kind: fc-alias, function: demo-api, alias: gated, requireApproval: true }
    web-image: { kind: image-channel, from: staging, to: prod }
    web-k8s: { kind: k8s-deployment, cluster: c-fuzz0001, namespace: shop, deployment: web, container: web }
monitoring:
  checks:
    web: { kind: tcp, host: 127.0.0.1, port: 1 }
access:
  keys:
    ops: { secret: "\${env:T_OPS}", roles: [{ targets: ["*"], actions: [view, promote, rollback, approve, run, plan, apply, unlock, env, destroy, scale, silence] }] }
`;

/** Names that resolve through Object.prototype when looked up carelessly. */
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
/** Strings that break storage, logs or terminals. */
const HOSTILE_TEXT = [
  'x\u0000y',
  '\u0000',
  'a\u0007b',
  '\u001b[31mred',
  'line\u2028sep',
  '\ud800',
  'é'.repeat(3000),
];
const HOSTILE_VALUES: unknown[] = [
  ...HOSTILE_TEXT,
  ...PROTOTYPE_NAMES,
  1e308,
  -0,
  2 ** 64,
  Number.MAX_SAFE_INTEGER + 2,
  -1,
  0.5,
  null,
  true,
  [],
  ['x'],
  {},
  { __proto__: { polluted: true } },
  'x'.repeat(100_000),
];

/** JSON nested `depth` objects deep, written out (JSON.stringify itself would run out of stack). */
const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** An environment the fuzzed requests find (made straight in the store: it owns nothing). */
const ENV = 'infra-fuzz01';

interface Endpoint {
  fn: string;
  method: string;
  /** A path, with `{}` where a name from the URL goes. */
  path: string;
  name: string;
  body: Record<string, unknown> | undefined;
}

const ENDPOINTS: Endpoint[] = [
  { fn: 'release', method: 'GET', path: '/targets/{}', name: 'api', body: undefined },
  { fn: 'release', method: 'GET', path: '/targets/{}/history', name: 'api', body: undefined },
  {
    fn: 'release',
    method: 'POST',
    path: '/targets/{}/promote',
    name: 'api',
    body: { version: '2', dryRun: true },
  },
  { fn: 'release', method: 'POST', path: '/targets/{}/promote', name: 'api-gated', body: { version: '2' } },
  {
    fn: 'release',
    method: 'POST',
    path: '/targets/{}/rollback',
    name: 'api',
    body: { dryRun: true, reason: 'r' },
  },
  {
    fn: 'release',
    method: 'POST',
    path: '/targets/{}/promote',
    name: 'web-k8s',
    body: { tag: '3', dryRun: true },
  },
  {
    fn: 'release',
    method: 'POST',
    path: '/targets/{}/rollback',
    name: 'web-k8s',
    body: { dryRun: true, revision: 1, reason: 'r' },
  },
  { fn: 'release', method: 'POST', path: '/targets/{}/freeze', name: 'web-image', body: { reason: 'r' } },
  { fn: 'release', method: 'POST', path: '/targets/{}/unfreeze', name: 'web-image', body: {} },
  { fn: 'release', method: 'POST', path: '/approvals/{}/approve', name: 'apr-none', body: { token: 't' } },
  { fn: 'release', method: 'POST', path: '/approvals/{}/reject', name: 'apr-none', body: { token: 't' } },
  { fn: 'monitor', method: 'GET', path: '/checks/{}', name: 'web', body: undefined },
  {
    fn: 'monitor',
    method: 'POST',
    path: '/silences',
    name: '',
    // A day from now: a fixed date would pass and turn every answer into "until is in the past".
    body: { checks: ['web'], until: new Date(Date.now() + 86_400_000).toISOString(), reason: 'r' },
  },
  { fn: 'monitor', method: 'POST', path: '/silences/{}/end', name: 'sil-none', body: {} },
  { fn: 'backup-rotate', method: 'POST', path: '/policies/{}/run', name: 'orders', body: { dryRun: true } },
  {
    fn: 'image-build',
    method: 'POST',
    path: '/pipelines/{}/builds',
    name: 'web',
    body: { commit: 'a'.repeat(40), ref: 'refs/heads/main' },
  },
  { fn: 'image-prune', method: 'POST', path: '/run', name: '', body: { dryRun: true } },
  { fn: 'terraform', method: 'GET', path: '/workspaces/{}', name: 'infra', body: undefined },
  {
    fn: 'terraform',
    method: 'POST',
    path: '/workspaces/{}/plans',
    name: 'infra',
    body: { commit: 'b'.repeat(40), ref: 'refs/heads/main' },
  },
  {
    fn: 'terraform',
    method: 'POST',
    path: '/workspaces/{}/plans/plan-00000000-0000-0000-0000-000000000000/reject',
    name: 'infra',
    body: { reason: 'r' },
  },
  { fn: 'terraform', method: 'POST', path: '/workspaces/{}/unlock', name: 'infra', body: { reason: 'r' } },
  // A commit the repository does not have: an accepted create fails its plan at once, offline.
  {
    fn: 'terraform',
    method: 'POST',
    path: '/environments',
    name: '',
    body: { template: 'infra', ttl: '1h', commit: 'c'.repeat(40), variables: { size: 's' } },
  },
  { fn: 'terraform', method: 'GET', path: '/environments/{}', name: ENV, body: undefined },
  { fn: 'terraform', method: 'POST', path: '/environments/{}/extend', name: ENV, body: { by: '1h' } },
  { fn: 'terraform', method: 'POST', path: '/environments/{}/handled', name: ENV, body: { reason: 'r' } },
  {
    fn: 'terraform',
    method: 'POST',
    path: '/environments/{}/destroy',
    name: 'infra-none00',
    body: { reason: 'r' },
  },
  { fn: 'scale', method: 'GET', path: '/targets/{}', name: 'web', body: undefined },
  { fn: 'scale', method: 'GET', path: '/targets/{}/preview', name: 'web', body: undefined },
  {
    fn: 'scale',
    method: 'POST',
    path: '/targets/{}/set',
    name: 'web',
    body: { desired: 2, reason: 'r', dryRun: true },
  },
  { fn: 'scale', method: 'POST', path: '/targets/{}/freeze', name: 'web', body: { reason: 'r', minutes: 5 } },
  { fn: 'scale', method: 'POST', path: '/targets/{}/unfreeze', name: 'web', body: { reason: 'r' } },
];

describe('every HTTP endpoint under hostile input: never a 500, and a 4xx changes nothing', () => {
  let system: System;
  let stateUrl: string;
  const repo = mkdtempSync(join(tmpdir(), 'fuzz-repo-'));

  beforeAll(async () => {
    git(repo, 'init', '-q', '-b', 'main');
    commitFiles(repo, { 'packer/web.json': '{}' });
    system = await startSystem({
      config: config(repo),
      env: () => ({
        T_OPS: 'ops-secret',
        T_HOOK: 'hook-secret',
        T_PLAN_KEY: 'fuzz-plan-key',
        T_ALARM: 'alarm-secret',
      }),
      seed: {
        ess: {
          groups: [
            {
              id: 'asg-fuzz',
              name: 'fuzz',
              min: 1,
              max: 10,
              desired: 2,
              configurationId: 'asc-fuzz',
              imageId: 'm-fuzz',
            },
          ],
        },
        fc: { functions: [{ name: 'demo-api', versions: 3, aliases: { prod: '1', gated: '1' } }] },
        cs: {
          clusters: [
            {
              id: 'c-fuzz0001',
              nodepools: [],
              kubernetes: {
                deployments: [
                  { namespace: 'shop', name: 'web', revisions: [{ web: 'web:1' }, { web: 'web:2' }] },
                ],
              },
            },
          ],
        },
        rds: { instances: [{ id: 'rm-fuzz', engine: 'MySQL', category: 'HighAvailability' }] },
      },
    });
    const url = new URL(system.runtime.databaseUrl);
    url.searchParams.delete('fcdevops_serial');
    stateUrl = url.toString();
    const store = await openStore({ databaseUrl: system.runtime.databaseUrl });
    await store.createEnvironment({
      id: ENV,
      template: 'infra',
      owner: 'ops',
      status: 'active',
      expiresAt: new Date(Date.now() + 3_600_000),
      meta: {
        source: { kind: 'commit', repository: repo, commit: 'c'.repeat(40), ref: '' },
        variables: {},
        ttlHours: 1,
      },
    });
    await store.close();
  });
  afterAll(async () => {
    await system?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  /** What a refused request must leave as it was: the store's records and every call that changes the cloud. */
  const snapshot = async () => {
    // Work queued by an earlier, accepted request (an event to notify) must not count against this one.
    await until(() => system.runtime.queue.list().length === 0 || undefined);
    const client = new pg.Client({ connectionString: stateUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`select
        (select count(*) from history)::int as history,
        (select count(*) from approvals)::int as approvals,
        (select count(*) from approvals where status <> 'pending')::int as decided,
        (select count(*) from runs)::int as runs,
        (select count(*) from idempotency where key not like 'auth-nonce:%')::int as claims,
        (select count(*) from locks where expires_at > now())::int as locks,
        (select count(*) from terraform_environments)::int as environments,
        (select count(*) from audit where action = 'env.extend')::int as extensions`);
      const changes = system.sandbox.calls.filter(
        (c) => !/^(Describe|List|Get)/.test(c.action) && c.status < 300,
      ).length;
      return { ...rows[0], changes };
    } finally {
      await client.end();
    }
  };

  const send = async (e: Endpoint, name: string, raw: string | Buffer, signed = true) => {
    const path = e.path.replace('{}', encodeURIComponent(name));
    const body = e.method === 'GET' ? '' : raw;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signed)
      Object.assign(
        headers,
        signRequest({ method: e.method, path, body, keyId: 'ops', secret: 'ops-secret' }),
      );
    const response = await fetch(`${system.runtime.url}/${e.fn}${path}`, {
      method: e.method,
      headers,
      ...(e.method === 'GET' ? {} : { body }),
    });
    return { status: response.status, body: await response.text() };
  };

  /** One request: no 5xx, and if refused, nothing changed; the answer names what was wrong. */
  const check = async (e: Endpoint, name: string, raw: string | Buffer, signed = true) => {
    const before = await snapshot();
    const answer = await send(e, name, raw, signed);
    const what = `${e.method} ${e.fn}${e.path} name=${JSON.stringify(name).slice(0, 60)} body=${String(raw).slice(0, 120)}`;
    expect(answer.status, `${what}: ${answer.body.slice(0, 300)}`).toBeLessThan(500);
    if (answer.status >= 400) {
      expect(await snapshot(), what).toEqual(before);
      const body = JSON.parse(answer.body) as { error?: string; message?: string };
      expect(typeof body.message === 'string' && body.message.length > 0, `${what}: ${answer.body}`).toBe(
        true,
      );
    }
    return answer;
  };

  it.each(ENDPOINTS.map((e) => [`${e.method} /${e.fn}${e.path} (${e.name || 'fixed'})`, e] as const))(
    '%s: prototype names in the path are unknown names (404), never resolved',
    async (_label, e) => {
      if (!e.path.includes('{}')) return;
      for (const name of PROTOTYPE_NAMES) {
        const answer = await check(e, name, JSON.stringify(e.body ?? {}));
        // A name the URL pattern refuses is no endpoint at all; one it takes is an unknown target.
        expect([404], `${e.path} ${name}: ${answer.body}`).toContain(answer.status);
      }
    },
  );

  it.each(
    ENDPOINTS.filter((e) => e.body && Object.keys(e.body).length > 0).map(
      (e) => [`${e.method} /${e.fn}${e.path}`, e] as const,
    ),
  )(
    '%s: each field replaced by hostile values, signed: 4xx naming the field or a clean answer',
    async (_label, e) => {
      for (const field of Object.keys(e.body!)) {
        for (const value of HOSTILE_VALUES) {
          const body = { ...e.body, [field]: value };
          const answer = await check(e, e.name, JSON.stringify(body));
          if (answer.status === 400)
            expect(answer.body, JSON.stringify(body).slice(0, 80)).toContain(`body.${field}`);
        }
      }
    },
  );

  it.each(
    ENDPOINTS.filter((e) => e.method === 'POST').map((e) => [`${e.method} /${e.fn}${e.path}`, e] as const),
  )('%s: signed garbage, deep nesting, wrong shapes and unsigned requests', async (_label, e) => {
    const raws: (string | Buffer)[] = [
      '',
      'null',
      '[]',
      '"string"',
      '42',
      '{',
      '{"a":1}',
      JSON.stringify(deep(5000)),
      JSON.stringify({ ...e.body, extra: '\u0000' }),
      Buffer.from([0xff, 0xfe, 0x00, 0x41]),
      'payload=%7B%7D',
    ];
    for (const raw of raws) await check(e, e.name, raw);
    expect((await check(e, e.name, JSON.stringify(e.body), false)).status).toBe(401);
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        await check(e, e.name, JSON.stringify(value));
      }),
      { numRuns: 25, seed: 7 },
    );
  });

  it('git-webhook: a signed push with NUL, control characters or a bad commit id in it is a 400 naming the field', async () => {
    const hook: Endpoint = { fn: 'git-webhook', method: 'POST', path: '/', name: '', body: undefined };
    const base = JSON.parse(pushDelivery(repo, 'github', 'hook-secret').body) as Record<string, unknown>;
    const deliver = async (payload: unknown, delivery: string) => {
      const body = JSON.stringify(payload);
      const before = await snapshot();
      const response = await fetch(`${system.runtime.url}/git-webhook/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': delivery,
          'x-hub-signature-256': githubSignature('hook-secret', body),
        },
        body,
      });
      const text = await response.text();
      expect(response.status, text).toBeLessThan(500);
      if (response.status >= 400) expect(await snapshot()).toEqual(before);
      return { status: response.status, text };
    };
    for (const [field, value] of [
      ['ref', 'refs/heads/ma\u0000in'],
      ['ref', 'refs/heads/a\u001b[31m'],
      ['ref', 'refs/heads/constructor\u0000'],
      ['after', 'not-a-sha'],
      ['before', '\u0000'.repeat(40)],
    ] as const) {
      const answer = await deliver({ ...base, [field]: value }, `nul-${field}-${value.length}`);
      expect(answer.status).toBe(400);
      expect(answer.text).toContain(`body.${field}`);
    }
    // Commit messages are data: a NUL in one is kept, not refused.
    const commits = (base.commits as Record<string, unknown>[]).map((c) => ({
      ...c,
      message: 'fix\u0000it',
    }));
    expect((await deliver({ ...base, commits }, 'nul-message')).status).toBe(202);
    await check(hook, '', 'x');
  });

  it('scale alarms and query parameters: hostile secrets, names, bodies and queries get a 4xx naming what, never a change', async () => {
    const alarmBody = (fields: Record<string, string>) =>
      new URLSearchParams({
        alertName: 'cpu',
        timestamp: '1764496800',
        alertState: 'ALERT',
        metricName: 'CPUUtilization',
        ...fields,
      }).toString();
    const post = async (
      target: string,
      secret: string,
      body: string | Buffer,
      type = 'application/x-www-form-urlencoded',
    ) => {
      const before = await snapshot();
      const response = await fetch(`${system.runtime.url}/scale/alarms/${target}/${secret}`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
      const text = await response.text();
      expect(response.status, `${target}/${secret}: ${text}`).toBeLessThan(500);
      expect(response.status, `${target}/${secret}: ${text}`).toBeGreaterThanOrEqual(400);
      expect(await snapshot(), `${target}/${secret}`).toEqual(before);
      return { status: response.status, message: (JSON.parse(text) as { message: string }).message };
    };
    for (const secret of ['wrong', '%00', '%E0%A4%A', 'constructor', '__proto__', 'x'.repeat(200)])
      expect((await post('web', secret, alarmBody({}))).status).toBe(401);
    for (const target of ['constructor', 'prototype', 'none'])
      expect(await post(target, 'alarm-secret', alarmBody({}))).toMatchObject({
        status: 404,
        message: `no scaling target named ${target}`,
      });
    for (const [field, value] of [
      ['alertName', 'cp\u0000u'],
      ['metricName', '\u001b[31mCPU'],
      ['alertState', 'constructor'],
      ['timestamp', '\u0000'],
      ['curValue', 'x'.repeat(100)],
      ['dimensions', deep(100)],
    ] as const) {
      const answer = await post('web', 'alarm-secret', alarmBody({ [field]: value }));
      expect(answer.status, field).toBe(400);
      expect(answer.message, field).toContain(field);
    }
    expect((await post('web', 'alarm-secret', deep(5000), 'application/json')).status).toBe(400);
    expect((await post('web', 'alarm-secret', 'x'.repeat(200_000))).status).toBe(400);
    expect((await post('web', 'alarm-secret', Buffer.from([0xff, 0xfe, 0x00, 0x41]))).status).toBe(400);

    const query = async (fn: string, path: string, q: Record<string, string>) => {
      const search = new URLSearchParams(q).toString();
      const headers = signRequest({
        method: 'GET',
        path,
        query: q,
        body: '',
        keyId: 'ops',
        secret: 'ops-secret',
      });
      const response = await fetch(`${system.runtime.url}/${fn}${path}?${search}`, { headers });
      return { status: response.status, body: (await response.json()) as { message: string } };
    };
    for (const template of ['\u0000', 'constructor\u0000', 'x'.repeat(300), '__proto__'])
      expect(await query('terraform', '/environments', { template })).toMatchObject({
        status: 400,
        body: { message: expect.stringContaining('query.template') },
      });
    for (const days of ['\u0000', '-1', '1e9', '0.5', 'constructor'])
      expect(await query('scale', '/targets/web/preview', { days })).toMatchObject({
        status: 400,
        body: { message: expect.stringContaining('query.days') },
      });
  });
});
