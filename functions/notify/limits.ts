import type { ChannelConfig } from './deliver.ts';

/** Published per-bot limits: DingTalk and WeCom 20 a minute; Lark 100 a minute and 5 a second; Slack about 1 a second. */
export const PUBLISHED_LIMITS: Record<ChannelConfig['type'], { limit: number; windowMs: number }[]> = {
  dingtalk: [{ limit: 20, windowMs: 60_000 }],
  wecom: [{ limit: 20, windowMs: 60_000 }],
  lark: [
    { limit: 5, windowMs: 1000 },
    { limit: 100, windowMs: 60_000 },
  ],
  slack: [{ limit: 1, windowMs: 1000 }],
  email: [],
  webhook: [],
};

/**
 * What fc-devops allows itself: 10% fewer messages in a 10% longer window than published, so clock
 * differences and the receiver's own counting never tip a channel over (DingTalk throttles a robot
 * for ten minutes after its 21st message in a minute).
 */
export const CHANNEL_LIMITS: Record<ChannelConfig['type'], { limit: number; windowMs: number }[]> =
  Object.fromEntries(
    Object.entries(PUBLISHED_LIMITS).map(([type, limits]) => [
      type,
      limits.map((l) => ({
        limit: Math.max(1, Math.floor(l.limit * 0.9)),
        windowMs: Math.ceil(l.windowMs * 1.1),
      })),
    ]),
  ) as typeof PUBLISHED_LIMITS;

/** The longest one delivery can take (attempts, their timeouts and backoff): a slot counts until then. */
export const SEND_IN_FLIGHT_MS = 60_000;
