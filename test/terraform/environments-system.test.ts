import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { until } from '../helpers.ts';
import { git } from '../images/git-repo.ts';
import { type System, startSystem } from '../system.ts';
import { cliRunner, HAS_TERRAFORM, sayIfSkipped, signedCaller, tickAt } from './harness.ts';

sayIfSkipped('environment system tests');

const KEYS = { 'ops-alice': 'alice-secret', 'ops-bob': 'bob-secret', 'ops-carol': 'carol-secret' } as const;
type Key = keyof typeof KEYS;

const psql = (sql: string) =>
  execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-tAc', sql], { encoding: 'utf8' }).trim();
const vhosts = () => execFileSync('rabbitmqctl', ['-q', 'list_vhosts'], { encoding: 'utf8' });
/** What the example names an environment's database, role, vhost and user. */
const dbName = (id: string) => `fcd_${id.replace(/-/g, '_')}`;

/** The example workspace, and `sticky`: its destroy fails until a marker file exists. */
function makeRepo(markers: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'environments-')), 'repo');
  mkdirSync(join(dir, 'sticky'), { recursive: true });
  cpSync(resolve(import.meta.dirname, '../../examples/terraform'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'sticky/main.tf'),
    `variable "environment" {
  type = string
}
resource "terraform_data" "sticky" {
  input = "${markers}/\${var.environment}"
  provisioner "local-exec" {
    when    = destroy
    command = "test -f \${self.input} || { echo 'marker \${self.input} is missing' >&2; exit 3; }"
  }
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
    ops: { type: email, from: fc-devops@mail.example.com, to: [platform@example.com] }
    alice: { type: email, from: fc-devops@mail.example.com, to: [alice@example.com] }
  routes:
    - match: { kinds: ["terraform.env.**"], labels: { owner: ops-alice } }
      channels: [alice]
      groupWindowSeconds: 0
      continue: true
    - match: { kinds: ["terraform.**"] }
      channels: [ops]
      groupWindowSeconds: 0
terraform:
  planKey: \${env:T_PLAN_KEY}
  lockTimeoutSeconds: 5
  workspaces:
    loadtest:
      repository: { url: ${repo}, host: local }
      dir: loadtest
      paths: ["loadtest/**"]
      requireApproval: false
      environments: { defaultTtlHours: 4, maxTtlHours: 8, remindMinutesBefore: 30 }
    sticky:
      repository: { url: ${repo}, host: local }
      dir: sticky
      paths: ["sticky/**"]
      requireApproval: true
      environments: { maxTtlHours: 24, remindMinutesBefore: 0, destroyAttempts: 2 }
access:
  keys:
    ops-alice: { secret: "\${env:T_ALICE}", roles: [{ targets: ["*"], actions: [view, env, plan] }] }
    ops-bob: { secret: "\${env:T_BOB}", roles: [{ targets: ["*"], actions: [view, env] }] }
    ops-carol: { secret: "\${env:T_CAROL}", roles: [{ targets: ["*"], actions: [view, approve, destroy] }] }
`;

describe.skipIf(!HAS_TERRAFORM)(
  'environments: create, remind, extend, expire and destroy with the real binary',
  () => {
    let system: System;
    let store: Store;
    let markers: string;
    const made: string[] = [];

    beforeAll(async () => {
      markers = mkdtempSync(join(tmpdir(), 'markers-'));
      system = await startSystem({
        config: config(makeRepo(markers)),
        env: () => ({
          T_PLAN_KEY: 'test-plan-key',
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
      for (const id of made) {
        const name = dbName(id);
        psql(`drop database if exists ${name}`);
        psql(`drop role if exists ${name}`);
        execFileSync('sh', [
          '-c',
          `rabbitmqctl -q delete_vhost ${name}; rabbitmqctl -q delete_user ${name}; true`,
        ]);
      }
    });

    const call = signedCaller(() => system, KEYS);
    const show = async (id: string, key: Key = 'ops-alice') =>
      (await call(key, 'GET', `/environments/${id}`)).body;
    const settled = (id: string, statuses: string[], timeoutMs = 120_000) =>
      until(async () => {
        const env = await show(id);
        return statuses.includes(env.status) ? env : undefined;
      }, timeoutMs);
    const tick = (at: Date) => tickAt(system, at);
    const mailsTo = (to: string, text: string) =>
      system.sandbox.mails.filter((m) => m.to.includes(to) && `${m.subject}\n${m.text ?? ''}`.includes(text));
    const create = async (template: string, body: Record<string, unknown> = {}, key: Key = 'ops-alice') => {
      const created = await call(key, 'POST', '/environments', { template, ...body });
      if (created.status === 202) made.push(created.body.id);
      return created;
    };

    it('refuses a time to live beyond the maximum, zero or negative, naming the limit; and unknown templates and environments', async () => {
      const tooLong = await create('loadtest', { ttl: '9h' });
      expect(tooLong).toMatchObject({ status: 400, body: { error: 'BadTtl', maxTtlHours: 8 } });
      expect(tooLong.body.message).toBe(
        'body.ttl: loadtest environments live at most 8 h (maxTtlHours); asked for 9 h',
      );
      for (const ttl of [0, -1, '0h'])
        expect((await create('loadtest', { ttl })).body.message).toContain('must be more than zero');
      expect((await create('loadtest', { ttl: 'soon' })).body.message).toContain(
        'expected a duration like 90m',
      );
      expect((await create('nope')).status).toBe(404);
      expect((await create('loadtest', {}, 'ops-carol')).status).toBe(403);
      expect((await call('ops-alice', 'GET', '/environments/loadtest-zzzzzz')).status).toBe(404);
      expect((await call('ops-alice', 'POST', '/environments/loadtest-zzzzzz/destroy', {})).status).toBe(404);
      expect(await store.listEnvironments()).toEqual([]);
    });

    it('creates an environment whose database and vhost exist, shows its outputs to its owner only, reminds once, extends within the cap, and destroys it once at expiry', async () => {
      const created = await create('loadtest', { ttl: '4h' });
      expect(created.status).toBe(202);
      const id = created.body.id as string;
      expect(id).toMatch(/^loadtest-[0-9a-z]{6}$/);
      expect(created.body).toMatchObject({
        template: 'loadtest',
        owner: 'ops-alice',
        status: 'creating',
        ttlHours: 4,
      });
      const env = await settled(id, ['active', 'create-failed']);
      expect(env.status, JSON.stringify(env.failure)).toBe('active');
      const name = dbName(id);
      expect(psql(`select datname from pg_database where datname = '${name}'`)).toBe(name);
      expect(psql(`select rolname from pg_roles where rolname = '${name}'`)).toBe(name);
      expect(vhosts()).toContain(name);
      // The connection strings: in full to the owner, masked for anyone else.
      expect(env.outputs).toEqual({
        database_url: `postgres://${name}@127.0.0.1:5432/${name}`,
        amqp_url: `amqp://${name}:loadtest-password@127.0.0.1:5672/${name}`,
      });
      expect((await show(id, 'ops-bob')).outputs).toEqual({
        database_url: '(shown to its owner, ops-alice)',
        amqp_url: '(shown to its owner, ops-alice)',
      });
      const ready = await until(() =>
        mailsTo('alice@example.com', `environment ${id} (loadtest) is ready`).at(0),
      );
      expect(ready.text).toContain(`fc-devops env show ${id}`);
      expect(JSON.stringify(system.sandbox.mails)).not.toContain('loadtest-password');

      // Its plans come from its life, not from a commit an operator names.
      const replan = await call('ops-alice', 'POST', `/workspaces/${id}/plans`, { commit: 'a'.repeat(40) });
      expect(replan).toMatchObject({ status: 409, body: { error: 'EnvironmentPlan' } });

      // Someone else may not extend or destroy it without the destroy role; the refusals are audited.
      expect((await call('ops-bob', 'POST', `/environments/${id}/extend`, { by: '1h' })).status).toBe(403);
      expect((await call('ops-bob', 'POST', `/environments/${id}/destroy`, {})).status).toBe(403);
      const refused = await store.listAudit({ actor: 'ops-bob', target: 'loadtest' });
      expect(refused.map((a) => [a.action, a.decision])).toEqual(
        expect.arrayContaining([
          ['extend', 'refused'],
          ['destroy', 'refused'],
        ]),
      );

      // Extended by its owner: two hours, then capped at eight from its creation.
      const createdAt = Date.parse(env.createdAt);
      const extended = await call('ops-alice', 'POST', `/environments/${id}/extend`, { by: '2h' });
      expect(extended.status).toBe(200);
      expect(Date.parse(extended.body.expiresAt)).toBe(Date.parse(env.expiresAt) + 2 * 3_600_000);
      const capped = await call('ops-alice', 'POST', `/environments/${id}/extend`, { by: '5h' });
      expect(capped.body.message).toBe('capped at maxTtlHours (8 h from its creation)');
      const expiresAt = new Date(Date.parse(capped.body.expiresAt));
      expect(expiresAt.getTime()).toBe(createdAt + 8 * 3_600_000);
      const beyond = await call('ops-alice', 'POST', `/environments/${id}/extend`, { by: '1m' });
      expect(beyond).toMatchObject({ status: 400, body: { maxTtlHours: 8 } });
      expect(beyond.body.message).toContain('live at most 8 h (maxTtlHours) from their creation');
      expect((await store.listAudit({ target: id })).filter((a) => a.action === 'env.extend')).toHaveLength(
        2,
      );

      // Before the reminder's time, nothing; within 30 minutes of the end, one reminder to the owner.
      expect((await tick(new Date(expiresAt.getTime() - 31 * 60_000))).environments).toEqual([]);
      const reminded = await tick(new Date(expiresAt.getTime() - 20 * 60_000));
      expect(reminded.environments).toEqual([{ environment: id, did: 'reminded' }]);
      expect((await tick(new Date(expiresAt.getTime() - 19 * 60_000))).environments).toEqual([
        { environment: id, did: 'already reminded' },
      ]);
      const reminder = await until(() =>
        mailsTo('alice@example.com', `environment ${id} is destroyed in 20 min`).at(0),
      );
      expect(reminder.text).toContain(`fc-devops env extend ${id} --by 2h`);
      expect(mailsTo('alice@example.com', `environment ${id} is destroyed in`)).toHaveLength(1);

      // At expiry the timer is delivered three times at once: one destroy.
      const at = new Date(expiresAt.getTime() + 60_000);
      const ticks = await Promise.all([tick(at), tick(at), tick(at)]);
      const did = ticks.flatMap((t) => t.environments.map((e) => e.did));
      expect(did.filter((d) => d === 'destroying (expired)')).toHaveLength(1);
      const gone = await settled(id, ['destroyed', 'destroy-failed']);
      expect(gone.status, JSON.stringify(gone.failure)).toBe('destroyed');
      expect(gone.hoursLived).toBeGreaterThanOrEqual(0);
      expect(psql(`select count(*) from pg_database where datname = '${name}'`)).toBe('0');
      expect(psql(`select count(*) from pg_roles where rolname = '${name}'`)).toBe('0');
      expect(vhosts()).not.toContain(name);
      // Its Terraform workspace is gone; one destroy plan, one apply.
      expect(await store.getState(id)).toBeUndefined();
      const plans = (await store.listPlans(id)).map((p) => [p.meta.purpose, p.status]);
      expect(plans).toEqual([
        ['env-destroy', 'applied'],
        ['env-create', 'applied'],
      ]);
      const destroyed = await until(() =>
        mailsTo('alice@example.com', `environment ${id} (loadtest) was destroyed after`).at(0),
      );
      expect(destroyed.subject + destroyed.text).toContain('(expired)');
      // Later ticks find nothing to do.
      expect((await tick(new Date(at.getTime() + 60_000))).environments).toEqual([]);
      expect((await call('ops-alice', 'GET', '/environments')).body.environments).toEqual([]);
      expect(
        (await call('ops-alice', 'GET', '/environments?all=1')).body.environments.map((e: any) => [
          e.id,
          e.status,
        ]),
      ).toEqual([[id, 'destroyed']]);
    });

    it('waits for approval where the template asks; a destroy that fails is retried, escalated with the diagnostics, listed first, and finished once it can be', async () => {
      const created = await create('sticky', { ttl: '2h' });
      const id = created.body.id as string;
      // Creation waits for an approver; meanwhile destroying it is refused, naming what runs.
      const waiting = await until(async () => {
        const env = await show(id);
        return env.operation?.awaitingApproval ? env : undefined;
      }, 120_000);
      const busy = await call('ops-alice', 'POST', `/environments/${id}/destroy`, {});
      expect(busy).toMatchObject({
        status: 409,
        body: { error: 'OperationRunning', operation: { kind: 'create', planId: waiting.operation.planId } },
      });
      expect(
        (await call('ops-carol', 'POST', `/workspaces/${id}/plans/${waiting.operation.planId}/approve`))
          .status,
      ).toBe(202);
      const active = await settled(id, ['active', 'create-failed']);
      expect(active.status).toBe('active');
      // Approved and applied: the last operation no longer says it waits.
      expect((await show(id)).operation).toMatchObject({ kind: 'create', awaitingApproval: false });

      // The destroy fails (the marker is missing): destroy-failed, a critical notice with Terraform's words.
      expect(
        (await call('ops-alice', 'POST', `/environments/${id}/destroy`, { reason: 'done with it' })).status,
      ).toBe(202);
      const failed = await settled(id, ['destroy-failed', 'destroyed']);
      expect(failed).toMatchObject({ status: 'destroy-failed', failure: { attempt: 1 } });
      expect(failed.failure.reason).toContain('exit status 3');
      const critical = await until(() =>
        mailsTo('alice@example.com', `destroying environment ${id} failed (attempt 1 of 2)`).at(0),
      );
      expect(critical.text).toContain(`marker ${markers}/${id} is missing`);
      // Listed first, before an active one.
      const other = await create('loadtest', { ttl: '1h' });
      await settled(other.body.id, ['active']);
      const listed = (await call('ops-bob', 'GET', '/environments')).body.environments.map((e: any) => e.id);
      expect(listed[0]).toBe(id);
      expect(listed).toContain(other.body.id);

      // Not before its pause is over; then attempt 2, which fails too: no attempts left.
      const next = Date.parse(failed.nextAttemptAt);
      expect((await tick(new Date(next - 1000))).environments.filter((e) => e.environment === id)).toEqual(
        [],
      );
      expect((await tick(new Date(next + 1000))).environments).toContainEqual({
        environment: id,
        did: 'destroying (attempt 2)',
      });
      const again = await until(async () => {
        const env = await show(id);
        return env.status === 'destroy-failed' && env.failure.attempt === 2 ? env : undefined;
      }, 120_000);
      expect(again.nextAttemptAt).toBeUndefined();
      await until(() => mailsTo('alice@example.com', 'no attempts left').at(0));
      expect(
        (await tick(new Date(next + 30 * 60_000))).environments.filter((e) => e.environment === id),
      ).toEqual([]);

      // Marking it handled takes the destroy role; once the cause is fixed, destroying it again works.
      expect(
        (await call('ops-alice', 'POST', `/environments/${id}/handled`, { reason: 'cleaned' })).status,
      ).toBe(403);
      writeFileSync(join(markers, id), '');
      expect((await call('ops-alice', 'POST', `/environments/${id}/destroy`, {})).status).toBe(202);
      const gone = await settled(id, ['destroyed']);
      expect(gone.operation).toMatchObject({ kind: 'destroy', attempt: 3 });
      expect(await store.getState(id)).toBeUndefined();

      // Another one that will not go: someone with the destroy role marks it handled, and it leaves the list.
      const stuck = (await create('sticky', { ttl: '1h' })).body.id as string;
      const plan = await until(
        async () => (await show(stuck)).operation?.planId as string | undefined,
        120_000,
      );
      await call('ops-carol', 'POST', `/workspaces/${stuck}/plans/${plan}/approve`);
      await settled(stuck, ['active']);
      await call('ops-alice', 'POST', `/environments/${stuck}/destroy`, {});
      await settled(stuck, ['destroy-failed']);
      expect(
        (await call('ops-carol', 'POST', `/environments/${other.body.id}/handled`, { reason: 'x' })).status,
      ).toBe(409);
      const handled = await call('ops-carol', 'POST', `/environments/${stuck}/handled`, {
        reason: 'removed by hand',
      });
      expect(handled).toMatchObject({ status: 200, body: { status: 'handled', handledBy: 'ops-carol' } });
      const ids = (await call('ops-bob', 'GET', '/environments')).body.environments.map((e: any) => e.id);
      expect(ids).not.toContain(stuck);

      // Due while its lock is stuck: reported once per holder (not skipped, not destroyed under it),
      // and destroyed on the first tick after the lock is free.
      const otherId = other.body.id as string;
      const stuckLock = await store.acquireLock(`terraform:${otherId}`, {
        owner: 'run-stuck',
        ttlMs: 600_000,
      });
      if (!stuckLock.acquired) throw new Error('lock not taken');
      const due = new Date(Date.parse((await show(otherId)).expiresAt) + 60_000);
      for (let i = 0; i < 2; i++)
        expect((await tick(due)).environments).toContainEqual({
          environment: otherId,
          did: `waiting: terraform:${otherId} is held by run-stuck`,
        });
      const blocked = await until(() =>
        mailsTo('alice@example.com', `but terraform:${otherId} is held by run-stuck`).at(0),
      );
      expect(blocked.text).toContain(`fc-devops terraform unlock ${otherId}`);
      expect(mailsTo('alice@example.com', `but terraform:${otherId} is held`)).toHaveLength(1);
      expect((await show(otherId)).status).toBe('active');
      await store.releaseLock({ lock: stuckLock.name, owner: 'run-stuck', token: stuckLock.token });
      expect((await tick(due)).environments).toContainEqual({
        environment: otherId,
        did: 'destroying (expired)',
      });
      await settled(otherId, ['destroyed']);

      // A creation an approver rejects fails at once (not at its end); destroying it finds nothing to do.
      const refusedId = (await create('sticky', { ttl: '1h' })).body.id as string;
      const refusedPlan = await until(
        async () => (await show(refusedId)).operation?.planId as string | undefined,
        120_000,
      );
      expect(
        (await call('ops-carol', 'POST', `/workspaces/${refusedId}/plans/${refusedPlan}/reject`, {})).status,
      ).toBe(200);
      expect(await show(refusedId)).toMatchObject({
        status: 'create-failed',
        failure: { reason: `ops-carol rejected plan ${refusedPlan}` },
      });
      expect((await call('ops-alice', 'POST', `/environments/${refusedId}/destroy`, {})).status).toBe(202);
      expect((await settled(refusedId, ['destroyed'])).hoursLived).toBeGreaterThanOrEqual(0);
    });

    it('is operated by the CLI, which signs its requests (query included)', async () => {
      const run = cliRunner(() => system, KEYS, 'env');
      const cli = (args: string[], key: Key = 'ops-alice') => run(args, key);
      const created = await cli(['create', 'loadtest', '--ttl', '30m']);
      expect(created.status, created.stderr).toBe(0);
      const id = JSON.parse(created.stdout).id as string;
      made.push(id);
      expect(JSON.parse(created.stdout)).toMatchObject({
        template: 'loadtest',
        ttlHours: 0.5,
        status: 'creating',
      });
      await settled(id, ['active']);
      const listed = await cli(['list', '--template', 'loadtest', '--all'], 'ops-bob');
      expect(listed.status, listed.stdout).toBe(0);
      expect(JSON.parse(listed.stdout).environments.map((e: { id: string }) => e.id)).toContain(id);
      const shown = await cli(['show', id], 'ops-bob');
      expect(JSON.parse(shown.stdout).outputs.database_url).toBe('(shown to its owner, ops-alice)');
      expect(await cli(['extend', id])).toMatchObject({
        status: 2,
        stderr: 'env extend needs <id> --by <duration>\n',
      });
      expect(await cli(['create', 'loadtest', '--var', 'oops'])).toMatchObject({
        status: 2,
        stderr: '--var oops: expected name=value\n',
      });
      const extended = await cli(['extend', id, '--by', '15m']);
      expect(extended.status, extended.stdout).toBe(0);
      expect(JSON.parse(extended.stdout).extensions).toEqual([
        expect.objectContaining({ by: 'ops-alice', hours: 0.25 }),
      ]);
      expect((await cli(['destroy', id, '--reason', 'done'])).status).toBe(0);
      const gone = await settled(id, ['destroyed']);
      expect(gone.operation).toMatchObject({ kind: 'destroy', by: 'ops-alice', reason: 'done' });
      expect(psql(`select count(*) from pg_database where datname = '${dbName(id)}'`)).toBe('0');
    });
  },
);
