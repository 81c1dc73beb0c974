// What the store remembers of a target: its changes, a person's hold, a freeze, a firing alarm's floor.
import type { Fence, Store } from '../../shared/store/port.ts';
import { FIRING, type TargetState } from './planner.ts';

export const keys = {
  lock: (t: string) => `scale:${t}`,
  changes: (t: string) => `scale:${t}`,
  freeze: (t: string) => `scale-freeze:${t}`,
  alarm: (t: string) => `scale-alarm:${t}`,
};

export interface ChangeEntry {
  from: number;
  to: number;
  source: 'schedule' | 'alarm' | 'hand';
  reason: string;
  by: string;
  activity: { id: string; kind: string };
  /** When it was decided (a timer's trigger time, or the request's). */
  at: string;
  /** A change by hand holds against schedules until then. */
  holdUntil?: string;
}

export interface FreezeEntry {
  frozen: boolean;
  until?: string;
  reason: string;
  by: string;
}

/** ALERT: scale-in stays at or above `desired` while it fires; OK: until `until`. */
export interface AlarmEntry {
  state: 'ALERT' | 'OK';
  alarm: string;
  desired: number;
  until?: string;
}

/** The parts of a target's state the store keeps (the cloud says the rest). */
export async function remembered(
  store: Store,
  target: string,
  now: Date,
): Promise<
  Pick<TargetState, 'lastOutAt' | 'lastInAt' | 'hold' | 'frozen' | 'alarmFloor'> & { last?: ChangeEntry }
> {
  const changes = await store.readHistory<ChangeEntry>(keys.changes(target), { limit: 50 });
  const lastOut = changes.find((c) => c.value.to > c.value.from);
  const lastIn = changes.find((c) => c.value.to < c.value.from);
  const manual = changes.find((c) => c.value.source === 'hand');
  const [freeze] = await store.readHistory<FreezeEntry>(keys.freeze(target), { limit: 1 });
  const [alarm] = await store.readHistory<AlarmEntry>(keys.alarm(target), { limit: 1 });
  const hold =
    manual?.value.holdUntil && Date.parse(manual.value.holdUntil) > now.getTime()
      ? { until: new Date(manual.value.holdUntil), desired: manual.value.to, by: manual.value.by }
      : undefined;
  return {
    ...(changes[0] ? { last: changes[0].value } : {}),
    lastOutAt: lastOut && new Date(lastOut.value.at),
    lastInAt: lastIn && new Date(lastIn.value.at),
    hold,
    frozen:
      freeze?.value.frozen && (!freeze.value.until || Date.parse(freeze.value.until) > now.getTime())
        ? {
            reason: freeze.value.reason,
            by: freeze.value.by,
            ...(freeze.value.until ? { until: new Date(freeze.value.until) } : {}),
          }
        : undefined,
    alarmFloor: alarm
      ? {
          desired: alarm.value.desired,
          alarm: alarm.value.alarm,
          until: alarm.value.state === 'ALERT' ? new Date(FIRING) : new Date(alarm.value.until ?? 0),
        }
      : undefined,
  };
}

export const remember = <V>(store: Store, key: string, value: V, actor: string, fence?: Fence) =>
  store.appendHistory<V>(key, { value, actor }, fence ? { fence } : {});
