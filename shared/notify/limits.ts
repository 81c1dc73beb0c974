import type { ChannelConfig } from './deliver.ts';

/** Published per-bot limits: DingTalk and WeCom 20 a minute; Lark 100 a minute and 5 a second. */
export const CHANNEL_LIMITS: Record<ChannelConfig['type'], { limit: number; windowMs: number }[]> = {
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
