import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guarded, guardedRun } from '../../shared/auth/guard.ts';
import { allowed } from '../../shared/auth/roles.ts';
import { signRequest, stringToSign } from '../../shared/auth/signing.ts';
import { parseConfig } from '../../shared/config/load.ts';
import { type HttpRequest, type HttpResponse, json } from '../../shared/events/http.ts';
import { ConflictError, ParseError } from '../../shared/runtime/errors.ts';
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

  const deps = {
    keys,
    get store() {
      return store;
    },
    now,
    env,
  };
  // The gate with a handler that lets everyone it admits through.
  const gate = async (
    req: HttpRequest,
    action: 'promote' | 'approve' | 'view',
    target: string,
  ): Promise<{ ok: true; keyId: string } | { ok: false; response: HttpResponse }> => {
    const response = await guarded(req, { action, target }, deps, async (keyId) => json(200, { keyId }));
    return response.statusCode === 200
      ? { ok: true, keyId: JSON.parse(response.body).keyId }
      : { ok: false, response };
  };
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

  it('records what the handler answered: a refusal after the gate is refused, with its reason', async () => {
    const call = (handle: () => Promise<HttpResponse>) =>
      guarded(signed('ops-bob', env.BOB), { action: 'approve', target: 'api-audit' }, deps, handle);
    expect(
      (
        await call(async () =>
          json(403, { error: 'self-approval', message: 'the key that asked cannot approve' }),
        )
      ).statusCode,
    ).toBe(403);
    expect((await call(async () => json(202, { ok: true }))).statusCode).toBe(202);
    await expect(
      call(async () => {
        throw new ParseError('request body', [{ path: ['body', 'reason'], message: 'must not contain NUL' }]);
      }),
    ).rejects.toBeInstanceOf(ParseError);
    await expect(
      call(async () => {
        throw new ConflictError('another operation on api-audit is running');
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      call(async () => {
        throw new Error('bug');
      }),
    ).rejects.toThrow('bug');
    expect(
      (await call(async () => json(502, { error: 'UpstreamError', message: 'fc failed' }))).statusCode,
    ).toBe(502);
    const records = (await store.listAudit({ target: 'api-audit', limit: 10 })).reverse();
    expect(records.map((r) => [r.actor, r.action, r.decision, r.reason])).toEqual([
      ['ops-bob', 'approve', 'refused', 'the key that asked cannot approve'],
      ['ops-bob', 'approve', 'allowed', null],
      [
        'ops-bob',
        'approve',
        'refused',
        'ParseError: invalid request body: body.reason: must not contain NUL',
      ],
      ['ops-bob', 'approve', 'refused', 'ConflictError: another operation on api-audit is running'],
      ['ops-bob', 'approve', 'failed', 'Error: bug'],
      ['ops-bob', 'approve', 'failed', 'fc failed'],
    ]);
    expect(records.map((r) => (r.details as { status: number | null }).status)).toEqual([
      403,
      202,
      null,
      null,
      null,
      502,
    ]);
  });

  it('lets a custom rule decide who may (a requester withdrawing their own request)', async () => {
    const response = await guarded(
      signed('ops-alice', env.ALICE),
      { action: 'reject', target: 'api-prod', authorize: (k) => k === 'ops-alice' },
      deps,
      async () => json(200, {}),
    );
    expect(response.statusCode).toBe(200);
    const refused = await guarded(
      signed('ops-bob', env.BOB),
      { action: 'reject', target: 'api-prod', authorize: (k) => k === 'ops-alice' },
      deps,
      async () => json(200, {}),
    );
    expect(JSON.parse(refused.body)).toEqual({
      error: 'Forbidden',
      message: 'key ops-bob may not reject api-prod',
    });
  });

  it('guards run endpoints: 404 for another path or method, else the run action on the named target', async () => {
    const path = /^\/pipelines\/([a-z-]+)\/builds$/;
    const run = (req: HttpRequest) =>
      guardedRun(
        req,
        path,
        (m) => m[1]!,
        deps,
        async () => json(202, {}),
      );
    expect((await run(request('POST', '/pipelines/web', '', {}))).statusCode).toBe(404);
    const get = await run(request('GET', '/pipelines/web/builds', '', {}));
    expect(JSON.parse(get.body)).toEqual({
      error: 'NotFound',
      message: 'no endpoint GET /pipelines/web/builds',
    });
    // Alice may promote and roll back, not run: refused for the target the path named, and audited.
    const refused = await run(
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
    );
    expect(refused.statusCode).toBe(403);
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
