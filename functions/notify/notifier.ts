import type { Config } from '../../shared/config/schema/index.ts';
import { family, type NotifyEvent, outcome } from '../../shared/notify/event.ts';
import type { Logger } from '../../shared/runtime/logger.ts';
import type { Store } from '../../shared/store/port.ts';
import { sha256Hex } from '../../shared/util/hash.ts';
import { own } from '../../shared/util/records.ts';
import type { ChannelConfig, DeliveryResult } from './deliver.ts';
import { CHANNEL_LIMITS, SEND_IN_FLIGHT_MS } from './limits.ts';
import { type Message, renderDigest, renderGroup } from './render.ts';
import { route } from './routing.ts';

export interface DeliveryRecord {
  channel: string;
  status: 'sent' | 'grouped' | 'digested' | 'failed' | 'fallback-sent' | 'fallback-failed';
  events: number;
  attempts?: number;
  error?: string;
}

export interface NotifierDeps {
  notifications: Config['notifications'];
  store: Store;
  send: (channel: string, config: ChannelConfig, message: Message) => Promise<DeliveryResult>;
  now: () => Date;
  log: Logger;
}

interface Grouped {
  event: NotifyEvent;
  recovery: boolean;
  fallback: string | undefined;
}

interface Digested {
  message: Message;
  fallback: string | undefined;
}

const GROUP = 'notify:group|';
const DIGEST = 'notify:digest|';
const short = (s: string) => (s.length <= 120 ? s : sha256Hex(s));

/**
 * Routes events to channels without flooding anyone and without losing anything:
 * identical events (kind and subject) within a route's grouping window become one message with a
 * count; a channel over its rate limit gets the overflow folded into a digest sent when there is
 * room again; a success after a failure of the same family and subject is marked a recovery; a
 * delivery that fails for good goes to the route's fallback channel.
 */
export class Notifier {
  constructor(private readonly deps: NotifierDeps) {}

  async accept(event: NotifyEvent): Promise<DeliveryRecord[]> {
    const recovery = await this.recovery(event);
    const records: DeliveryRecord[] = [];
    for (const d of route(event, this.deps.notifications)) {
      if (d.groupWindowSeconds === 0) {
        records.push(...(await this.sendRated(d.channel, renderGroup([event], recovery), d.fallback)));
        continue;
      }
      const due = new Date(this.deps.now().getTime() + d.groupWindowSeconds * 1000);
      const item: Grouped = { event, recovery, fallback: d.fallback };
      await this.deps.store.bufferAdd(
        `${GROUP}${d.channel}|${event.kind}|${short(event.subject)}`,
        item,
        due,
      );
      records.push({ channel: d.channel, status: 'grouped', events: 1 });
    }
    return records;
  }

  /** Send what is due: closed grouping windows, then digests of what rate limits held back. */
  async flush(): Promise<DeliveryRecord[]> {
    const records: DeliveryRecord[] = [];
    for (const group of await this.deps.store.takeDueBuffers({ prefix: GROUP })) {
      const channel = group.key.slice(GROUP.length).split('|')[0]!;
      const items = group.items as Grouped[];
      const message = renderGroup(
        items.map((i) => i.event),
        items.some((i) => i.recovery),
      );
      records.push(...(await this.sendRated(channel, message, items[0]?.fallback)));
    }
    for (const digest of await this.deps.store.takeDueBuffers({ prefix: DIGEST })) {
      const channel = digest.key.slice(DIGEST.length);
      const items = digest.items as Digested[];
      const message = items.length === 1 ? items[0]!.message : renderDigest(items.map((i) => i.message));
      records.push(...(await this.sendRated(channel, message, items[0]?.fallback)));
    }
    return records;
  }

  private async sendRated(
    channel: string,
    message: Message,
    fallback: string | undefined,
  ): Promise<DeliveryRecord[]> {
    const config = own(this.deps.notifications.channels, channel);
    if (!config)
      return [{ channel, status: 'failed', events: message.events, error: `unknown channel ${channel}` }];
    const slots: string[] = [];
    for (const { limit, windowMs } of CHANNEL_LIMITS[config.type]) {
      const take = await this.deps.store.rateTake(`notify:rate|${channel}|${windowMs}`, limit, windowMs, {
        inFlightMs: SEND_IN_FLIGHT_MS,
      });
      if (!take.allowed) {
        // Slots already taken in the other windows go back: nothing was sent.
        for (const slot of slots) await this.deps.store.rateSettle(slot, { used: false });
        // Never dropped: held back and folded into the channel's next digest.
        await this.deps.store.bufferAdd(
          `${DIGEST}${channel}`,
          { message, fallback } satisfies Digested,
          take.retryAt,
        );
        return [{ channel, status: 'digested', events: message.events }];
      }
      slots.push(take.slot);
    }
    let result: DeliveryResult;
    try {
      result = await this.deps.send(channel, config, message);
    } finally {
      // The receiver counted the message when it arrived, at the latest now.
      for (const slot of slots) await this.deps.store.rateSettle(slot);
    }
    if (result.ok) return [{ channel, status: 'sent', events: message.events, attempts: result.attempts }];
    const failed: DeliveryRecord = {
      channel,
      status: 'failed',
      events: message.events,
      attempts: result.attempts,
      ...(result.error ? { error: result.error } : {}),
    };
    this.deps.log.error('delivery failed', {
      channel,
      kind: message.kind,
      attempts: result.attempts,
      error: result.error,
    });
    const backup =
      fallback && fallback !== channel ? own(this.deps.notifications.channels, fallback) : undefined;
    if (!backup || !fallback) return [failed];
    const second = await this.deps.send(fallback, backup, {
      ...message,
      lines: [...message.lines, `(delivery to ${channel} failed; sent to ${fallback} instead)`],
    });
    return [
      failed,
      {
        channel: fallback,
        status: second.ok ? 'fallback-sent' : 'fallback-failed',
        events: message.events,
        attempts: second.attempts,
        ...(second.error ? { error: second.error } : {}),
      },
    ];
  }

  /** A success after a failure of the same family and subject is a recovery. */
  private async recovery(event: NotifyEvent): Promise<boolean> {
    const result = outcome(event.kind);
    if (result === 'neutral') return false;
    const key = `notify:state|${short(`${family(event.kind)}|${event.subject}`)}`;
    const [last] = await this.deps.store.readHistory<string>(key, { limit: 1 });
    if (last?.value !== result) await this.deps.store.appendHistory(key, { value: result });
    return result === 'ok' && last?.value === 'problem';
  }
}
