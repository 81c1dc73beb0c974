import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../shared/auth/signing.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { runCli, until } from '../helpers.ts';
import { type System, startSystem } from '../system.ts';

const KEYS = { 'ops-alice': 'alice-secret', 'ops-bob': 'bob-secret' } as const;

const CONFIG = `region: cn-hangzhou
backups:
  policies:
    orders:
      instances: [rm-bp1sandbox0001]
      schedule: "0 0 2 * * *"
    geo:
      instances: [rm-bp1sandbox0001]
      schedule: "0 0 2 * * *"
      crossRegion: { region: cn-shanghai }
access:
  keys:
    ops-alice: { secret: "\${env:T_ALICE}", roles: [{ targets: ["*"], actions: [view, run] }] }
    ops-bob: { secret: "\${env:T_BOB}", roles: [{ targets: ["*"], actions: [view] }] }
`;

describe('the console over HTTP: sessions, refusals, the runs API', () => {
  let system: System;
  let store: Store;
  let base: string;

  beforeAll(async () => {
    const { loadSeedFile } = await import('../../local/sandbox/seed.ts');
    system = await startSystem({
      config: CONFIG,
      seed: loadSeedFile(join(import.meta.dirname, '../../local/sandbox/seed.example.json')),
      env: () => ({ T_ALICE: KEYS['ops-alice'], T_BOB: KEYS['ops-bob'] }),
    });
    store = await openStore({ databaseUrl: system.runtime.databaseUrl });
    base = `${system.runtime.url}/console`;
  }, 180_000);
  afterAll(async () => {
    await store?.close();
    await system?.stop();
  });

  const signIn = (key: string, secret: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ key, secret }).toString(),
    });
  const cookieOf = (response: Response) => (response.headers.get('set-cookie') ?? '').split(';')[0]!;

  it('sets an HttpOnly, SameSite=Strict session cookie for its own path, Secure behind HTTPS', async () => {
    const plain = await signIn('ops-alice', KEYS['ops-alice']);
    expect(plain.status).toBe(303);
    const cookie = plain.headers.get('set-cookie')!;
    expect(cookie).toMatch(
      /^fcd_session=[A-Za-z0-9_-]{43}; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
    const https = await signIn('ops-alice', KEYS['ops-alice'], { 'x-forwarded-proto': 'https' });
    expect(https.headers.get('set-cookie')).toMatch(/; Secure$/);
    // The token is kept only as its hash.
    const token = cookieOf(plain).split('=')[1]!;
    const sessions = await fetch(`${base}/runs`, { headers: { cookie: cookieOf(plain) } });
    expect(sessions.status).toBe(200);
    expect(await store.getSession(token)).toBeUndefined();
  });

  it('pages are small, self-contained, and forbid outside scripts', async () => {
    const cookie = cookieOf(await signIn('ops-alice', KEYS['ops-alice']));
    for (const path of [
      '/runs',
      '/backups',
      '/audit',
      '/sign-in',
      '/static/console.css',
      '/static/console.js',
    ]) {
      const response = await fetch(`${base}${path}`, { headers: { cookie } });
      expect(response.status).toBe(200);
      const body = await response.text();
      expect(Buffer.byteLength(body)).toBeLessThan(100 * 1024);
      // Nothing is loaded from another host.
      expect(body).not.toMatch(/(src|href)="(https?:)?\/\//);
      if (path.startsWith('/static')) continue;
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  it("shows a policy's regions side by side, and a region that is behind", async () => {
    const cookie = cookieOf(await signIn('ops-alice', KEYS['ops-alice']));
    const page = await (await fetch(`${base}/backups`, { headers: { cookie } })).text();
    const table = /<table data-test="regions-geo">([\s\S]*?)<\/table>/.exec(page)?.[1] ?? '';
    expect(table).toContain('<td>cn-hangzhou (home)</td><td>rm-bp1sandbox0001</td><td>');
    // Nothing was ever copied to Shanghai: no copies, and the newest backup has none there.
    expect(table).toContain('<td>cn-shanghai (copy)</td><td>rm-bp1sandbox0001</td><td>0</td>');
    expect(page).toMatch(
      /data-test="region-warning">cn-shanghai is behind: backup \S+ \(.+\) has no copy in cn-shanghai after 6 h</,
    );
    // A policy without a second region shows no regions table.
    expect(page).not.toContain('data-test="regions-orders"');
  });

  it('rate-limits sign-in per key, with the same answer for a right secret once limited, and audits each try', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await signIn('ops-bob', 'wrong')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const limited = await signIn('ops-bob', KEYS['ops-bob']);
    expect(limited.status).toBe(429);
    expect(await limited.text()).toContain('too many sign-in attempts');
    expect(limited.headers.get('set-cookie')).toBeNull();
    const tries = (await store.listAudit({ actor: 'ops-bob', limit: 20 })).filter(
      (a) => a.action === 'sign-in',
    );
    expect(tries.map((a) => a.reason)).toEqual([
      'rate limited',
      'wrong key or secret',
      'wrong key or secret',
      'wrong key or secret',
      'wrong key or secret',
      'wrong key or secret',
    ]);
  });

  it('sends a page to sign-in without a session, and refuses the runs API without credentials', async () => {
    const page = await fetch(`${base}/runs`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/console/sign-in');
    const api = await fetch(`${base}/api/runs`);
    expect(api.status).toBe(401);
    const forged = await fetch(`${base}/runs`, {
      redirect: 'manual',
      headers: { cookie: `fcd_session=${'A'.repeat(43)}` },
    });
    expect(forged.status).toBe(303);
  });

  it('cancels a long backup from the CLI while runs show --follow prints it to its end', async () => {
    const body = JSON.stringify({ dryRun: false });
    const path = '/policies/orders/run';
    const started = await fetch(`${system.runtime.url}/backup-rotate${path}`, {
      method: 'POST',
      headers: {
        ...signRequest({ method: 'POST', path, body, keyId: 'ops-alice', secret: KEYS['ops-alice'] }),
        'content-type': 'application/json',
        'idempotency-key': 'console-cancel-1',
      },
      body,
    });
    expect(started.status).toBe(202);
    // The sandbox takes ten minutes to make a backup: the run waits, saying how far the task is.
    const run = await until(async () => {
      const r = (await store.listRuns({ kind: 'backup.rotate', status: 'running' })).runs[0];
      return r?.stages[0]?.name === 'created' ? r : undefined;
    }, 60_000);
    const env = {
      ...process.env,
      DATABASE_URL: system.runtime.databaseUrl,
      FC_DEVOPS_KEY_ID: 'ops-bob',
      FC_DEVOPS_KEY_SECRET: KEYS['ops-bob'],
    };
    const follow = runCli(['runs', 'show', run.id, '--follow'], { env });
    // Bob may view but not run: refused, and the run goes on.
    const refused = await runCli(['runs', 'cancel', run.id, '--url', base], { env });
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain('key ops-bob may not cancel');
    const cancel = await runCli(['runs', 'cancel', run.id, '--url', base], {
      env: { ...env, FC_DEVOPS_KEY_ID: 'ops-alice', FC_DEVOPS_KEY_SECRET: KEYS['ops-alice'] },
    });
    expect(cancel.status).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ run: { id: run.id, cancelRequestedBy: 'ops-alice' } });
    const followed = await follow;
    expect(followed.status).toBe(1);
    expect(followed.stdout).toMatch(/stage created +\S+ … \d+% {2}backup task \d+: \d+%/);
    expect(followed.stdout).toContain('backup task');
    expect(followed.stdout).toContain('cancelled while waiting');
    expect(followed.stdout).toMatch(new RegExp(`${run.id} .* cancelled`));
    expect(await store.getRun(run.id)).toMatchObject({ status: 'cancelled', cancelRequestedBy: 'ops-alice' });
    const audit = await store.listAudit({ actor: 'ops-alice', limit: 5 });
    expect(audit[0]).toMatchObject({ action: 'cancel', target: `runs/${run.id}`, decision: 'allowed' });
    // A run that does not exist: 404, said by name.
    const again = await runCli(['runs', 'cancel', 'run-none', '--url', base], {
      env: { ...env, FC_DEVOPS_KEY_ID: 'ops-alice', FC_DEVOPS_KEY_SECRET: KEYS['ops-alice'] },
    });
    expect(again.status).toBe(1);
    expect(again.stdout).toContain('no run run-none');
  }, 120_000);

  it('lists and shows runs through the console API with --url, as a deployed fc-devops is read', async () => {
    const env = { ...process.env, FC_DEVOPS_KEY_ID: 'ops-bob', FC_DEVOPS_KEY_SECRET: KEYS['ops-bob'] };
    const list = await runCli(['runs', '--url', base, '--kind', 'backup.rotate'], { env });
    expect(list.status).toBe(0);
    const [line] = list.stdout.trim().split('\n');
    expect(line).toMatch(/^run-\S+ {2}\S+Z {2}cancelled backup\.rotate {2}orders\/rm-bp1sandbox0001/);
    const id = line!.split(' ')[0]!;
    const show = await runCli(['runs', 'show', id, '--url', base], { env });
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(/stage created +\S+Z \d+\.\ds \d+%/);
    expect(show.stdout).toContain('cancelled while waiting');
    const missing = await runCli(['runs', 'show', 'run-none', '--url', base], { env });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('no run run-none\n');
    const forged = await runCli(['runs', '--url', base], {
      env: { ...env, FC_DEVOPS_KEY_SECRET: 'not-bobs' },
    });
    expect(forged.status).toBe(1);
    expect(forged.stderr).toBe('401 signature does not match\n');
  });
});
