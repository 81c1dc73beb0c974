import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../shared/auth/signing.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { cliRunner } from '../cli-runner.ts';
import { until } from '../helpers.ts';
import { type System, startSystem } from '../system.ts';

const KEYS = { 'ops-alice': 'alice-secret', 'ops-bob': 'bob-secret' } as const;
type Key = keyof typeof KEYS;
const ALARM_SECRET = 'test-alarm-secret';

const group = (id: string, desired: number, protectedCount = 0) => ({
  id,
  name: id,
  min: 0,
  max: 50,
  desired,
  configurationId: `asc-${id}`,
  imageId: 'm-test',
  protectedCount,
});

const config = `region: cn-hangzhou
notifications:
  channels:
    ops: { type: email, from: fc-devops@mail.example.com, to: [platform@example.com] }
  routes:
    - match: { kinds: ["scale.**"] }
      channels: [ops]
      groupWindowSeconds: 0
scaling:
  targets:
    calendar: { kind: ess, scalingGroupId: asg-calendar, min: 1, max: 20, maxStep: 10, cooldownOutSeconds: 0, cooldownInSeconds: 0 }
    alarmed:
      kind: ess
      scalingGroupId: asg-alarmed
      min: 2
      max: 20
      maxStep: 3
      cooldownOutSeconds: 300
      alarms: { secret: "\${env:T_ALARM_SECRET}", rules: [{ metric: CPUUtilization, step: 4 }] }
    held: { kind: ess, scalingGroupId: asg-held, min: 2, max: 20, cooldownOutSeconds: 0, cooldownInSeconds: 0, holdMinutes: 120 }
    pool: { kind: ack-nodepool, clusterId: c-test, nodePoolId: np-manual, min: 1, max: 10 }
    auto: { kind: ack-nodepool, clusterId: c-test, nodePoolId: np-auto, min: 1, max: 10 }
  schedules:
    - { target: calendar, schedule: "CRON_TZ=Asia/Shanghai 0 0 8 * * *", days: workdays, calendar: cn, desired: 10 }
    - { target: calendar, schedule: "CRON_TZ=Asia/Shanghai 0 0 20 * * *", days: workdays, calendar: cn, desired: 4 }
    - { target: calendar, schedule: "CRON_TZ=Asia/Shanghai 0 0 9 * * *", days: non-workdays, calendar: cn, desired: 6 }
    - { target: held, schedule: "0 0 * * * *", desired: 8 }
  freezes:
    - { targets: [held], from: "2030-01-01T00:00:00Z", to: "2030-01-02T00:00:00Z", reason: new year sale }
access:
  keys:
    ops-alice: { secret: "\${env:T_ALICE}", roles: [{ targets: ["*"], actions: [view, scale] }] }
    ops-bob: { secret: "\${env:T_BOB}", roles: [{ targets: ["*"], actions: [view] }] }
`;

describe('scale: schedules on a working calendar, alarms and hands, within guard rails, through the running system', () => {
  let system: System;
  let store: Store;

  beforeAll(async () => {
    system = await startSystem({
      config,
      timeScale: 600,
      seed: {
        ecs: { images: [{ id: 'm-test', name: 'test' }] },
        ess: {
          groups: [group('asg-calendar', 4, 3), group('asg-alarmed', 4), group('asg-held', 4)],
        },
        cs: {
          clusters: [
            {
              id: 'c-test',
              nodepools: [
                { id: 'np-manual', name: 'manual', desired: 3, min: 1, max: 10 },
                { id: 'np-auto', name: 'auto', desired: 3, autoScaling: true, min: 1, max: 10 },
              ],
            },
          ],
        },
      },
      env: () => ({ T_ALICE: KEYS['ops-alice'], T_BOB: KEYS['ops-bob'], T_ALARM_SECRET: ALARM_SECRET }),
    });
    store = await openStore({ databaseUrl: system.runtime.databaseUrl });
  }, 180_000);
  afterAll(async () => {
    await store?.close();
    await system?.stop();
  });

  const call = async (key: Key, method: string, path: string, body?: unknown) => {
    const [bare, search = ''] = path.split('?');
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = signRequest({
      method,
      path: bare!,
      query: Object.fromEntries(new URLSearchParams(search)),
      body: text,
      keyId: key,
      secret: KEYS[key],
    });
    const response = await fetch(`${system.runtime.url}/scale${path}`, {
      method,
      headers,
      ...(text ? { body: text } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const status = async (target: string) => (await call('ops-alice', 'GET', `/targets/${target}`)).body;
  /** The target's activity has ended (sandbox time runs 600 times faster). */
  const settled = (target: string) =>
    until(async () => {
      const s = await status(target);
      return s.activity === null ? s : undefined;
    }, 30_000);
  const tick = async (at: string) => {
    const response = await fetch(`${system.runtime.url}/2023-03-30/functions/scale/invocations`, {
      method: 'POST',
      body: JSON.stringify({ triggerTime: at, triggerName: 'tick', payload: '' }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const ruleOutcome = (result: Record<string, any>, prefix: string) =>
    (result.schedules as { rule: string; status: string; result?: any }[]).find((r) =>
      r.rule.startsWith(prefix),
    );
  const alarm = (state: string, timestamp: string, name = 'web-cpu-high', metric = 'CPUUtilization') =>
    new URLSearchParams({
      userId: '12345',
      alertName: name,
      timestamp,
      alertState: state,
      dimensions: JSON.stringify([{ userId: '12345', instanceId: 'i-1' }]),
      expression: JSON.stringify([{ expression: '$Average>80', level: 4, times: 3 }]),
      curValue: '91.5',
      metricName: metric,
      metricProject: 'acs_ecs_dashboard',
    }).toString();
  const postAlarm = async (target: string, secret: string, body: string) => {
    const response = await fetch(`${system.runtime.url}/scale/alarms/${target}/${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it('gives a workday, a public holiday and a make-up working Saturday the capacity their rules say', async () => {
    const steps: [string, string, number][] = [
      ['2026-02-13T00:00:30Z', 'schedules.0', 10], // Friday 08:00: a workday
      ['2026-02-13T12:00:30Z', 'schedules.1', 4], // Friday 20:00
      ['2026-02-14T00:00:30Z', 'schedules.0', 10], // Saturday 08:00: worked for the Spring Festival
      ['2026-02-14T12:00:30Z', 'schedules.1', 4],
      ['2026-02-16T01:00:30Z', 'schedules.2', 6], // Monday 09:00: a public holiday
    ];
    for (const [at, rule, desired] of steps) {
      const fired = await tick(at);
      expect(fired.status).toBe(200);
      expect(ruleOutcome(fired.body, rule)?.result, `${at} ${rule}`).toMatchObject({
        status: 'changed',
        to: desired,
      });
      expect((await settled('calendar')).desired).toBe(desired);
    }
    // On the holiday Monday the workday rule's 08:00 firing was not one of its days.
    const holiday = await tick('2026-02-16T12:00:30Z');
    expect(ruleOutcome(holiday.body, 'schedules.1')?.result).toEqual({
      skipped: '2026-02-16T12:00:00.000Z is not one of its days (workdays)',
    });
    const history = await store.readHistory<{ to: number }>('scale:calendar', { limit: 20 });
    expect(history.map((h) => h.value.to)).toEqual([6, 4, 10, 4, 10]);
    // Scale-in by hand stops at the instances still protected (three), saying so.
    const cut = await call('ops-alice', 'POST', '/targets/calendar/set', { desired: 1, reason: 'quiet' });
    expect(cut.body).toMatchObject({
      status: 'changed',
      from: 6,
      to: 3,
      notes: [{ rule: 'load', from: 1, to: 3, why: '3 instance(s) protected from scale-in' }],
    });
  });

  it('changes capacity once for the same alarm delivered five times; holds a burst to maxStep and the cooldown', async () => {
    const body = alarm('ALERT', '1764496800');
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => postAlarm('alarmed', ALARM_SECRET, body)),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.key)).size).toBe(1);
    await until(async () => ((await status('alarmed')).desired === 7 ? true : undefined), 30_000);
    await until(() => system.runtime.queue.list().length === 0 || undefined, 30_000);
    const changes = await store.readHistory<{ from: number; to: number; source: string }>('scale:alarmed', {
      limit: 10,
    });
    // +4 asked, 3 allowed (maxStep).
    expect(changes.map((c) => [c.value.from, c.value.to, c.value.source])).toEqual([[4, 7, 'alarm']]);
    await settled('alarmed');
    // A burst of other alarms within the cooldown: none of them scales out again.
    for (const ts of ['1764496860', '1764496920', '1764496980'])
      expect((await postAlarm('alarmed', ALARM_SECRET, alarm('ALERT', ts))).status).toBe(202);
    // Every delivery handled (a job that found the target held is retried by FC, and then done).
    await until(
      async () =>
        system.runtime.queue.list().length === 0 && !(await store.lockHolder('scale:alarmed'))
          ? true
          : undefined,
      30_000,
    );
    expect(await store.readHistory('scale:alarmed', { limit: 10 })).toHaveLength(1);
    await until(
      () => system.sandbox.mails.find((m) => (m.text ?? '').includes('did not change alarmed')),
      30_000,
    );
    const refusal = system.sandbox.mails.find((m) => (m.text ?? '').includes('did not change alarmed'))!;
    expect(refusal.text).toMatch(/the next out waits until/);
    // While it fires, scale-in stays at what the latest alarm asked for (7 + 4: no scale-in at all).
    const down = await call('ops-alice', 'POST', '/targets/alarmed/set', {
      desired: 2,
      reason: 'quiet night',
    });
    expect(down.body).toMatchObject({
      status: 'unchanged',
      message: 'alarmed stays at 7',
      decision: {
        notes: [
          { rule: 'step', from: 2, to: 4 },
          {
            rule: 'alarm-floor',
            from: 4,
            to: 7,
            why: 'alarm web-cpu-high asked for 11 (while it fires)',
          },
        ],
      },
    });
    // Recovered: after its cooldown (15 minutes by default) the floor no longer holds.
    const ok = await postAlarm('alarmed', ALARM_SECRET, alarm('OK', '1764497100'));
    expect(ok).toMatchObject({ status: 200, body: { cleared: 'web-cpu-high' } });
    expect((await status('alarmed')).alarmFloor).toMatchObject({ desired: 11, until: ok.body.scaleInFrom });
  });

  it('refuses a forged alarm (audited), an unknown target or metric, naming it', async () => {
    expect((await postAlarm('alarmed', 'wrong-secret', alarm('ALERT', '1764497000'))).status).toBe(401);
    const audit = await store.listAudit({ target: 'alarmed', actor: 'cloudmonitor' });
    expect(audit[0]).toMatchObject({
      decision: 'refused',
      reason: 'the secret in the callback URL is wrong',
    });
    expect(await postAlarm('nope', ALARM_SECRET, alarm('ALERT', '1764497000'))).toMatchObject({
      status: 404,
      body: { message: 'no scaling target named nope' },
    });
    expect(
      await postAlarm('alarmed', ALARM_SECRET, alarm('ALERT', '1764497000', 'mem', 'MemoryUsage')),
    ).toMatchObject({
      status: 404,
      body: { message: 'target alarmed has no alarm rule for metric MemoryUsage (rules: CPUUtilization)' },
    });
    expect((await postAlarm('alarmed', ALARM_SECRET, 'alertName=x')).status).toBe(400);
  });

  it('by hand: bounds, dry run, freeze, a running activity, and a hold the schedule respects', async () => {
    const outside = await call('ops-alice', 'POST', '/targets/held/set', { desired: 30, reason: 'test' });
    expect(outside).toMatchObject({
      status: 400,
      body: { error: 'OutOfBounds', message: 'held was not changed: 30 is outside [2, 20]' },
    });
    expect((await call('ops-bob', 'POST', '/targets/held/set', { desired: 6, reason: 'test' })).status).toBe(
      403,
    );
    const before = (await settled('held')).desired as number;
    const dry = await call('ops-alice', 'POST', '/targets/held/set', {
      desired: 30,
      reason: 'test',
      clamp: true,
      dryRun: true,
    });
    expect(dry.body).toMatchObject({ dryRun: true, plan: { change: true, from: before, to: 20 } });
    expect((await status('held')).desired).toBe(before);

    await call('ops-alice', 'POST', '/targets/held/freeze', { reason: 'release week', minutes: 60 });
    const frozen = await call('ops-alice', 'POST', '/targets/held/set', { desired: 6, reason: 'test' });
    expect(frozen).toMatchObject({ status: 409, body: { rule: 'freeze' } });
    expect(frozen.body.message).toContain('frozen by ops-alice until');
    await call('ops-alice', 'POST', '/targets/held/unfreeze', {});

    const set = await call('ops-alice', 'POST', '/targets/held/set', {
      desired: 6,
      reason: 'load test at 10',
    });
    expect(set.body).toMatchObject({ status: 'changed', from: before, to: 6 });
    // Its activity still runs: another change waits for it.
    const again = await call('ops-alice', 'POST', '/targets/held/set', { desired: 5, reason: 'test' });
    expect(again).toMatchObject({ status: 409, body: { error: 'ActivityInProgress', rule: 'in-progress' } });
    await settled('held');
    // The hourly schedule does not undo the hand's change while its hold lasts.
    const nextHour = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 30_000).toISOString();
    const fired = await tick(nextHour);
    expect(ruleOutcome(fired.body, 'schedules.3')?.result).toMatchObject({
      status: 'unchanged',
      decision: { refused: { rule: 'hold' } },
    });
    expect((await status('held')).desired).toBe(6);
  });

  it('takes turns: a change by hand while the schedule holds the target is told who holds it', async () => {
    const lock = await store.acquireLock('scale:held', { owner: 'schedule@tick', ttlMs: 60_000 });
    if (!lock.acquired) throw new Error('not acquired');
    const busy = await call('ops-alice', 'POST', '/targets/held/set', { desired: 7, reason: 'test' });
    expect(busy).toMatchObject({
      status: 409,
      body: { error: 'InProgress', state: { holder: 'schedule@tick' } },
    });
    await store.releaseLock({ lock: lock.name, owner: 'schedule@tick', token: lock.token });
    expect(
      (await call('ops-alice', 'POST', '/targets/held/set', { desired: 7, reason: 'test' })).body,
    ).toMatchObject({
      status: 'changed',
      to: 7,
    });
  });

  it('fails a schedule on a calendar year it does not have, naming the year and the file', async () => {
    const fired = await tick('2027-01-04T00:00:30Z');
    const message =
      "calendar cn has no 2027: add the year's days off and make-up working days to shared/schedule/calendars/cn.ts once they are announced";
    // Its run fails, naming the year and the file; the other targets' schedules still run.
    expect(ruleOutcome(fired.body, 'schedules.0')).toMatchObject({ status: 'failed', error: message });
    expect(ruleOutcome(fired.body, 'schedules.3')).toMatchObject({ status: 'done' });
    const failed = (await store.listRuns({ kind: 'scale.schedule', limit: 50 })).runs.find(
      (r) => r.status === 'failed',
    );
    expect(JSON.stringify(failed?.error)).toContain('calendar cn has no 2027');
    // Said once, however many ticks find it missing.
    await tick('2027-01-04T00:01:30Z');
    await until(() => system.sandbox.mails.find((m) => (m.text ?? '').includes('calendar cn has no 2027')));
    expect(
      system.sandbox.mails.filter((m) => (m.text ?? '').includes('calendar cn has no 2027')),
    ).toHaveLength(1);
  });

  it('keeps still in a freeze window of the config, whatever the schedule says', async () => {
    const fired = await tick('2030-01-01T00:00:30Z');
    expect(ruleOutcome(fired.body, 'schedules.3')?.result).toMatchObject({
      status: 'unchanged',
      decision: {
        refused: {
          rule: 'freeze',
          why: 'frozen by the freeze window in fc-devops.yaml until 2030-01-02T00:00:00.000Z: new year sale',
        },
      },
    });
  });

  it('sets a manual ACK pool’s desired size, and never an autoscaling pool’s', async () => {
    expect(
      (await call('ops-alice', 'POST', '/targets/pool/set', { desired: 5, reason: 'test' })).body,
    ).toMatchObject({
      status: 'changed',
      from: 3,
      to: 5,
      activity: { kind: 'node pool task' },
    });
    const auto = await call('ops-alice', 'POST', '/targets/auto/set', { desired: 5, reason: 'test' });
    expect(auto).toMatchObject({ status: 409, body: { rule: 'autoscaler' } });
    expect((await status('auto')).desired).toBe(3);
  });

  it('follows each change to its end and says so', async () => {
    const done = await until(() =>
      system.sandbox.mails.find((m) => m.subject.includes('Capacity change finished: pool')),
    );
    expect(done.text).toMatch(/pool 3 → 5: node pool task \S+ finished: success/);
  });

  it('survives the cloud: a lost answer changes once, a failing call changes nothing', async () => {
    await settled('held');
    const before = (await store.readHistory('scale:held', { limit: 50 })).length;
    const activities = () =>
      Object.values(system.sandbox.state.ess.activities).filter((a) => a.groupId === 'asg-held').length;
    const started = activities();
    system.sandbox.faults.set('ModifyScalingGroup', { loseResponseNext: 1 });
    const lost = await call('ops-alice', 'POST', '/targets/held/set', { desired: 9, reason: 'test' });
    expect(lost.body).toMatchObject({ status: 'changed', to: 9 });
    expect(activities() - started).toBe(1);
    await settled('held');
    system.sandbox.faults.set('ModifyScalingGroup', { failNext: 10, failWith: 'error' });
    const failing = await call('ops-alice', 'POST', '/targets/held/set', { desired: 10, reason: 'test' });
    expect(failing.status).toBeGreaterThanOrEqual(500);
    system.sandbox.faults.clear();
    expect((await status('held')).desired).toBe(9);
    expect(await store.readHistory('scale:held', { limit: 50 })).toHaveLength(before + 1);
    // The lock was given back: the next change goes through.
    expect(
      (await call('ops-alice', 'POST', '/targets/held/set', { desired: 10, reason: 'test' })).body.status,
    ).toBe('changed');
  });

  it('is operated by the CLI: scale status, set, freeze, preview, and send alarm', async () => {
    const scale = cliRunner(() => system, KEYS, 'scale', 'scale');
    const shown = await scale(['status', 'pool'], 'ops-bob');
    expect(shown.status, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      target: 'pool',
      kind: 'ack-nodepool',
      autoscaler: false,
    });
    expect(await scale(['set', 'pool', 'six'], 'ops-alice')).toMatchObject({
      status: 2,
      stderr: 'scale set needs <target> <n> (a whole number)\n',
    });
    expect(await scale(['set', 'pool', '6'], 'ops-alice')).toMatchObject({
      status: 2,
      stderr: 'scale set needs --reason TEXT\n',
    });
    const dry = await scale(['set', 'pool', '6', '--reason', 'try', '--dry-run'], 'ops-alice');
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, plan: { change: true, to: 6 } });
    expect((await scale(['freeze', 'pool', '--reason', 'audit', '--minutes', '5'], 'ops-alice')).status).toBe(
      0,
    );
    const refused = await scale(['set', 'pool', '6', '--reason', 'try'], 'ops-alice');
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ rule: 'freeze' });
    expect((await scale(['unfreeze', 'pool'], 'ops-alice')).status).toBe(0);
    const preview = await scale(['preview', 'held', '--days', '1'], 'ops-bob');
    expect(preview.status, preview.stdout).toBe(0);

    const { spawn } = await import('node:child_process');
    const send = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string }>((done) => {
        const child = spawn(
          process.execPath,
          [
            resolve(import.meta.dirname, '../../bin/fc-devops.mjs'),
            'send',
            'alarm',
            ...args,
            '--url',
            `${system.runtime.url}/scale`,
          ],
          { env: { ...process.env, SCALE_ALARM_SECRET: ALARM_SECRET } },
        );
        let stdout = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.on('exit', (status) => done({ status, stdout }));
      });
    const sent = await send(['--target', 'alarmed', '--state', 'OK', '--name', 'web-cpu-high']);
    expect(sent.status, sent.stdout).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ target: 'alarmed', cleared: 'web-cpu-high' });
    expect((await send(['--target', 'nope'])).status).toBe(1);
  });

  it('previews what the schedules will do, rule by rule', async () => {
    const preview = await call('ops-alice', 'GET', '/targets/held/preview?days=1');
    expect(preview.status).toBe(200);
    // The hourly rule fires 24 times a day; while the last change by hand (to 10) holds, it is
    // refused; the first firing after the hold takes 10 to 8, and the rest find it there.
    const changes = preview.body.changes as Record<string, any>[];
    expect(changes).toHaveLength(24);
    for (const c of changes) expect(c.rule).toBe('schedules.3 (every-day: 0 0 * * * * → 8)');
    const held = changes.filter((c) => c.refused?.rule === 'hold');
    expect(held.length).toBeGreaterThanOrEqual(1);
    expect(held.length).toBeLessThanOrEqual(3);
    expect(changes.slice(0, held.length).every((c) => c.stays === 10)).toBe(true);
    expect(changes[held.length]).toMatchObject({ from: 10, to: 8 });
    expect(changes.slice(held.length + 1).every((c) => c.stays === 8 && !c.refused)).toBe(true);
    expect((await call('ops-alice', 'GET', '/targets/held/preview?days=0')).status).toBe(400);
  });
});
