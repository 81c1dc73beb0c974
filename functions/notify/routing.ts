import type { Config } from '../../shared/config/schema/index.ts';
import { type NotifyEvent, severityRank } from '../../shared/notify/event.ts';
import { globMatches } from '../../shared/util/glob.ts';

export interface Delivery {
  channel: string;
  /** Index of the route that chose it, or -1 for the default channels. */
  route: number;
  fallback: string | undefined;
  groupWindowSeconds: number;
}

/**
 * Which channels get an event: routes in order, each matching kind globs, a minimum severity and
 * labels; the first match wins unless it says `continue`; unmatched events go to the default
 * channels. A channel named by several matching routes is delivered to once.
 */
export function route(event: NotifyEvent, notifications: Config['notifications']): Delivery[] {
  const out: Delivery[] = [];
  const add = (d: Delivery) => {
    if (!out.some((x) => x.channel === d.channel)) out.push(d);
  };
  let matched = false;
  for (const [i, r] of notifications.routes.entries()) {
    const m = r.match;
    const kinds = m.kinds.some((g) => globMatches(g, event.kind, '.'));
    const severe = severityRank(event.severity) >= severityRank(m.severity);
    const labelled = Object.entries(m.labels).every(([k, v]) => event.labels[k] === v);
    if (!kinds || !severe || !labelled) continue;
    matched = true;
    for (const channel of r.channels)
      add({ channel, route: i, fallback: r.fallback, groupWindowSeconds: r.groupWindowSeconds });
    if (!r.continue) break;
  }
  if (!matched) {
    for (const channel of notifications.defaultChannels)
      add({ channel, route: -1, fallback: undefined, groupWindowSeconds: 60 });
  }
  return out;
}
