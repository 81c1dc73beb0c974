import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Ask, decide, type Limits, type TargetState } from '../../functions/scale/planner.ts';

const NOW = new Date('2026-11-30T10:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);
const later = (s: number) => new Date(NOW.getTime() + s * 1000);
const LIMITS: Limits = { min: 2, max: 20, maxStep: 5, cooldownOutSeconds: 300, cooldownInSeconds: 900 };
const STATE: TargetState = { desired: 6, load: { count: 0, why: 'no protected or warming instances' } };
const schedule = (desired: number): Ask => ({ source: 'schedule', desired, rule: 'workdays 08:00' });
const hand = (desired: number, clamp = false): Ask => ({ source: 'hand', desired, by: 'ops-alice', clamp });
const alarm = (step: number): Ask => ({ source: 'alarm', step, alarm: 'cpu-high' });
const result = (d: ReturnType<typeof decide>) => (d.change ? d.to : d.from);

describe('the scaling planner', () => {
  it('changes to what was asked when every rule allows it', () => {
    expect(decide(LIMITS, STATE, schedule(10), NOW)).toEqual({
      change: true,
      from: 6,
      to: 10,
      asked: 10,
      notes: [],
    });
  });

  it('says which rule moved the number, and why', () => {
    expect(decide(LIMITS, STATE, schedule(30), NOW)).toEqual({
      change: true,
      from: 6,
      to: 11,
      asked: 30,
      notes: [
        { rule: 'bounds', from: 30, to: 20, why: 'within [2, 20]' },
        { rule: 'step', from: 20, to: 11, why: 'at most 5 per change' },
      ],
    });
    const loaded = { ...STATE, desired: 10, load: { count: 8, why: '8 instances protected or warming' } };
    expect(decide(LIMITS, loaded, schedule(2), NOW)).toMatchObject({
      change: true,
      to: 8,
      notes: [
        { rule: 'step', from: 2, to: 5 },
        { rule: 'load', from: 5, to: 8, why: '8 instances protected or warming' },
      ],
    });
    const alarmed = {
      ...STATE,
      desired: 10,
      alarmFloor: { desired: 9, alarm: 'cpu-high', until: later(600) },
    };
    expect(decide(LIMITS, alarmed, schedule(6), NOW)).toMatchObject({
      change: true,
      to: 9,
      notes: [{ rule: 'alarm-floor', from: 6, to: 9 }],
    });
    // Once the alarm is OK and cooled down, its floor no longer holds.
    expect(
      decide(LIMITS, { ...alarmed, alarmFloor: { ...alarmed.alarmFloor, until: ago(1) } }, schedule(6), NOW),
    ).toMatchObject({ to: 6 });
  });

  it('refuses, naming the rule: freeze, activity running, autoscaler, hold, bounds by hand, cooldown', () => {
    const refused = (state: TargetState, ask: Ask) => {
      const d = decide(LIMITS, state, ask, NOW);
      return d.change ? undefined : d.refused;
    };
    expect(
      refused({ ...STATE, frozen: { reason: 'release week', by: 'ops-bob', until: later(60) } }, hand(8)),
    ).toEqual({
      rule: 'freeze',
      why: 'frozen by ops-bob until 2026-11-30T10:01:00.000Z: release week',
    });
    expect(
      refused({ ...STATE, frozen: { reason: 'x', by: 'ops-bob', until: ago(1) } }, hand(8)),
    ).toBeUndefined();
    expect(
      refused(
        { ...STATE, busy: { id: 'asa-1', kind: 'scaling activity', since: '2026-11-30T09:58:00Z' } },
        schedule(8),
      ),
    ).toEqual({
      rule: 'in-progress',
      why: 'scaling activity asa-1 has been running since 2026-11-30T09:58:00Z',
    });
    expect(refused({ ...STATE, autoscaler: true }, hand(8))?.rule).toBe('autoscaler');
    const held = { ...STATE, hold: { until: later(3600), desired: 6, by: 'ops-alice' } };
    expect(refused(held, schedule(2))?.why).toBe(
      'ops-alice set 6 by hand; schedules leave it until 2026-11-30T11:00:00.000Z',
    );
    expect(refused(held, alarm(2))).toBeUndefined(); // an alarm is not a schedule
    expect(refused(STATE, hand(25))).toEqual({ rule: 'bounds', why: '25 is outside [2, 20]' });
    expect(decide(LIMITS, STATE, hand(25, true), NOW)).toMatchObject({ change: true, to: 11 });
    expect(refused({ ...STATE, lastOutAt: ago(60) }, alarm(2))).toEqual({
      rule: 'cooldown',
      why: 'scaled out at 2026-11-30T09:59:00.000Z; the next out waits until 2026-11-30T10:04:00.000Z',
    });
    // A cooldown holds one direction only, and not a person.
    expect(refused({ ...STATE, lastOutAt: ago(60) }, schedule(4))).toBeUndefined();
    expect(refused({ ...STATE, lastOutAt: ago(60) }, hand(8))).toBeUndefined();
  });

  it('is no change when the rules bring the number back to now', () => {
    const loaded = { ...STATE, load: { count: 6, why: '6 nodes hold workload pods' } };
    expect(decide(LIMITS, loaded, schedule(3), NOW)).toEqual({
      change: false,
      from: 6,
      asked: 3,
      notes: [{ rule: 'load', from: 3, to: 6, why: '6 nodes hold workload pods' }],
    });
  });

  describe('properties', () => {
    const limits = fc
      .record({
        min: fc.integer({ min: 0, max: 50 }),
        span: fc.integer({ min: 0, max: 100 }),
        maxStep: fc.integer({ min: 1, max: 20 }),
        cooldownOutSeconds: fc.integer({ min: 0, max: 3600 }),
        cooldownInSeconds: fc.integer({ min: 0, max: 3600 }),
      })
      .map(({ span, ...l }) => ({ ...l, max: l.min + span }));
    const world = limits.chain((l) =>
      fc.record({
        limits: fc.constant(l),
        desired: fc.integer({ min: l.min, max: l.max }),
        load: fc.integer({ min: 0, max: 200 }),
        lastOut: fc.option(fc.integer({ min: 0, max: 7200 }), { nil: undefined }),
        lastIn: fc.option(fc.integer({ min: 0, max: 7200 }), { nil: undefined }),
        alarmFloor: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
        ask: fc.oneof(
          fc.integer({ min: -50, max: 300 }).map((desired): Ask => schedule(desired)),
          fc.integer({ min: -30, max: 30 }).map((step): Ask => alarm(step)),
          fc.tuple(fc.integer({ min: 0, max: 300 }), fc.boolean()).map(([d, c]): Ask => hand(d, c)),
        ),
      }),
    );
    type World = typeof world extends fc.Arbitrary<infer T> ? T : never;
    const stateOf = (w: World, load = w.load): TargetState => ({
      desired: w.desired,
      load: { count: load, why: 'load' },
      lastOutAt: w.lastOut === undefined ? undefined : ago(w.lastOut),
      lastInAt: w.lastIn === undefined ? undefined : ago(w.lastIn),
      alarmFloor:
        w.alarmFloor === undefined ? undefined : { desired: w.alarmFloor, alarm: 'a', until: later(60) },
    });

    it('always ends within [min, max], never moves more than maxStep, never changes inside a cooldown', () => {
      fc.assert(
        fc.property(world, (w) => {
          const d = decide(w.limits, stateOf(w), w.ask, NOW);
          const to = result(d);
          expect(to).toBeGreaterThanOrEqual(w.limits.min);
          expect(to).toBeLessThanOrEqual(w.limits.max);
          expect(Math.abs(to - w.desired)).toBeLessThanOrEqual(w.limits.maxStep);
          if (d.change && w.ask.source !== 'hand') {
            const out = d.to > d.from;
            const last = out ? w.lastOut : w.lastIn;
            const cooldown = out ? w.limits.cooldownOutSeconds : w.limits.cooldownInSeconds;
            if (last !== undefined) expect(last).toBeGreaterThanOrEqual(cooldown);
          }
          if (d.change && d.to < d.from) {
            expect(d.to).toBeGreaterThanOrEqual(Math.min(w.desired, w.load));
            if (w.alarmFloor !== undefined)
              expect(d.to).toBeGreaterThanOrEqual(Math.min(w.desired, w.alarmFloor));
          }
        }),
        { numRuns: 2000 },
      );
    });

    it('is monotone in the load: more load never means fewer instances', () => {
      fc.assert(
        fc.property(world, fc.integer({ min: 0, max: 200 }), (w, more) => {
          const low = result(decide(w.limits, stateOf(w, w.load), w.ask, NOW));
          const high = result(decide(w.limits, stateOf(w, w.load + more), w.ask, NOW));
          expect(high).toBeGreaterThanOrEqual(low);
        }),
        { numRuns: 2000 },
      );
    });
  });
});

describe('alarms', () => {
  const base = {
    alertName: 'web-cpu-high',
    timestamp: '1764496800',
    dimensions: [],
    expression: [],
    metricName: 'CPUUtilization',
  };
  const rules = [{ metric: 'CPUUtilization', step: 2 }];
  it('steps while an alarm fires, keyed by alarm, state and time; clears with a cooldown; ignores no data', async () => {
    const { readAlarm } = await import('../../functions/scale/alarms.ts');
    expect(readAlarm('web-asg', rules, { ...base, alertState: 'ALERT' }, 900, NOW)).toEqual({
      kind: 'step',
      key: 'alarm:web-asg:web-cpu-high:CPUUtilization:ALERT:1764496800',
      ask: { source: 'alarm', step: 2, alarm: 'web-cpu-high' },
    });
    expect(readAlarm('web-asg', rules, { ...base, alertState: 'OK' }, 900, NOW)).toEqual({
      kind: 'cleared',
      key: 'alarm:web-asg:web-cpu-high:CPUUtilization:OK:1764496800',
      floorUntil: later(900),
    });
    expect(readAlarm('web-asg', rules, { ...base, alertState: 'INSUFFICIENT_DATA' }, 900, NOW).kind).toBe(
      'ignored',
    );
    expect(
      readAlarm('web-asg', rules, { ...base, alertState: 'ALERT', metricName: 'MemoryUsage' }, 900, NOW),
    ).toEqual({
      kind: 'unknown-metric',
      why: 'target web-asg has no alarm rule for metric MemoryUsage (rules: CPUUtilization)',
    });
  });

  it('holds a burst of alarms to maxStep and the cooldown', () => {
    // Five different alarms in a minute, each +4 on a target with maxStep 3 and a 5-minute cooldown out.
    let state: TargetState = { desired: 4, load: { count: 0, why: 'none' } };
    const outcomes = [0, 10, 20, 30, 40].map((s) => {
      const at = new Date(NOW.getTime() + s * 1000);
      const d = decide({ ...LIMITS, maxStep: 3 }, state, alarm(4), at);
      if (d.change) state = { ...state, desired: d.to, lastOutAt: at };
      return d.change ? d.to : d.refused?.rule;
    });
    expect(outcomes).toEqual([7, 'cooldown', 'cooldown', 'cooldown', 'cooldown']);
  });
});
