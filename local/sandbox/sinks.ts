import { createHmac } from 'node:crypto';
import { safeEqual as same } from '../../shared/util/compare.ts';

/** Secrets the sinks check each channel's signature with. */
export interface SinkSecrets {
  dingtalk: Record<string, string | undefined>;
  lark: Record<string, string | undefined>;
  wecom: string[];
  slack: string[];
  webhook: Record<string, string>;
}

export interface SinkMessage {
  channel: 'dingtalk' | 'lark' | 'wecom' | 'slack' | 'webhook';
  target: string;
  body: unknown;
  at: string;
}

export interface SinkAnswer {
  status: number;
  body: unknown;
  accepted: boolean;
}

const HOUR = 3_600_000;

/** Sink secrets from the variables the example config's channels use (local/dev.env in `npm start`). */
export function sinkSecretsFromEnv(env: NodeJS.ProcessEnv): SinkSecrets {
  const secrets: SinkSecrets = { dingtalk: {}, lark: {}, wecom: [], slack: [], webhook: {} };
  const url = (v: string | undefined) => {
    try {
      return v ? new URL(v) : undefined;
    } catch {
      return undefined;
    }
  };
  const ding = url(env.DINGTALK_WEBHOOK)?.searchParams.get('access_token');
  if (ding) secrets.dingtalk[ding] = env.DINGTALK_SECRET;
  const lark = url(env.LARK_WEBHOOK)?.pathname.split('/').pop();
  if (lark) secrets.lark[lark] = env.LARK_SECRET;
  const wecom = url(env.WECOM_WEBHOOK)?.searchParams.get('key');
  if (wecom) secrets.wecom.push(wecom);
  const slack = url(env.SLACK_WEBHOOK)?.pathname.replace(/^\/sinks\/slack/, '');
  if (slack) secrets.slack.push(slack);
  const hook = url(env.AUDIT_WEBHOOK_URL)?.pathname.split('/').pop();
  if (hook && env.AUDIT_WEBHOOK_SECRET) secrets.webhook[hook] = env.AUDIT_WEBHOOK_SECRET;
  return secrets;
}

/**
 * The receiving end of each notification channel, checking signatures the way the real services do,
 * answering in their formats, and keeping what arrived for inspection.
 * Generic webhooks use fc-devops's own scheme: `X-Fc-Devops-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, "<t>.<raw body>")>`, accepted within five minutes.
 */
export function receive(
  secrets: SinkSecrets,
  path: string,
  query: URLSearchParams,
  headers: Record<string, string>,
  raw: Buffer,
  now = Date.now(),
): { channel: SinkMessage['channel'] | undefined; target: string; answer: SinkAnswer; body?: unknown } {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return {
      channel: undefined,
      target: path,
      answer: { status: 400, body: { error: 'body is not JSON' }, accepted: false },
    };
  }
  if (path === '/dingtalk/robot/send') {
    const token = query.get('access_token') ?? '';
    if (!(token in secrets.dingtalk))
      return {
        channel: 'dingtalk',
        target: token,
        answer: { status: 200, body: { errcode: 300001, errmsg: 'token is not exist' }, accepted: false },
      };
    const secret = secrets.dingtalk[token];
    if (secret) {
      const timestamp = Number(query.get('timestamp'));
      const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
      if (
        !Number.isFinite(timestamp) ||
        Math.abs(now - timestamp) > HOUR ||
        !same(expected, query.get('sign') ?? '')
      ) {
        return {
          channel: 'dingtalk',
          target: token,
          answer: { status: 200, body: { errcode: 310000, errmsg: 'sign not match' }, accepted: false },
        };
      }
    }
    return {
      channel: 'dingtalk',
      target: token,
      body,
      answer: { status: 200, body: { errcode: 0, errmsg: 'ok' }, accepted: true },
    };
  }
  const lark = /^\/lark\/open-apis\/bot\/v2\/hook\/([^/]+)$/.exec(path);
  if (lark) {
    const id = lark[1]!;
    if (!(id in secrets.lark))
      return {
        channel: 'lark',
        target: id,
        answer: {
          status: 200,
          body: { code: 19001, msg: 'param invalid: incoming webhook access token invalid' },
          accepted: false,
        },
      };
    const secret = secrets.lark[id];
    if (secret) {
      const b = body as { timestamp?: string | number; sign?: string };
      const ts = Number(b.timestamp);
      const expected = createHmac('sha256', `${ts}\n${secret}`).update('').digest('base64');
      if (!Number.isFinite(ts) || Math.abs(now / 1000 - ts) > 3600 || !same(expected, b.sign ?? '')) {
        return {
          channel: 'lark',
          target: id,
          answer: {
            status: 200,
            body: {
              code: 19021,
              msg: 'sign match fail or timestamp is not within one hour from current time',
            },
            accepted: false,
          },
        };
      }
    }
    return {
      channel: 'lark',
      target: id,
      body,
      answer: { status: 200, body: { code: 0, msg: 'success' }, accepted: true },
    };
  }
  if (path === '/wecom/cgi-bin/webhook/send') {
    const key = query.get('key') ?? '';
    if (!secrets.wecom.includes(key))
      return {
        channel: 'wecom',
        target: key,
        answer: { status: 200, body: { errcode: 93000, errmsg: 'invalid webhook url' }, accepted: false },
      };
    return {
      channel: 'wecom',
      target: key,
      body,
      answer: { status: 200, body: { errcode: 0, errmsg: 'ok' }, accepted: true },
    };
  }
  const slack = /^\/slack(\/services\/.+)$/.exec(path);
  if (slack) {
    if (!secrets.slack.includes(slack[1]!))
      return {
        channel: 'slack',
        target: slack[1]!,
        answer: { status: 404, body: 'no_service', accepted: false },
      };
    return { channel: 'slack', target: slack[1]!, body, answer: { status: 200, body: 'ok', accepted: true } };
  }
  const hook = /^\/webhook\/([^/]+)$/.exec(path);
  if (hook) {
    const secret = secrets.webhook[hook[1]!];
    if (!secret)
      return {
        channel: 'webhook',
        target: hook[1]!,
        answer: { status: 404, body: { error: 'unknown webhook' }, accepted: false },
      };
    const sig = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(headers['x-fc-devops-signature'] ?? '');
    const expected = sig ? createHmac('sha256', secret).update(`${sig[1]}.`).update(raw).digest('hex') : '';
    if (!sig || Math.abs(now / 1000 - Number(sig[1])) > 300 || !same(expected, sig[2]!)) {
      return {
        channel: 'webhook',
        target: hook[1]!,
        answer: { status: 401, body: { error: 'bad signature' }, accepted: false },
      };
    }
    return {
      channel: 'webhook',
      target: hook[1]!,
      body,
      answer: { status: 200, body: { ok: true }, accepted: true },
    };
  }
  return {
    channel: undefined,
    target: path,
    answer: { status: 404, body: { error: `no sink at ${path}` }, accepted: false },
  };
}

/**
 * The rate limits the real services enforce per bot, counted by arrival as they count them:
 * DingTalk 20 a minute (then the robot is throttled for ten minutes, errcode 130101), WeCom 20 a
 * minute (45009), Lark 5 a second and 100 a minute (11232), Slack about one a second (HTTP 429).
 */
const LIMITS: Record<
  string,
  { windows: { limit: number; ms: number }[]; penaltyMs: number; answer: SinkAnswer }
> = {
  dingtalk: {
    windows: [{ limit: 20, ms: 60_000 }],
    penaltyMs: 10 * 60_000,
    answer: {
      status: 200,
      body: { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' },
      accepted: false,
    },
  },
  wecom: {
    windows: [{ limit: 20, ms: 60_000 }],
    penaltyMs: 0,
    answer: { status: 200, body: { errcode: 45009, errmsg: 'api freq out of limit' }, accepted: false },
  },
  lark: {
    windows: [
      { limit: 5, ms: 1000 },
      { limit: 100, ms: 60_000 },
    ],
    penaltyMs: 0,
    answer: { status: 200, body: { code: 11232, msg: 'frequency limited' }, accepted: false },
  },
  slack: {
    windows: [{ limit: 1, ms: 1000 }],
    penaltyMs: 0,
    answer: { status: 429, body: 'rate_limited', accepted: false },
  },
};

/** Counts arrivals per bot and refuses the one over a limit, as the service would. */
export class SinkLimiter {
  private readonly arrivals = new Map<string, number[]>();
  private readonly throttledUntil = new Map<string, number>();
  /** Every refusal, for tests to assert that none happened. */
  readonly refused: { channel: string; target: string; at: number }[] = [];

  /** The service's over-limit answer, or undefined when the message is admitted (and counted). */
  admit(channel: string, target: string, now: number): SinkAnswer | undefined {
    const limits = LIMITS[channel];
    if (!limits) return undefined;
    const bot = `${channel}|${target}`;
    const longest = Math.max(...limits.windows.map((w) => w.ms));
    const seen = (this.arrivals.get(bot) ?? []).filter((t) => t > now - longest);
    const over =
      (this.throttledUntil.get(bot) ?? 0) > now ||
      limits.windows.some((w) => seen.filter((t) => t > now - w.ms).length >= w.limit);
    if (over) {
      if (limits.penaltyMs > 0 && !((this.throttledUntil.get(bot) ?? 0) > now))
        this.throttledUntil.set(bot, now + limits.penaltyMs);
      this.refused.push({ channel, target, at: now });
      this.arrivals.set(bot, seen);
      return limits.answer;
    }
    seen.push(now);
    this.arrivals.set(bot, seen);
    return undefined;
  }
}
