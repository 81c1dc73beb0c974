import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { artifact, HAS_CHROMIUM, launchChromium, sayIfNoBrowser } from '../browser.ts';
import { until } from '../helpers.ts';
import { git } from '../images/git-repo.ts';
import { type System, startSystem } from '../system.ts';
import { HAS_TERRAFORM, sayIfSkipped } from '../terraform/harness.ts';

sayIfNoBrowser('console browser tests');
sayIfSkipped('console browser tests (they approve and apply a real plan)');

const KEYS = {
  'ops-alice': 'alice-secret',
  'ops-bob': 'bob-secret',
  'ops-carol': 'carol-secret',
  'ops-dave': 'dave-secret',
} as const;
type Key = keyof typeof KEYS;

/**
 * A workspace whose apply says `step 1`, then waits until the test opens a gate (a file; two minutes
 * at most), then says steps 2 to 6: the page is open while the run waits, so its log must grow there.
 */
function makeRepo(): { dir: string; commit: string; gate: string } {
  const root = mkdtempSync(join(tmpdir(), 'console-tf-'));
  const dir = join(root, 'repo');
  const gate = join(root, 'gate');
  mkdirSync(join(dir, 'slow'), { recursive: true });
  writeFileSync(
    join(dir, 'slow/main.tf'),
    `resource "terraform_data" "slow" {
  input = "console"
  provisioner "local-exec" {
    command = "echo step 1; i=0; while [ ! -f ${gate} ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i+1)); done; for i in 2 3 4 5 6; do echo step $i; done"
  }
}
`,
  );
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'first');
  return { dir, commit: git(dir, 'rev-parse', 'HEAD').trim(), gate };
}

const config = (repo: string) => `region: cn-hangzhou
terraform:
  planKey: \${env:T_PLAN_KEY}
  workspaces:
    slow:
      repository: { url: ${repo}, host: local, webhookSecret: "\${env:T_GIT_SECRET}" }
      dir: slow
      paths: ["slow/**"]
backups:
  policies:
    orders:
      instances: [rm-bp1sandbox0001]
      schedule: "0 0 2 * * *"
      drill: { schedule: "0 0 5 * * SUN" }
access:
  keys:
    ops-alice: { secret: "\${env:T_ALICE}", roles: [{ targets: ["*"], actions: [view, plan, apply, run] }] }
    ops-bob: { secret: "\${env:T_BOB}", roles: [{ targets: ["*"], actions: [view, approve] }] }
    ops-carol: { secret: "\${env:T_CAROL}", roles: [{ targets: ["*"], actions: [view] }] }
    ops-dave: { secret: "\${env:T_DAVE}", roles: [{ targets: [orders], actions: [view] }] }
`;

describe.skipIf(!HAS_CHROMIUM || !HAS_TERRAFORM)('the console in Chromium', () => {
  let system: System;
  let store: Store;
  let browser: Browser;
  let repo: { dir: string; commit: string; gate: string };
  let base: string;

  beforeAll(async () => {
    repo = makeRepo();
    const { loadSeedFile } = await import('../../local/sandbox/seed.ts');
    system = await startSystem({
      config: config(repo.dir),
      seed: loadSeedFile(join(import.meta.dirname, '../../local/sandbox/seed.example.json')),
      // RDS clones take 15 sandbox minutes: at 600x a drill restores in about a second and a half.
      timeScale: 600,
      env: () => ({
        T_PLAN_KEY: 'console-plan-key',
        T_GIT_SECRET: 'console-git-secret',
        T_ALICE: KEYS['ops-alice'],
        T_BOB: KEYS['ops-bob'],
        T_CAROL: KEYS['ops-carol'],
        T_DAVE: KEYS['ops-dave'],
      }),
    });
    store = await openStore({ databaseUrl: system.runtime.databaseUrl });
    browser = await launchChromium();
    base = `${system.runtime.url}/console`;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await store?.close();
    await system?.stop();
  });

  /** A fresh browser profile signed in as `key`. */
  async function signedIn(key: Key): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/sign-in`);
    await page.fill('input[name=key]', key);
    await page.fill('input[name=secret]', KEYS[key]);
    await page.click('[data-test=sign-in]');
    await page.waitForSelector('[data-test=who]');
    expect(await page.textContent('[data-test=who]')).toBe(key);
    return page;
  }

  it('refuses a wrong secret and an unknown key with the same words, and audits both', async () => {
    const page = await (await browser.newContext()).newPage();
    const attempt = async (key: string, secret: string) => {
      await page.goto(`${base}/sign-in`);
      await page.fill('input[name=key]', key);
      await page.fill('input[name=secret]', secret);
      await page.click('[data-test=sign-in]');
      return page.textContent('[data-test=error]');
    };
    expect(await attempt('ops-alice', 'not-her-secret')).toBe('wrong key or secret');
    expect(await attempt('ops-nobody', 'whatever')).toBe('wrong key or secret');
    await page.screenshot({ path: artifact('sign-in-refused.png') });
    const refused = (await store.listAudit({ limit: 50 })).filter(
      (a) => a.action === 'sign-in' && a.decision === 'refused',
    );
    expect(refused.map((a) => a.actor).sort()).toEqual(['anonymous', 'ops-alice']);
    await page.context().close();
  });

  it('plans with one key, approves with a second, and shows the apply log growing live', async () => {
    const alice = await signedIn('ops-alice');
    await alice.goto(`${base}/terraform`);
    // Alice may plan but not approve: she sees the plan form and no Approve button.
    await alice.fill('input[name=commit]', repo.commit);
    await alice.click('button:has-text("Plan a commit")');
    expect(await alice.textContent('[data-test=notice]')).toBeTruthy();
    const planId = await until(async () => {
      const plans = await store.listPlans('slow');
      return plans.find((p) => p.status === 'awaiting-approval')?.id;
    }, 120_000);
    await alice.goto(`${base}/terraform`);
    expect(await alice.textContent(`[data-test=plan-status-${planId}]`)).toBe('awaiting-approval');
    expect(await alice.locator(`[data-test=approve-${planId}]`).count()).toBe(0);
    await alice.screenshot({ path: artifact('terraform-awaiting-approval.png'), fullPage: true });

    const bob = await signedIn('ops-bob');
    await bob.goto(`${base}/terraform`);
    await bob.click(`[data-test=approve-${planId}]`);
    expect(await bob.textContent('[data-test=notice]')).toBeTruthy();
    // The last approval starts the apply; open its run while it works.
    const applyRun = await until(async () => {
      const runs = (await store.listRuns({ kind: 'terraform.apply' })).runs;
      return runs.find((r) => r.status === 'running')?.id;
    }, 60_000);
    // The run waits at its gate: what the page shows now is all there is so far.
    await until(
      async () => ((await store.readRunLog(applyRun)).includes('step 1') ? true : undefined),
      60_000,
    );
    await bob.goto(`${base}/runs/${applyRun}`);
    expect(await bob.getAttribute('[data-test=log]', 'data-live')).toBe('1');
    const first = Number(await bob.getAttribute('[data-test=log]', 'data-offset'));
    const firstText = (await bob.textContent('[data-test=log]')) ?? '';
    expect(firstText).toContain('step 1');
    expect(firstText).not.toContain('step 6');
    writeFileSync(repo.gate, '');
    // Without a reload, the page fetches what was written since and appends it, until the run ends.
    await bob.waitForFunction(
      () =>
        // Runs in the page.
        (
          globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }
        ).document.querySelector('[data-test=status]')?.textContent === 'succeeded',
      undefined,
      { timeout: 120_000 },
    );
    const text = (await bob.textContent('[data-test=log]')) ?? '';
    expect(Number(await bob.getAttribute('[data-test=log]', 'data-offset'))).toBeGreaterThan(first);
    expect(text.length).toBeGreaterThan(firstText.length);
    expect(text).toContain('step 6');
    expect(text).toMatch(/Apply complete!/);
    // Every line carries when it was written.
    // (Terraform's own lines keep Terraform's stamp, to the microsecond.)
    for (const line of text.trim().split('\n'))
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z /);
    expect(await bob.locator('#cancel').count()).toBe(0);
    // Its stages, each with its start and how long it took.
    expect(await bob.locator('[data-test=stages] tbody tr td:first-child').allTextContents()).toEqual([
      'init',
      'apply',
    ]);
    await bob.screenshot({ path: artifact('apply-log.png'), fullPage: true });
    expect((await store.getPlan(planId))?.status).toBe('applied');
    await alice.context().close();
    await bob.context().close();
  }, 300_000);

  it('shows a view-only key no buttons, and the server refuses its changes anyway', async () => {
    const carol = await signedIn('ops-carol');
    for (const section of ['terraform', 'backups', 'runs']) {
      await carol.goto(`${base}/${section}`);
      expect(await carol.locator('main form.action').count()).toBe(0);
    }
    // A change crafted by hand, with her own valid CSRF token: the function's gate says no.
    const csrf = await carol.getAttribute('body', 'data-csrf');
    const answer = await carol.request.post(`${base}/backups/orders/run`, {
      form: { _csrf: csrf ?? '', dryRun: 'false' },
      headers: { origin: new URL(base).origin },
    });
    expect(answer.status()).toBe(403);
    expect(await answer.text()).toContain('may not run orders');
    const refused = await store.listAudit({ actor: 'ops-carol', limit: 10 });
    expect(refused[0]).toMatchObject({ action: 'run', target: 'orders', decision: 'refused' });
    await carol.context().close();
  });

  it('answers 403 and shows nothing on a page of a section the key may not view', async () => {
    const dave = await signedIn('ops-dave');
    // Dave sees only the backups of orders: the navigation shows only what he may view.
    expect(await dave.locator('nav a').allTextContents()).toEqual(['Backups']);
    const response = await dave.goto(`${base}/terraform`);
    expect(response?.status()).toBe(403);
    expect(await dave.textContent('[data-test=error]')).toBe('Key ops-dave may not view terraform.');
    expect(await dave.locator('table').count()).toBe(0);
    const runs = await dave.goto(`${base}/runs`);
    expect(runs?.status()).toBe(403);
    await dave.context().close();
  });

  it('refuses a change without the CSRF token or from another origin, and shows 404 for a missing run', async () => {
    const alice = await signedIn('ops-alice');
    const csrf = (await alice.getAttribute('body', 'data-csrf')) ?? '';
    const origin = new URL(base).origin;
    const without = await alice.request.post(`${base}/backups/orders/run`, {
      form: { dryRun: 'true' },
      headers: { origin },
    });
    expect(without.status()).toBe(403);
    expect(await without.text()).toContain('the CSRF token is missing');
    const elsewhere = await alice.request.post(`${base}/backups/orders/run`, {
      form: { _csrf: csrf, dryRun: 'true' },
      headers: { origin: 'https://evil.example.com' },
    });
    expect(elsewhere.status()).toBe(403);
    expect(await elsewhere.text()).toContain('another origin');
    const missing = await alice.goto(`${base}/runs/run-nope`);
    expect(missing?.status()).toBe(404);
    expect(await alice.textContent('[data-test=error]')).toBe('There is no run run-nope.');
    await alice.context().close();
  });

  it('runs a restore drill from the backups page and charts its time to restore', async () => {
    const alice = await signedIn('ops-alice');
    await alice.goto(`${base}/backups`);
    await alice.click('button:has-text("Restore drill")');
    expect(await alice.textContent('[data-test=notice]')).toContain('queued 1 job(s)');
    const drill = await until(async () => {
      const runs = (await store.listRuns({ kind: 'backup.drill' })).runs;
      return runs.find((r) => r.status === 'succeeded');
    }, 120_000);
    const seconds = (drill.result as { secondsToRestore: number }).secondsToRestore;
    expect(seconds).toBeGreaterThan(0);
    await alice.goto(`${base}/backups`);
    const chart = alice.locator('[data-test=drill-chart-orders] svg');
    expect(await chart.count()).toBe(1);
    expect(
      await alice.locator('[data-test=drill-chart-orders] circle title').first().textContent(),
    ).toContain(`${seconds} s`);
    await alice.screenshot({ path: artifact('backups-drill-chart.png'), fullPage: true });
    await alice.context().close();
  }, 180_000);
});
