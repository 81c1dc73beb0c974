import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, guardRunEndpoint } from '../../shared/auth/guard.ts';
import { allowed } from '../../shared/auth/roles.ts';
import { signRequest, stringToSign } from '../../shared/auth/signing.ts';
import { parseConfig } from '../../shared/config/load.ts';
import type { HttpRequest } from '../../shared/events/http.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';

const token = 'fcd_tok_0123456789abcdef';
const keys = parseConfig(
  `region: cn-hangzhou
access:
  keys:
    ops-alice:
      secret: \${env:ALICE}
      roles: [{ targets: ["*"], actions: [view, promote, rollback] }]
    ops-bob:
      secret: \${env:BOB}
      roles: [{ targets: ["api-*"], actions: [view, approve] }]
    ci-bot:
      tokenSha256: ${createHash('sha256').update(token).digest('hex')}
      roles: [{ targets: [web-image], actions: [promote] }]
`,
  'access.yaml',
).access.keys;
const env = { ALICE: 'alice-secret-value', BOB: 'bob-secret-value' };

function request(
  method: string,
  path: string,
  body: string,
  headers: Record<string, string>,
  query: Record<string, string> = {},
): HttpRequest {
  return {
    method,
    path,
    rawPath: path,
    headers,
    query,
    body: Buffer.from(body),
    sourceIp: '10.1.2.3',
    requestId: 'r-1',
  };
}

describe('operator authentication and authorization', () => {
  let store: Store;
  const t = Date.parse('2026-11-27T10:00:00Z');
  const now = () => new Date(t);
  beforeAll(async () => {
    store = await openStore({ now });
  });
  afterAll(async () => store?.close());

  const gate = (req: HttpRequest, action: 'promote' | 'approve' | 'view', target: string) =>
    guard(req, { action, target }, { keys, store, now, env });
  const signed = (
    keyId: string,
    secret: string,
    body = '{"version":"7"}',
    extra: { nonce?: string; at?: Date; query?: Record<string, string> } = {},
  ) =>
    request(
      'POST',
      '/targets/api-prod/promote',
      body,
      signRequest({
        method: 'POST',
        path: '/targets/api-prod/promote',
        body,
        keyId,
        secret,
        now: extra.at ?? now(),
        query: extra.query ?? {},
        ...(extra.nonce ? { nonce: extra.nonce } : {}),
      }),
      extra.query ?? {},
    );

  it('lets a correctly signed request with the role through, and audits it', async () => {
    expect(await gate(signed('ops-alice', env.ALICE), 'promote', 'api-prod')).toEqual({
      ok: true,
      keyId: 'ops-alice',
    });
    const [record] = await store.listAudit({ target: 'api-prod', limit: 1 });
    expect(record).toMatchObject({
      actor: 'ops-alice',
      action: 'promote',
      decision: 'allowed',
      source: '10.1.2.3',
      reason: null,
    });
  });

  it('refuses unsigned, wrongly signed, expired and replayed requests with 401, each audited with its reason', async () => {
    const cases = [
      [request('POST', '/targets/api-prod/promote', '{}', {}), 'no credentials'],
      [signed('ops-alice', 'not-alices-secret'), 'signature does not match'],
      [
        signed('ops-alice', env.ALICE, '{}', { at: new Date(t - 10 * 60_000) }),
        'timestamp missing or outside the allowed clock skew',
      ],
      [signed('nobody', 'x'), 'unknown key'],
    ] as const;
    for (const [req, reason] of cases) {
      const result = await gate(req, 'promote', 'api-prod');
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.response.statusCode).toBe(401);
        expect(JSON.parse(result.response.body)).toEqual({ error: 'Unauthorized', message: reason });
      }
    }
    const replayed = signed('ops-alice', env.ALICE, '{}', { nonce: 'nonce-0123456789abcdef' });
    expect((await gate(replayed, 'promote', 'api-prod')).ok).toBe(true);
    const again = await gate(replayed, 'promote', 'api-prod');
    expect(again.ok === false && JSON.parse(again.response.body).message).toBe('nonce already used (replay)');
    const refused = (await store.listAudit({ target: 'api-prod', limit: 20 })).filter(
      (r) => r.decision === 'refused',
    );
    expect(refused.map((r) => r.reason)).toEqual([
      'nonce already used (replay)',
      'unknown key',
      'timestamp missing or outside the allowed clock skew',
      'signature does not match',
      'no credentials',
    ]);
    expect(refused.map((r) => r.actor)).toEqual([
      'ops-alice',
      'nobody',
      'ops-alice',
      'ops-alice',
      'anonymous',
    ]);
  });

  it('refuses a body changed after signing, and a signed query that was altered', async () => {
    const req = signed('ops-alice', env.ALICE);
    const tampered = { ...req, body: Buffer.from('{"version":"8"}') };
    expect((await gate(tampered, 'promote', 'api-prod')).ok).toBe(false);
    const withQuery = signed('ops-alice', env.ALICE, '', { query: { dryRun: 'true' } });
    expect((await gate({ ...withQuery, query: { dryRun: 'false' } }, 'promote', 'api-prod')).ok).toBe(false);
  });

  it('answers 403 to a valid key without the role', async () => {
    const result = await gate(signed('ops-bob', env.BOB), 'promote', 'api-prod');
    expect(result.ok === false && result.response.statusCode).toBe(403);
    expect(result.ok === false && JSON.parse(result.response.body)).toEqual({
      error: 'Forbidden',
      message: 'key ops-bob may not promote api-prod',
    });
    expect((await gate(signed('ops-bob', env.BOB), 'approve', 'api-prod')).ok).toBe(true);
    expect((await gate(signed('ops-bob', env.BOB), 'approve', 'web-image')).ok).toBe(false);
  });

  it('accepts bearer tokens by their hash', async () => {
    const ok = request('POST', '/targets/web-image/promote', '{}', { authorization: `Bearer ${token}` });
    expect(await gate(ok, 'promote', 'web-image')).toEqual({ ok: true, keyId: 'ci-bot' });
    const bad = request('POST', '/targets/web-image/promote', '{}', { authorization: 'Bearer nope' });
    expect((await gate(bad, 'promote', 'web-image')).ok).toBe(false);
  });

  it('keeps secrets out of audit records', async () => {
    const all = JSON.stringify(await store.listAudit({ limit: 100 }));
    for (const secret of [env.ALICE, env.BOB, token]) expect(all).not.toContain(secret);
  });

  it('guards run endpoints: 404 for another path or method, else the run action on the named target', async () => {
    const deps = { keys, store, now, env };
    const path = /^\/pipelines\/([a-z-]+)\/builds$/;
    const elsewhere = await guardRunEndpoint(
      request('POST', '/pipelines/web', '', {}),
      path,
      (m) => m[1]!,
      deps,
    );
    expect(elsewhere.ok || elsewhere.response.statusCode).toBe(404);
    const get = await guardRunEndpoint(
      request('GET', '/pipelines/web/builds', '', {}),
      path,
      (m) => m[1]!,
      deps,
    );
    expect(get.ok || JSON.parse(get.response.body)).toEqual({
      error: 'NotFound',
      message: 'no endpoint GET /pipelines/web/builds',
    });
    // Alice may promote and roll back, not run: refused for the target the path named, and audited.
    const refused = await guardRunEndpoint(
      request(
        'POST',
        '/pipelines/web/builds',
        '{}',
        signRequest({
          method: 'POST',
          path: '/pipelines/web/builds',
          body: '{}',
          keyId: 'ops-alice',
          secret: env.ALICE,
          now: now(),
        }),
      ),
      path,
      (m) => m[1]!,
      deps,
    );
    expect(refused.ok || refused.response.statusCode).toBe(403);
    const [record] = await store.listAudit({ target: 'web', limit: 1 });
    expect(record).toMatchObject({ actor: 'ops-alice', action: 'run', decision: 'refused' });
  });

  it('matches targets and roles', () => {
    expect(allowed(keys, 'ops-alice', 'rollback', 'anything')).toBe(true);
    expect(allowed(keys, 'ci-bot', 'rollback', 'web-image')).toBe(false);
    expect(
      stringToSign({
        method: 'post',
        path: '/p',
        query: { b: '2', a: 'x y' },
        timestamp: '1',
        nonce: 'n',
        bodySha256: 'h',
      }),
    ).toBe('FCD-HMAC-SHA256\nPOST\n/p\na=x%20y&b=2\n1\nn\nh');
  });
});
