import { describe, expect, it } from 'vitest';
import {
  type Environment,
  hoursBetween,
  listOrder,
  newEnvId,
  outputsOf,
  parseDuration,
  resourcesIn,
  retryDelayMs,
  type Template,
  timerStep,
  whyTtlRefused,
} from '../../functions/terraform/env-model.ts';
import { approvalRule } from '../../functions/terraform/model.ts';

const TEMPLATE: Template = {
  defaultTtlHours: 4,
  maxTtlHours: 8,
  remindMinutesBefore: 30,
  destroyNeedsApproval: false,
  destroyAttempts: 3,
};
const T0 = Date.parse('2026-11-30T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const env = (
  over: Partial<Omit<Environment, 'meta'>> & { meta?: Partial<Environment['meta']> } = {},
): Environment => ({
  id: 'loadtest-abc123',
  template: 'loadtest',
  owner: 'ops-alice',
  status: 'active',
  createdAt: at(0),
  updatedAt: at(0),
  expiresAt: at(240),
  ...over,
  meta: {
    source: { kind: 'commit', repository: 'r', commit: 'a'.repeat(40), ref: '' },
    variables: {},
    ttlHours: 4,
    ...over.meta,
  },
});
const STALL = 3 * 3_600_000;

describe('environment decisions', () => {
  it('reads durations as hours, and nothing else', () => {
    expect(parseDuration('4h')).toBe(4);
    expect(parseDuration('90m')).toBe(1.5);
    expect(parseDuration('2d')).toBe(48);
    expect(parseDuration('1h30m')).toBe(1.5);
    expect(parseDuration('2.5')).toBe(2.5);
    for (const bad of ['', 'h', '4x', '4 h', '-1h', '1h x', 'soon'])
      expect(parseDuration(bad)).toBeUndefined();
  });

  it('refuses a time to live of zero, below or beyond the maximum, naming the limit', () => {
    expect(whyTtlRefused(4, TEMPLATE, 'loadtest')).toBeUndefined();
    expect(whyTtlRefused(8, TEMPLATE, 'loadtest')).toBeUndefined();
    expect(whyTtlRefused(8.5, TEMPLATE, 'loadtest')).toBe(
      'loadtest environments live at most 8 h (maxTtlHours); asked for 8.5 h',
    );
    expect(whyTtlRefused(0, TEMPLATE, 'loadtest')).toBe('a time to live must be more than zero (got 0 h)');
    expect(whyTtlRefused(-2, TEMPLATE, 'loadtest')).toContain('more than zero');
    expect(whyTtlRefused(Number.NaN, TEMPLATE, 'loadtest')).toContain('more than zero');
  });

  it('reminds once per expiry time, destroys at expiry, and not before', () => {
    expect(timerStep(env(), TEMPLATE, at(200), STALL)).toEqual({ do: 'nothing' });
    expect(timerStep(env(), TEMPLATE, at(210), STALL)).toEqual({
      do: 'remind',
      key: 'env-remind:loadtest-abc123:2026-11-30T14:00:00.000Z',
    });
    // An extension moves the end: a new reminder key.
    expect(timerStep(env({ expiresAt: at(300) }), TEMPLATE, at(280), STALL)).toMatchObject({
      key: 'env-remind:loadtest-abc123:2026-11-30T15:00:00.000Z',
    });
    expect(timerStep(env(), { ...TEMPLATE, remindMinutesBefore: 0 }, at(239), STALL)).toEqual({
      do: 'nothing',
    });
    expect(timerStep(env(), TEMPLATE, at(240), STALL)).toEqual({
      do: 'destroy',
      reason: 'its time ran out at 2026-11-30T14:00:00.000Z',
    });
    // A failed creation may hold half of it: destroyed at expiry all the same, without a reminder.
    expect(timerStep(env({ status: 'create-failed' }), TEMPLATE, at(235), STALL)).toEqual({ do: 'nothing' });
    expect(timerStep(env({ status: 'create-failed' }), TEMPLATE, at(241), STALL)).toMatchObject({
      do: 'destroy',
    });
    for (const status of ['destroyed', 'handled'] as const)
      expect(timerStep(env({ status }), TEMPLATE, at(10_000), STALL)).toEqual({ do: 'nothing' });
  });

  it('retries a failed destroy after its pause while attempts are left, and counts a stalled one as failed', () => {
    const failed = (attempt: number, next: string | null) =>
      env({
        status: 'destroy-failed',
        meta: {
          op: { kind: 'destroy', attempt, startedAt: at(240).toISOString(), by: 'timer' },
          nextAttemptAt: next,
        },
      });
    expect(timerStep(failed(1, at(250).toISOString()), TEMPLATE, at(249), STALL)).toEqual({ do: 'nothing' });
    expect(timerStep(failed(1, at(250).toISOString()), TEMPLATE, at(250), STALL)).toEqual({
      do: 'retry',
      attempt: 2,
    });
    expect(timerStep(failed(3, null), TEMPLATE, at(100_000), STALL)).toEqual({ do: 'nothing' });
    expect([1, 2, 3, 4, 10].map(retryDelayMs)).toEqual([300_000, 600_000, 1_200_000, 2_400_000, 21_600_000]);
    const destroying = (awaitingApproval: boolean) =>
      env({
        status: 'destroying',
        meta: {
          op: {
            kind: 'destroy',
            attempt: 1,
            startedAt: at(240).toISOString(),
            by: 'timer',
            awaitingApproval,
          },
        },
      });
    expect(timerStep(destroying(false), TEMPLATE, at(240 + 180), STALL)).toEqual({ do: 'nothing' });
    expect(timerStep(destroying(false), TEMPLATE, at(240 + 181), STALL)).toEqual({
      do: 'stalled',
      since: '2026-11-30T14:00:00.000Z',
    });
    expect(timerStep(destroying(true), TEMPLATE, at(10_000), STALL)).toEqual({ do: 'nothing' });
  });

  it('destroys a creation that waited past its end for approval, or that no run finished', () => {
    const creating = (awaitingApproval: boolean, startedAt = at(0)) =>
      env({
        status: 'creating',
        meta: {
          op: {
            kind: 'create',
            attempt: 1,
            startedAt: startedAt.toISOString(),
            by: 'ops-alice',
            awaitingApproval,
          },
        },
      });
    expect(timerStep(creating(true), TEMPLATE, at(239), STALL)).toEqual({ do: 'nothing' });
    expect(timerStep(creating(true), TEMPLATE, at(240), STALL)).toMatchObject({ do: 'destroy' });
    expect(timerStep(creating(false, at(230)), TEMPLATE, at(241), STALL)).toEqual({ do: 'nothing' });
    expect(timerStep(creating(false, at(0)), TEMPLATE, at(241), STALL)).toMatchObject({ do: 'destroy' });
  });

  it('lists failed destroys first, then the soonest to end', () => {
    const list = [
      env({ id: 'b', expiresAt: at(100) }),
      env({ id: 'gone', status: 'destroyed', expiresAt: at(1) }),
      env({ id: 'a', expiresAt: at(50) }),
      env({ id: 'failed', status: 'destroy-failed', expiresAt: at(500) }),
    ];
    expect(list.sort(listOrder).map((e) => e.id)).toEqual(['failed', 'a', 'b', 'gone']);
  });

  it('reads the resources and outputs left in a state', () => {
    const state = JSON.stringify({
      outputs: {
        url: { value: 'postgres://x', type: 'string' },
        pw: { value: 's3cret', type: 'string', sensitive: true },
      },
      resources: [
        { mode: 'managed', type: 'terraform_data', name: 'db', instances: [{}] },
        { mode: 'managed', module: 'module.mq', type: 'terraform_data', name: 'vhost', instances: [{}] },
        { mode: 'managed', type: 'terraform_data', name: 'gone', instances: [] },
        { mode: 'data', type: 'http', name: 'probe', instances: [{}] },
      ],
    });
    expect(resourcesIn(state)).toEqual(['terraform_data.db', 'module.mq.terraform_data.vhost']);
    expect(resourcesIn(JSON.stringify({ version: 4, resources: [] }))).toEqual([]);
    expect(resourcesIn(undefined)).toEqual([]);
    expect(outputsOf(state)).toEqual({
      url: { value: 'postgres://x', sensitive: false },
      pw: { value: 's3cret', sensitive: true },
    });
    expect(hoursBetween(at(0), at(100))).toBe(1.67);
  });

  it('names an environment after its template, as a valid workspace name', () => {
    let i = 0;
    const seq = () => [0, 0.5, 0.99, 0.1, 0.2, 0.3][i++]!;
    expect(newEnvId('loadtest', seq)).toBe('loadtest-0iz37a');
    expect(newEnvId('a'.repeat(63))).toMatch(/^a{56}-[0-9a-z]{6}$/);
  });
});

describe('approval rule by purpose', () => {
  const ws = { requireApproval: true, autoApply: true, environments: { destroyNeedsApproval: false } };
  const changes = { noChanges: false, destructive: false };
  const destructive = { noChanges: false, destructive: true };
  it('follows the workspace for its own plans, the template for environments', () => {
    expect(approvalRule(ws, changes, undefined)).toEqual({ needsApproval: true, autoApply: false });
    expect(approvalRule({ ...ws, requireApproval: false }, changes, undefined)).toEqual({
      needsApproval: false,
      autoApply: true,
    });
    expect(approvalRule({ ...ws, requireApproval: false }, destructive, undefined)).toEqual({
      needsApproval: false,
      autoApply: false,
    });
    expect(approvalRule(ws, changes, 'env-create')).toEqual({ needsApproval: true, autoApply: false });
    expect(approvalRule({ ...ws, requireApproval: false, autoApply: false }, changes, 'env-create')).toEqual({
      needsApproval: false,
      autoApply: true,
    });
    expect(approvalRule(ws, destructive, 'env-destroy')).toEqual({ needsApproval: false, autoApply: true });
    expect(
      approvalRule({ ...ws, environments: { destroyNeedsApproval: true } }, destructive, 'env-destroy'),
    ).toEqual({ needsApproval: true, autoApply: false });
    expect(approvalRule(ws, { noChanges: true, destructive: false }, 'env-destroy')).toEqual({
      needsApproval: false,
      autoApply: false,
    });
  });
});
