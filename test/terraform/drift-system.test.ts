import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { until } from '../helpers.ts';
import { git } from '../images/git-repo.ts';
import { type System, startSystem } from '../system.ts';
import { HAS_TERRAFORM, sayIfSkipped, signedCaller, tickAt } from './harness.ts';

sayIfSkipped('drift system tests');

const KEYS = { 'ops-alice': 'alice-secret', 'ops-bob': 'bob-secret' } as const;

/** A workspace with an output that changes on every plan (plantimestamp): the noise drift checks must not report. */
function makeRepo(): { dir: string; commit: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'drift-')), 'repo');
  mkdirSync(join(dir, 'drifty'), { recursive: true });
  writeFileSync(
    join(dir, 'drifty/main.tf'),
    `resource "terraform_data" "cluster" {
  input = { name = "pg-loadtest", storage = 20 }
}
output "cluster" {
  value = terraform_data.cluster.output
}
output "checked_at" {
  value = plantimestamp()
}
`,
  );
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'first');
  return { dir, commit: git(dir, 'rev-parse', 'HEAD') };
}

const config = (repo: string) => `region: cn-hangzhou
notifications:
  channels:
    ops: { type: email, from: fc-devops@mail.example.com, to: [platform@example.com] }
  routes:
    - match: { kinds: ["terraform.**"] }
      channels: [ops]
      groupWindowSeconds: 0
terraform:
  planKey: \${env:T_PLAN_KEY}
  lockTimeoutSeconds: 5
  workspaces:
    drifty:
      repository: { url: ${repo}, host: local }
      dir: drifty
      requireApproval: false
      autoApply: true
      driftCheck: { schedule: "0 0 * * * *", openPlan: true }
      environments: { maxTtlHours: 24 }
access:
  keys:
    ops-alice: { secret: "\${env:T_ALICE}", roles: [{ targets: ["*"], actions: [view, plan, apply, env] }] }
    ops-bob: { secret: "\${env:T_BOB}", roles: [{ targets: ["*"], actions: [view, approve] }] }
`;

describe.skipIf(!HAS_TERRAFORM)('drift checks with the real binary', () => {
  let system: System;
  let store: Store;
  let repo: { dir: string; commit: string };

  beforeAll(async () => {
    repo = makeRepo();
    system = await startSystem({
      config: config(repo.dir),
      env: () => ({ T_PLAN_KEY: 'test-plan-key', T_ALICE: KEYS['ops-alice'], T_BOB: KEYS['ops-bob'] }),
    });
    store = await openStore({ databaseUrl: system.runtime.databaseUrl });
  }, 180_000);
  afterAll(async () => {
    await store?.close();
    await system?.stop();
  });

  const call = signedCaller(() => system, KEYS);
  const tick = (at: Date) => tickAt(system, at);
  const mails = (text: string) =>
    system.sandbox.mails.filter((m) => `${m.subject}\n${m.text ?? ''}`.includes(text));
  const hour = 3_600_000;
  const base = Math.ceil(Date.now() / hour) * hour;
  /** Fire the timer 30 s past the hour `n` and wait for the check it started. */
  const checkAt = async (n: number, unit = 'drifty', units = [unit]) => {
    const due = new Date(base + n * hour);
    const before = new Set(
      (await store.listRuns({ kind: 'terraform.drift', limit: 100 })).runs.map((r) => r.id),
    );
    const fired = await tick(new Date(due.getTime() + 30_000));
    expect(fired.drift.sort()).toEqual(units.map((u) => `${u}@${due.toISOString()}`).sort());
    const run = await until(async () => {
      const runs = (await store.listRuns({ kind: 'terraform.drift', limit: 100 })).runs;
      return runs.find((r) => !before.has(r.id) && r.subject === unit && r.status !== 'running');
    }, 120_000);
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    return run.result as Record<string, any>;
  };

  /**
   * `checked_at` is plantimestamp(), in whole seconds: a check's plan changes it only in a later second
   * than the applied plan's. Everything applied so far was planned before `seen`; wait for the next second.
   */
  const pastTheSecondOf = (seen: number) =>
    until(() => (Date.now() >= Math.floor(seen / 1000) * 1000 + 1000 ? true : undefined));

  it('reports a drift once, with its addresses and attributes, not outputs alone; opens a plan to reconcile it, never applies it; and says when it is gone', async () => {
    // Nothing applied yet: nothing to compare.
    const planned = await call('ops-alice', 'POST', '/workspaces/drifty/plans', { commit: repo.commit });
    expect(planned.status).toBe(202);
    await until(async () => {
      const s = (await call('ops-alice', 'GET', '/workspaces/drifty')).body;
      return s.plans[0]?.status === 'applied' ? true : undefined;
    }, 120_000);
    await pastTheSecondOf(Date.now());

    // An output that changes on every plan: -detailed-exitcode would say 2; it is not drift.
    expect(await checkAt(0)).toEqual({
      drift: false,
      report: 'unchanged',
      lines: ['only outputs would change (checked_at): that is not drift'],
    });
    expect(mails('drifted')).toEqual([]);
    // The same firing again (a redelivered timer): nothing new is started.
    expect((await tick(new Date(base + 45_000))).drift).toEqual([]);

    // The state says storage 50 where the configuration says 20.
    const current = (await store.getState('drifty'))!;
    const state = JSON.parse(current.data);
    state.serial += 1;
    const cluster = state.resources.find((r: { name: string }) => r.name === 'cluster');
    cluster.instances[0].attributes.input.value.storage = 50;
    cluster.instances[0].attributes.output.value.storage = 50;
    await store.putState('drifty', {
      data: JSON.stringify(state),
      lineage: state.lineage,
      serial: state.serial,
    });

    const detected = await checkAt(1);
    expect(detected).toEqual({
      drift: true,
      report: 'detected',
      lines: [
        'a plan would change: terraform_data.cluster (update: input.storage, output)',
        'outputs that change too: checked_at, cluster',
      ],
      reconcilePlan: expect.stringMatching(/^plan-/),
    });
    const mail = await until(() => mails('drifty drifted: terraform_data.cluster').at(0));
    expect(mail.text).toContain(
      'a plan would change: terraform_data.cluster (update: input.storage, output)',
    );
    expect(mail.text).toContain(`fc-devops terraform show drifty ${detected.reconcilePlan}`);
    // The plan to reconcile waits for a person, though the workspace applies its own plans by itself.
    const reconcile = (await call('ops-alice', 'GET', `/workspaces/drifty/plans/${detected.reconcilePlan}`))
      .body;
    expect(reconcile).toMatchObject({
      status: 'awaiting-approval',
      requestedBy: 'drift',
      changes: '0 to add, 1 to change, 0 to replace, 0 to destroy',
    });

    // The same drift an hour later: not reported again.
    expect(await checkAt(2)).toMatchObject({ drift: true, report: 'unchanged' });
    expect(mails('drifty drifted')).toHaveLength(1);

    // Approved and applied: the next check says it is gone, once.
    expect(
      (await call('ops-bob', 'POST', `/workspaces/drifty/plans/${detected.reconcilePlan}/approve`)).status,
    ).toBe(202);
    await until(async () => {
      const p = (await call('ops-alice', 'GET', `/workspaces/drifty/plans/${detected.reconcilePlan}`)).body;
      return p.status === 'applied' ? true : undefined;
    }, 120_000);
    expect(await checkAt(3)).toMatchObject({ drift: false, report: 'resolved' });
    await until(() => mails('drifty matches its configuration again').at(0));
    expect(await checkAt(4)).toMatchObject({ drift: false, report: 'unchanged' });
    expect(mails('matches its configuration again')).toHaveLength(1);

    // An environment made from the workspace is checked on the same schedule, against its own state.
    const env = await call('ops-alice', 'POST', '/environments', { template: 'drifty', ttl: '12h' });
    expect(env.status).toBe(202);
    const id = env.body.id as string;
    await until(
      async () =>
        (await call('ops-alice', 'GET', `/environments/${id}`)).body.status === 'active' ? true : undefined,
      120_000,
    );
    await pastTheSecondOf(Date.now());
    expect(await checkAt(5, id, ['drifty', id])).toEqual({
      drift: false,
      report: 'unchanged',
      lines: ['only outputs would change (checked_at): that is not drift'],
    });
  });
});
