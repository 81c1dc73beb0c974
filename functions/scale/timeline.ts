// What a target's schedules will do over a period: their firings on the days the calendar allows,
// each passed through the planner as it would be at that time (pure; `scale preview` prints it).
import {
  type CalendarOverrides,
  isWorkday,
  localDay,
  type WorkCalendar,
} from '../../shared/schedule/calendar.ts';
import { parseSchedule } from '../../shared/schedule/cron.ts';
import { type Decision, decide, type Limits, type TargetState } from './planner.ts';

/** A scheduled capacity: FC cron for the times, the calendar for the days. */
export interface ScheduleRule {
  name: string;
  schedule: string;
  desired: number;
  days: 'every-day' | 'workdays' | 'non-workdays';
  calendar?: WorkCalendar | undefined;
  overrides?: CalendarOverrides | undefined;
}

export interface Firing {
  at: Date;
  rule: ScheduleRule;
}

/** Whether a rule applies on the local day of `at` (a calendar year it does not have throws). */
export function appliesOn(rule: ScheduleRule, at: Date): boolean {
  if (rule.days === 'every-day') return true;
  if (!rule.calendar) throw new Error(`schedule ${rule.name}: days ${rule.days} needs a calendar`);
  const working = isWorkday(rule.calendar, localDay(at, rule.calendar.timeZone), rule.overrides);
  return rule.days === 'workdays' ? working : !working;
}

/** The firings of every rule in (from, to], on the days each allows, in time order (ties: rule order). */
export function firings(rules: readonly ScheduleRule[], from: Date, to: Date): Firing[] {
  const out: Firing[] = [];
  rules.forEach((rule) => {
    for (const at of parseSchedule(rule.schedule).between(from, to))
      if (appliesOn(rule, at)) out.push({ at, rule });
  });
  const order = new Map(rules.map((r, i) => [r, i]));
  return out.sort((a, b) => a.at.getTime() - b.at.getTime() || order.get(a.rule)! - order.get(b.rule)!);
}

export interface Step {
  at: Date;
  rule: string;
  decision: Decision;
}

/**
 * Run the firings through the planner in order, the target's capacity and last change times moving
 * as each change lands (activities are taken to finish before the next firing).
 */
export function simulate(
  limits: Limits,
  start: TargetState,
  plan: readonly Firing[],
  /** A freeze in force at a firing's time (the config's windows), over the one at the start. */
  frozenAt?: (at: Date) => TargetState['frozen'],
): Step[] {
  let state = { ...start };
  return plan.map(({ at, rule }) => {
    const decision = decide(
      limits,
      { ...state, frozen: frozenAt?.(at) ?? state.frozen },
      { source: 'schedule', desired: rule.desired, rule: rule.name },
      at,
    );
    if (decision.change)
      state = {
        ...state,
        desired: decision.to,
        ...(decision.to > decision.from ? { lastOutAt: at } : { lastInAt: at }),
      };
    return { at, rule: rule.name, decision };
  });
}
