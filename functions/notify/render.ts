import { type NotifyEvent, type Severity, severityRank } from '../../shared/notify/event.ts';
import { own } from '../../shared/util/records.ts';
import { templateFor } from './templates.ts';

/** A rendered notification, channel-neutral. */
export interface Message {
  kind: string;
  severity: Severity;
  subject: string;
  title: string;
  lines: string[];
  links: { title: string; url: string }[];
  /** How many events this message accounts for. */
  events: number;
  recovery: boolean;
  time: string;
}

function fill(template: string, event: NotifyEvent): string {
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, path: string) => {
    const [head, key] = path.split('.', 2) as [string, string | undefined];
    const value =
      head === 'details' && key
        ? own(event.details, key)
        : head === 'labels' && key
          ? own(event.labels, key)
          : (event as Record<string, unknown>)[head];
    return value === undefined || value === null ? '-' : String(value);
  });
}

/** Render one event, or identical events grouped in a window (the newest speaks for them). */
export function renderGroup(events: NotifyEvent[], recovery: boolean): Message {
  const latest = events[events.length - 1]!;
  const [title = '', ...body] = fill(templateFor(latest.kind), latest).split('\n');
  const lines = body[0] === '' ? body.slice(1) : body;
  if (events.length > 1) {
    lines.push(`${events.length} identical events between ${events[0]!.time} and ${latest.time}.`);
  }
  const severity = events.reduce<Severity>(
    (s, e) => (severityRank(e.severity) > severityRank(s) ? e.severity : s),
    latest.severity,
  );
  return {
    kind: latest.kind,
    severity,
    subject: latest.subject,
    title: `${recovery ? 'RECOVERED: ' : ''}${title}${events.length > 1 ? ` (x${events.length})` : ''}`,
    lines,
    links: latest.links,
    events: events.length,
    recovery,
    time: latest.time,
  };
}

/** Fold messages held back by a rate limit into one digest that still accounts for every event. */
export function renderDigest(messages: Message[], shown = 20): Message {
  const events = messages.reduce((n, m) => n + m.events, 0);
  const severity = messages.reduce<Severity>(
    (s, m) => (severityRank(m.severity) > severityRank(s) ? m.severity : s),
    'info',
  );
  const lines = messages.slice(0, shown).map((m) => `- [${m.severity}] ${m.title}`);
  if (messages.length > shown) {
    const rest = messages.slice(shown).reduce((n, m) => n + m.events, 0);
    lines.push(`- … and ${messages.length - shown} more notifications (${rest} events)`);
  }
  return {
    kind: 'notify.digest',
    severity,
    subject: 'digest',
    title: `Digest: ${messages.length} notifications (${events} events) held back by the rate limit`,
    lines,
    links: [],
    events,
    recovery: false,
    time: messages[messages.length - 1]?.time ?? new Date(0).toISOString(),
  };
}

/** The message as plain text (WeCom, e-mail text part, logs). */
export function plainText(message: Message): string {
  const links = message.links.map((l) => `${l.title}: ${l.url}`);
  return [message.title, '', ...message.lines, ...(links.length ? ['', ...links] : [])].join('\n');
}

/** The message as Markdown (DingTalk, WeCom markdown). */
export function markdown(message: Message): string {
  const links = message.links.map((l) => `[${l.title}](${l.url})`).join(' · ');
  return [
    `### ${message.title}`,
    '',
    ...message.lines.map((l) => (l.startsWith('- ') ? l : `${l}  `)),
    ...(links ? ['', links] : []),
    '',
    `> ${message.kind} · ${message.severity} · ${message.time}`,
  ].join('\n');
}
