// The scaling planner: what capacity a target gets, and why, decided without I/O.

/** What a target allows, from fc-devops.yaml. */
export interface Limits {
  min: number;
  max: number;
  /** At most this many instances or nodes added or removed by one change. */
  maxStep: number;
  /** After a change out (or in), automatic changes in the same direction wait this long. */
  cooldownOutSeconds: number;
  cooldownInSeconds: number;
}

/** The target as the cloud and the store say it is now. */
export interface TargetState {
  desired: number;
  /** A scaling activity (ESS) or node pool task (ACK) that has not finished. */
  busy?: { id: string; kind: string; since: string } | undefined;
  /** What scale-in must not go below: instances protected or warming, nodes still holding workload. */
  load: { count: number; why: string };
  /** An ACK pool whose autoscaler owns the count: its desired size is not fc-devops's to set. */
  autoscaler?: boolean;
  lastOutAt?: Date | undefined;
  lastInAt?: Date | undefined;
  /** A person's change, which schedules do not undo until it expires. */
  hold?: { until: Date; desired: number; by: string } | undefined;
  /** What a firing alarm asked for: nothing scales in below it until the alarm is OK and cooled down. */
  alarmFloor?: { desired: number; alarm: string; until: Date } | undefined;
  /** A freeze: nothing changes until it ends. */
  frozen?: { until?: Date | undefined; reason: string; by: string } | undefined;
}

export type Ask =
  | { source: 'schedule'; desired: number; rule: string }
  | { source: 'alarm'; step: number; alarm: string }
  | { source: 'hand'; desired: number; by: string; clamp: boolean };

/** A rule that moved the asked-for capacity, or refused to change it, and why. */
export interface Note {
  rule: 'bounds' | 'step' | 'load' | 'alarm-floor';
  from: number;
  to: number;
  why: string;
}

export type Refusal = {
  rule: 'freeze' | 'in-progress' | 'autoscaler' | 'hold' | 'bounds' | 'cooldown';
  why: string;
};

export type Decision =
  | { change: true; from: number; to: number; asked: number; notes: Note[] }
  | { change: false; from: number; asked: number; notes: Note[]; refused?: Refusal };

/** A firing alarm's floor has no end until the alarm clears: the latest date there is. */
export const FIRING = 8.64e15;

const clampTo = (notes: Note[], from: number, to: number, rule: Note['rule'], why: string) => {
  if (to !== from) notes.push({ rule, from, to, why });
  return to;
};

/**
 * Decide one change. Refusals first: a freeze, an activity or task still running, an autoscaler
 * that owns the count, a schedule against a person's hold, a person's number outside the bounds
 * (unless they asked for clamping). Then the asked-for number is moved by the rules, each noted:
 * into [min, max], at most `maxStep` from now, and never in below the load or a firing alarm's
 * floor. A change an automatic source makes in a direction it changed recently is refused
 * (cooldown); a person's change is not held back by cooldowns.
 */
export function decide(limits: Limits, state: TargetState, ask: Ask, now: Date): Decision {
  const from = state.desired;
  const asked = ask.source === 'alarm' ? from + ask.step : ask.desired;
  const refuse = (rule: Refusal['rule'], why: string): Decision => ({
    change: false,
    from,
    asked,
    notes: [],
    refused: { rule, why },
  });
  const frozen = state.frozen;
  if (frozen && (!frozen.until || frozen.until > now))
    return refuse(
      'freeze',
      `frozen by ${frozen.by}${frozen.until ? ` until ${frozen.until.toISOString()}` : ''}: ${frozen.reason}`,
    );
  if (state.busy)
    return refuse(
      'in-progress',
      `${state.busy.kind} ${state.busy.id} has been running since ${state.busy.since}`,
    );
  if (state.autoscaler)
    return refuse(
      'autoscaler',
      'the node pool scales itself (auto_scaling on): only its min and max are fc-devops’s',
    );
  if (ask.source === 'schedule' && state.hold && state.hold.until > now)
    return refuse(
      'hold',
      `${state.hold.by} set ${state.hold.desired} by hand; schedules leave it until ${state.hold.until.toISOString()}`,
    );
  if (ask.source === 'hand' && !ask.clamp && (asked < limits.min || asked > limits.max))
    return refuse('bounds', `${asked} is outside [${limits.min}, ${limits.max}]`);

  const notes: Note[] = [];
  let to = asked;
  to = clampTo(
    notes,
    to,
    Math.min(limits.max, Math.max(limits.min, to)),
    'bounds',
    `within [${limits.min}, ${limits.max}]`,
  );
  if (to > from + limits.maxStep)
    to = clampTo(notes, to, from + limits.maxStep, 'step', `at most ${limits.maxStep} per change`);
  if (to < from - limits.maxStep)
    to = clampTo(notes, to, from - limits.maxStep, 'step', `at most ${limits.maxStep} per change`);
  if (to < from) {
    // Scale-in never goes below what is still working, or below what a firing alarm asked for.
    const floor = Math.min(from, state.load.count);
    if (to < floor) to = clampTo(notes, to, floor, 'load', state.load.why);
    const alarm = state.alarmFloor;
    if (alarm && alarm.until > now && to < Math.min(from, alarm.desired))
      to = clampTo(
        notes,
        to,
        Math.min(from, alarm.desired),
        'alarm-floor',
        `alarm ${alarm.alarm} asked for ${alarm.desired} (${alarm.until.getTime() >= FIRING ? 'while it fires' : `until ${alarm.until.toISOString()}`})`,
      );
  }
  if (to === from) return { change: false, from, asked, notes };
  if (ask.source !== 'hand') {
    const out = to > from;
    const last = out ? state.lastOutAt : state.lastInAt;
    const cooldown = (out ? limits.cooldownOutSeconds : limits.cooldownInSeconds) * 1000;
    if (last && now.getTime() - last.getTime() < cooldown)
      return {
        ...refuse(
          'cooldown',
          `scaled ${out ? 'out' : 'in'} at ${last.toISOString()}; the next ${out ? 'out' : 'in'} waits until ${new Date(last.getTime() + cooldown).toISOString()}`,
        ),
        notes,
      };
  }
  return { change: true, from, to, asked, notes };
}
