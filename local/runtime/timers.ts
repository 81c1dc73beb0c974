import { parseSchedule, type Schedule } from '../../shared/schedule/cron.ts';
import type { FunctionSpec, TimerTrigger } from './s-yaml.ts';

export interface TimerFiring {
  functionName: string;
  trigger: TimerTrigger;
  /** FC sends the scheduled time, to the second, as `2023-12-26T07:49:00Z`. */
  event: { triggerTime: string; triggerName: string; payload: string };
}

/**
 * Fires each enabled timer trigger at its FC cron times. Each firing is handed to `fire` (which
 * enqueues an async invocation, as FC's timer trigger does). Disabled triggers never fire.
 */
export class TimerScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly anchor = new Date();

  constructor(private readonly fire: (firing: TimerFiring) => void) {}

  start(functions: readonly FunctionSpec[]): void {
    this.stop();
    for (const fn of functions) {
      for (const trigger of fn.timers) {
        if (!trigger.triggerConfig.enable) continue;
        const schedule = parseSchedule(trigger.triggerConfig.cronExpression);
        this.arm(fn.name, trigger, schedule, new Date());
      }
    }
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** The next firing time of each armed trigger, for `fc-devops dev` to print. */
  readonly nextFirings = new Map<string, Date>();

  private arm(functionName: string, trigger: TimerTrigger, schedule: Schedule, after: Date): void {
    const key = `${functionName}/${trigger.triggerName}`;
    const at = schedule.next(after, this.anchor);
    this.nextFirings.set(key, at);
    // setTimeout tops out at ~24.8 days; re-arm from the same point if the wait is longer.
    const wait = at.getTime() - Date.now();
    const capped = Math.min(Math.max(wait, 0), 2 ** 31 - 1);
    this.timers.set(
      key,
      setTimeout(() => {
        if (capped < wait) {
          this.arm(functionName, trigger, schedule, after);
          return;
        }
        this.fire({
          functionName,
          trigger,
          event: {
            triggerTime: `${at.toISOString().slice(0, 19)}Z`,
            triggerName: trigger.triggerName,
            payload: trigger.triggerConfig.payload ?? '',
          },
        });
        this.arm(functionName, trigger, schedule, at);
      }, capped),
    );
  }
}
