// A target's schedules from the config, as the timeline and the timer read them.
import type { Config } from '../../shared/config/schema/index.ts';
import { CALENDARS } from '../../shared/schedule/calendar.ts';
import type { ScheduleRule } from './timeline.ts';

/** The config's schedules of a target (all targets when none is named), each named by its place. */
export function rulesOf(config: Config, target?: string): (ScheduleRule & { target: string })[] {
  return config.scaling.schedules.flatMap((s, i) =>
    target && s.target !== target
      ? []
      : [
          {
            target: s.target,
            name: `schedules.${i} (${s.days}${s.calendar ? ` of ${s.calendar}` : ''}: ${s.schedule} → ${s.desired})`,
            schedule: s.schedule,
            desired: s.desired,
            days: s.days,
            calendar: s.calendar ? CALENDARS[s.calendar] : undefined,
            overrides: s.calendar ? config.scaling.calendarDates[s.calendar] : undefined,
          },
        ],
  );
}
