import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubHeaders, pushPayloadFor } from '../../local/cli/git-push.ts';
import { signRequest } from '../../shared/auth/signing.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { until } from '../helpers.ts';
import { commitFiles, git } from '../images/git-repo.ts';
import { type System, startSystem } from '../system.ts';
import { cliRunner, HAS_TERRAFORM, sayIfSkipped } from './harness.ts';
import { tarGz } from './tar.ts';

sayIfSkipped('terraform system tests');

const SECRET = 'test-git-webhook-secret';
const KEYS = { 'ops-alice': 'alice-secret', 'ops-bob': 'bob-secret', 'ops-carol': 'carol-secret' } as const;
// Names of what the example creates: unique per run, so two runs on one machine never collide.
const NAME = `fcd_t${process.pid}_${Date.now().toString(36)}`;

const psql = (sql: string) =>
  execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-tAc', sql], { encoding: 'utf8' }).trim();
const vhosts = () => execFileSync('rabbitmqctl', ['-q', 'list_vhosts'], { encoding: 'utf8' });

/** The example workspace, plus a slow one (a provisioner that sleeps) and room to break things. */
function makeRepo(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'terraform-')), 'repo');
  mkdirSync(dir, { recursive: true });
  cpSync(resolve(import.meta.dirname, '../../examples/terraform'), dir, { recursive: true });
  mkdirSync(join(dir, 'slow'), { recursive: true });
  writeFileSync(
    join(dir, 'slow/main.tf'),
    `variable "rev" {
  type = string
}
variable "sleep" {
  type    = number
  default = 4
}
resource "terraform_data" "slow" {
  triggers_replace = [var.rev]
  provisioner "local-exec" {
    command = "sleep \${var.sleep}"
  }
}
output "rev" {
  value = var.rev
}
`,
  );
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

const config = (repo: string) => `region: cn-hangzhou
notifications:
  channels:
    mail: { type: email, from: fc-devops@mail.example.com, to: [platform@example.com] }
  routes:
    - match: { kinds: ["terraform.**"] }
      channels: [mail]
      groupWindowSeconds: 0
terraform:
  planKey: \${env:T_PLAN_KEY}
  lockTimeoutSeconds: 5
  bundles: { bucket: fc-devops-artifacts, prefix: terraform/, maxBytes: 200000, maxFiles: 50 }
  workspaces:
    loadtest:
      repository: { url: ${repo}, host: local, webhookSecret: "\${env:T_GIT_SECRET}" }
      dir: loadtest
      paths: ["loadtest/**"]
      variables: { name: "\${env:T_DB_NAME}" }
    slow:
      repository: { url: ${repo}, host: local, webhookSecret: "\${env:T_GIT_SECRET}" }
      dir: slow
      paths: ["slow/**"]
      variables: { rev: "1" }
      requireApproval: false
      destructive: { approvers: 2, action: destroy }
access:
  keys:
    ops-alice: { secret: "\${env:T_ALICE}", roles: [{ targets: ["*"], actions: [view, plan, apply, unlock] }] }
    ops-bob: { secret: "\${env:T_BOB}", roles: [{ targets: ["*"], actions: [view, approve, destroy] }] }
    ops-carol: { secret: "\${env:T_CAROL}", roles: [{ targets: ["*"], actions: [view, approve] }] }
`;

describe.skipIf(!HAS_TERRAFORM)(
  'terraform: plan, approve and apply with the real binary, through the running system',
  () => {
    let system: System;
    let store: Store;
    let repo: string;

    beforeAll(async () => {
      repo = makeRepo();
      system = await startSystem({
        config: config(repo),
        env: () => ({
          T_GIT_SECRET: SECRET,
          T_PLAN_KEY: 'test-plan-key',
          T_DB_NAME: NAME,
          T_ALICE: KEYS['ops-alice'],
          T_BOB: KEYS['ops-bob'],
          T_CAROL: KEYS['ops-carol'],
        }),
      });
      store = await openStore({ databaseUrl: system.runtime.databaseUrl });
    }, 180_000);
    afterAll(async () => {
      await store?.close();
      await system?.stop();
      // What the example made: the suite's own names only.
      for (const db of [NAME]) {
        psql(`drop database if exists ${db}`);
        psql(`drop role if exists ${db}`);
      }
      execFileSync('sh', [
        '-c',
        `rabbitmqctl -q delete_vhost ${NAME}; rabbitmqctl -q delete_user ${NAME}; true`,
      ]);
    });

    const call = async (key: keyof typeof KEYS | null, method: string, path: string, body?: unknown) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      const headers = key ? signRequest({ method, path, body: text, keyId: key, secret: KEYS[key] }) : {};
      const response = await fetch(`${system.runtime.url}/terraform${path}`, {
        method,
        headers,
        ...(text ? { body: text } : {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    const push = async () => {
      const body = JSON.stringify(pushPayloadFor(repo));
      const response = await fetch(`${system.runtime.url}/git-webhook/`, {
        method: 'POST',
        headers: githubHeaders(body, SECRET),
        body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    const runs = async (kind: string) => (await store.listRuns({ kind, limit: 50 })).runs;
    /** The run of a plan or apply, once it finished. */
    const finished = (kind: string, subject: (s: string) => boolean, after = new Date(0)) =>
      until(
        async () =>
          (await runs(kind)).find((r) => subject(r.subject) && r.createdAt > after && r.status !== 'running'),
        120_000,
      );
    const status = async (ws: string) => (await call('ops-alice', 'GET', `/workspaces/${ws}`)).body;
    const newestPlan = async (ws: string) => (await status(ws)).plans[0] as Record<string, any>;
    const mails = (text: string) =>
      system.sandbox.mails.filter((m) => m.subject.includes(text) || (m.text ?? '').includes(text));

    it('plans a push, sends the summary, applies it once a second key approves, and keeps the state', async () => {
      const pushed = await push();
      expect(pushed.status).toBe(202);
      // The first commit holds both workspaces: both are planned.
      expect(pushed.body.plans.map((p: { workspace: string }) => p.workspace).sort()).toEqual([
        'loadtest',
        'slow',
      ]);
      const commit = git(repo, 'rev-parse', 'HEAD');
      const run = await finished('terraform.plan', (s) => s === `loadtest ${commit.slice(0, 12)}`);
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      const plan = await newestPlan('loadtest');
      expect(plan).toMatchObject({
        status: 'awaiting-approval',
        changes: '2 to add, 0 to change, 0 to replace, 0 to destroy',
        destructive: false,
        requestedBy: 'git:github',
        source: { kind: 'commit', commit },
        approvals: { needed: 1, approvedBy: [] },
      });
      const mail = await until(() => mails('Terraform plan: workspace loadtest').at(0));
      expect(mail.text).toContain('2 to add, 0 to change, 0 to replace, 0 to destroy');
      expect(mail.text).toContain('create: terraform_data.database, terraform_data.vhost');
      expect(mail.text).toContain(`fc-devops terraform approve loadtest ${plan.id}`);
      // The full plan is the one in the run's log, which the message points at.
      const fullPlan = /Full plan: fc-devops runs show (run-\S+)/.exec(mail.text ?? '')?.[1];
      expect(fullPlan).toBe(plan.runId);
      expect(await store.readRunLog(fullPlan!)).toMatch(/terraform_data\.database will be created/);
      // The plan's secrets and file never reach a message.
      expect(JSON.stringify(system.sandbox.mails)).not.toContain('loadtest-password');

      // Nobody but another key with the approve role may approve.
      expect((await call('ops-alice', 'POST', `/workspaces/loadtest/plans/${plan.id}/approve`)).status).toBe(
        403,
      );
      const approved = await call('ops-bob', 'POST', `/workspaces/loadtest/plans/${plan.id}/approve`);
      expect(approved).toMatchObject({
        status: 202,
        body: { applying: true, approvals: { approvedBy: ['ops-bob'] } },
      });
      const apply = await finished('terraform.apply', (s) => s === `loadtest ${plan.id}`);
      expect(apply.status, JSON.stringify(apply.error)).toBe('succeeded');
      expect(apply.result).toMatchObject({ status: 'applied' });
      expect(psql(`select datname from pg_database where datname = '${NAME}'`)).toBe(NAME);
      expect(psql(`select rolname from pg_roles where rolname = '${NAME}'`)).toBe(NAME);
      expect(vhosts()).toContain(NAME);

      const after = await status('loadtest');
      expect(after.lock).toBeNull();
      expect(after.state).toMatchObject({
        version: expect.any(Number),
        serial: expect.any(Number),
        lineage: expect.any(String),
      });
      expect(after.plans[0]).toMatchObject({ id: plan.id, status: 'applied' });
      const versions = await store.listStates('loadtest');
      expect(versions.length).toBeGreaterThanOrEqual(1);
      expect(
        JSON.parse((await store.getState('loadtest'))!.data)
          .resources.map((r: { name: string }) => r.name)
          .sort(),
      ).toEqual(['database', 'vhost']);
      await until(() => mails('Terraform applied: workspace loadtest').at(0));
      // A second delivery of the same commit plans nothing new.
      const again = await push();
      expect(again.status).toBe(202);
      await until(() => system.runtime.queue.list().length === 0 || undefined, 60_000);
      expect(
        (await runs('terraform.plan')).filter((r) => r.subject === `loadtest ${commit.slice(0, 12)}`),
      ).toHaveLength(1);
    });

    it('refuses to apply a plan that a newer commit superseded, or whose state moved, offering a re-plan', async () => {
      const first = commitFiles(repo, { 'loadtest/note.tf': 'output "note" {\n  value = "one"\n}\n' });
      await push();
      await finished('terraform.plan', (s) => s === `loadtest ${first.slice(0, 12)}`);
      const older = await newestPlan('loadtest');
      const second = commitFiles(repo, { 'loadtest/note.tf': 'output "note" {\n  value = "two"\n}\n' });
      await push();
      await finished('terraform.plan', (s) => s === `loadtest ${second.slice(0, 12)}`);
      const newer = await newestPlan('loadtest');
      expect(newer.id).not.toBe(older.id);
      const refused = await call('ops-bob', 'POST', `/workspaces/loadtest/plans/${older.id}/approve`);
      expect(refused).toMatchObject({ status: 409, body: { error: 'PlanNotApplicable' } });
      expect(refused.body.message).toContain(`a newer plan ${newer.id}`);

      // Another change to the state: the newer plan is stale too.
      const current = (await store.getState('loadtest'))!;
      const moved = JSON.parse(current.data);
      moved.serial += 1;
      await store.putState('loadtest', {
        data: JSON.stringify(moved),
        lineage: moved.lineage,
        serial: moved.serial,
      });
      const stale = await call('ops-bob', 'POST', `/workspaces/loadtest/plans/${newer.id}/approve`);
      expect(stale).toMatchObject({ status: 409, body: { error: 'PlanNotApplicable' } });
      expect(stale.body.message).toContain('the state moved since the plan');
      expect((await status('loadtest')).plans[0]).toMatchObject({
        id: newer.id,
        status: 'awaiting-approval',
      });
      const direct = await call('ops-alice', 'POST', `/workspaces/loadtest/plans/${newer.id}/apply`);
      expect(direct).toMatchObject({
        status: 409,
        body: { error: 'PlanNotApplicable', replan: expect.stringContaining('plans') },
      });
    });

    it('applies one plan at a time: a second apply is refused naming the holder', async () => {
      const c1 = commitFiles(repo, {
        'slow/main.tf.json': JSON.stringify({ resource: { terraform_data: { extra: { input: 'a' } } } }),
      });
      await push();
      await finished('terraform.plan', (s) => s === `slow ${c1.slice(0, 12)}`);
      const plan = await newestPlan('slow');
      expect(plan.status).toBe('approved');
      const started = await call('ops-alice', 'POST', `/workspaces/slow/plans/${plan.id}/apply`);
      expect(started.status).toBe(202);
      const held = await until(async () => (await status('slow')).lock ?? undefined);
      const second = await call('ops-alice', 'POST', `/workspaces/slow/plans/${plan.id}/apply`);
      expect(second.status).toBe(409);
      expect(second.body.message).toMatch(new RegExp(`held by ${held.holder}|being applied`));
      const done = await finished('terraform.apply', (s) => s === `slow ${plan.id}`);
      expect(done.result).toMatchObject({ status: 'applied' });
      // Applied once: a repeated apply of the same plan is refused as already applied.
      const again = await call('ops-alice', 'POST', `/workspaces/slow/plans/${plan.id}/apply`);
      expect(again).toMatchObject({
        status: 409,
        body: { message: expect.stringContaining('already applied') },
      });
    });

    it('lets the lease of a function that died expire, and the next apply proceeds', async () => {
      const c = commitFiles(repo, {
        'slow/main.tf.json': JSON.stringify({ resource: { terraform_data: { extra: { input: 'b' } } } }),
      });
      await push();
      await finished('terraform.plan', (s) => s === `slow ${c.slice(0, 12)}`);
      const plan = await newestPlan('slow');
      // A function that died mid-apply: its lease is left behind and nobody renews it.
      await store.acquireLock('terraform:slow', { owner: 'run-that-died', ttlMs: 2000 });
      const refused = await call('ops-alice', 'POST', `/workspaces/slow/plans/${plan.id}/apply`);
      expect(refused.body.error, refused.body.message).toBe('WorkspaceBusy');
      expect(refused).toMatchObject({
        status: 409,
        body: { error: 'WorkspaceBusy', state: { holder: 'run-that-died' } },
      });
      await until(async () => ((await status('slow')).lock === null ? true : undefined), 30_000);
      expect((await call('ops-alice', 'POST', `/workspaces/slow/plans/${plan.id}/apply`)).status).toBe(202);
      const done = await finished('terraform.apply', (s) => s === `slow ${plan.id}`);
      expect(done.result).toMatchObject({ status: 'applied' });
    });

    it('plans an uploaded bundle once per eTag, and refuses hostile bundles before anything runs', async () => {
      const bundle = (extra: string) =>
        tarGz([
          { path: 'slow/', type: 'dir' },
          { path: 'slow/main.tf', data: `resource "terraform_data" "b" {\n  input = "${extra}"\n}\n` },
        ]);
      const before = (await runs('terraform.plan')).length;
      const v1 = bundle('one');
      await system.runtime.buckets.put('fc-devops-artifacts', 'terraform/slow/v1.tar.gz', v1);
      const planned = await finished('terraform.plan', (s) => s === 'slow terraform/slow/v1.tar.gz');
      expect(planned.status, JSON.stringify(planned.error)).toBe('succeeded');
      expect(await newestPlan('slow')).toMatchObject({
        source: { kind: 'bundle', key: 'terraform/slow/v1.tar.gz' },
      });
      // The same object (same eTag) again: nothing new.
      await system.runtime.buckets.put('fc-devops-artifacts', 'terraform/slow/v1.tar.gz', v1);
      await until(() => system.runtime.queue.list().length === 0 || undefined, 60_000);
      expect((await runs('terraform.plan')).length).toBe(before + 1);

      const hostile: [string, Buffer, RegExp][] = [
        ['escape', tarGz([{ path: '../evil.tf', data: 'x' }]), /"\.\." is not allowed/],
        ['absolute', tarGz([{ path: '/etc/evil.tf', data: 'x' }]), /absolute paths are not allowed/],
        ['link-out', tarGz([{ path: 'slow', type: 'symlink', link: '/etc' }]), /leads out of the bundle/],
        ['device', tarGz([{ path: 'slow/tty', type: 'chardev' }]), /device files and FIFOs are not allowed/],
        [
          'too-many',
          tarGz(Array.from({ length: 60 }, (_, i) => ({ path: `slow/f${i}.tf`, data: '' }))),
          /more than 50 entries/,
        ],
        // Not hostile, a common slip: the root module at the top of the bundle, not under the workspace's dir.
        ['no-dir', tarGz([{ path: 'main.tf', data: '' }]), /no directory slow in the bundle.*under slow\//],
      ];
      for (const [name, bytes, why] of hostile) {
        await system.runtime.buckets.put('fc-devops-artifacts', `terraform/slow/${name}.tar.gz`, bytes);
        const run = await finished('terraform.plan', (s) => s === `slow terraform/slow/${name}.tar.gz`);
        expect(run.status, name).toBe('failed');
        expect((run.error as { message: string }).message, name).toMatch(why);
      }
      expect((await newestPlan('slow')).source.key).toBe('terraform/slow/v1.tar.gz');
    });

    it('fails a plan of invalid HCL quoting the diagnostic with file and line', async () => {
      const c = commitFiles(repo, { 'loadtest/broken.tf': 'resource "terraform_data" "x" {\n  input = \n' });
      await push();
      const run = await finished('terraform.plan', (s) => s === `loadtest ${c.slice(0, 12)}`);
      expect(run.status).toBe('failed');
      expect(JSON.stringify(run.error)).toMatch(/broken\.tf:\d+:\d+/);
      const mail = await until(() => mails('broken.tf').at(0));
      expect(mail.text).toMatch(/broken\.tf:\d+:\d+/);
    });

    it('is operated by the CLI, which signs its requests', async () => {
      const cli = cliRunner(() => system, KEYS, 'terraform');
      const shown = await cli(['status', 'loadtest'], 'ops-carol');
      expect(shown.status, shown.stderr).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({
        workspace: 'loadtest',
        backend: 'fc-devops',
        lock: null,
      });
      expect((await cli(['unlock', 'loadtest'], 'ops-carol')).status).toBe(1);
      expect(await cli(['plan', 'loadtest'], 'ops-alice')).toMatchObject({
        status: 2,
        stderr: expect.stringContaining('--commit'),
      });
    });

    it('answers unknown workspaces and plans with 404, unsigned calls with 401 and missing roles with 403', async () => {
      expect((await call('ops-alice', 'GET', '/workspaces/nope')).status).toBe(404);
      expect(
        (
          await call(
            'ops-alice',
            'GET',
            '/workspaces/loadtest/plans/plan-00000000-0000-0000-0000-000000000000',
          )
        ).status,
      ).toBe(404);
      expect((await call(null, 'GET', '/workspaces/loadtest')).status).toBe(401);
      expect((await call('ops-carol', 'POST', '/workspaces/loadtest/unlock', {})).status).toBe(403);
      const unlocked = await call('ops-alice', 'POST', '/workspaces/loadtest/unlock', { reason: 'test' });
      expect(unlocked).toMatchObject({ status: 200, body: { released: [] } });
      const audit = await store.listAudit({ target: 'loadtest', limit: 5 });
      expect(audit[0]).toMatchObject({ actor: 'ops-alice', action: 'unlock', decision: 'allowed' });
      expect(audit[1]).toMatchObject({ actor: 'ops-carol', action: 'unlock', decision: 'refused' });
    });
  },
);
