import type { DirectMailAdapter } from '../cloud/adapters/directmail.ts';
import type { Config } from '../config/schema/index.ts';
import { resolveSecret } from '../config/secret-ref.ts';
import { redactString } from '../runtime/redact.ts';
import {
  dingtalkBody,
  dingtalkSignedUrl,
  emailContent,
  larkBody,
  slackBody,
  webhookRequest,
  wecomBody,
} from './channels/format.ts';
import type { Message } from './render.ts';

export type ChannelConfig = Config['notifications']['channels'][string];

export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  /** Why the last attempt failed; never a URL or a secret. */
  error?: string;
}

export interface DeliveryDeps {
  env: NodeJS.ProcessEnv;
  now: () => Date;
  mail: () => DirectMailAdapter;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  attempts?: number;
  timeoutMs?: number;
}

type Attempt = { ok: true } | { ok: false; retry: boolean; error: string };

/**
 * Send one message to one channel, retrying throttling, 5xx and network failures with backoff.
 * A channel whose secret is missing fails at once, naming the variable.
 */
export async function deliver(
  name: string,
  channel: ChannelConfig,
  message: Message,
  deps: DeliveryDeps,
): Promise<DeliveryResult> {
  const attempts = deps.attempts ?? 4;
  const sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  let last: Attempt = { ok: false, retry: false, error: 'not attempted' };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      last = await attemptOnce(channel, message, deps);
    } catch (error) {
      last = { ok: false, retry: true, error: `network: ${(error as Error).message}` };
    }
    if (last.ok) return { ok: true, attempts: attempt };
    if (!last.retry) return { ok: false, attempts: attempt, error: redactString(last.error) };
    if (attempt < attempts) await sleep(Math.min(5000, 250 * 2 ** (attempt - 1)));
  }
  return { ok: false, attempts, error: redactString(`${name}: ${last.ok ? '' : last.error}`) };
}

function secret(ref: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (ref === undefined) return undefined;
  const value = resolveSecret(ref, env);
  if (value === undefined) throw new MissingSecret(ref);
  return value;
}

class MissingSecret extends Error {
  constructor(ref: string) {
    super(`${ref} is not set`);
  }
}

async function attemptOnce(channel: ChannelConfig, message: Message, deps: DeliveryDeps): Promise<Attempt> {
  let target: { url: string; body: string; headers: Record<string, string> };
  try {
    target = request(channel, message, deps);
  } catch (error) {
    if (error instanceof MissingSecret)
      return { ok: false, retry: false, error: `missing secret: ${error.message}` };
    throw error;
  }
  if (channel.type === 'email') {
    const content = emailContent(message);
    await deps.mail().send({
      account: channel.from,
      to: channel.to,
      subject: content.subject,
      html: content.html,
      text: content.text,
      ...(channel.fromAlias ? { fromAlias: channel.fromAlias } : {}),
    });
    return { ok: true };
  }
  const response = await (deps.fetch ?? fetch)(target.url, {
    method: 'POST',
    headers: target.headers,
    body: target.body,
    signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  if (response.status === 429 || response.status >= 500)
    return { ok: false, retry: true, error: `HTTP ${response.status}` };
  if (!response.ok)
    return { ok: false, retry: false, error: `HTTP ${response.status}: ${text.slice(0, 200)}` };
  return judgeBody(channel.type, text);
}

function request(
  channel: ChannelConfig,
  message: Message,
  deps: DeliveryDeps,
): { url: string; body: string; headers: Record<string, string> } {
  const json = { 'content-type': 'application/json' };
  const now = deps.now();
  switch (channel.type) {
    case 'dingtalk':
      return {
        url: dingtalkSignedUrl(secret(channel.webhook, deps.env)!, secret(channel.secret, deps.env), now),
        body: JSON.stringify(dingtalkBody(message, channel)),
        headers: json,
      };
    case 'lark':
      return {
        url: secret(channel.webhook, deps.env)!,
        body: JSON.stringify(larkBody(message, secret(channel.secret, deps.env), now)),
        headers: json,
      };
    case 'wecom':
      return {
        url: secret(channel.webhook, deps.env)!,
        body: JSON.stringify(wecomBody(message, channel.mentionedList)),
        headers: json,
      };
    case 'slack':
      return {
        url: secret(channel.webhook, deps.env)!,
        body: JSON.stringify(slackBody(message)),
        headers: json,
      };
    case 'webhook': {
      const signed = webhookRequest(message, secret(channel.secret, deps.env)!, now);
      return {
        url: secret(channel.url, deps.env)!,
        body: signed.body,
        headers: { ...signed.headers, ...channel.headers },
      };
    }
    case 'email':
      return { url: '', body: '', headers: {} };
  }
}

/** The chat services answer 200 with an error code in the body; read it. */
function judgeBody(type: ChannelConfig['type'], text: string): Attempt {
  if (type === 'slack')
    return text.trim() === 'ok' ? { ok: true } : { ok: false, retry: false, error: text.slice(0, 200) };
  if (type === 'webhook') return { ok: true };
  let body: { errcode?: number; errmsg?: string; code?: number; msg?: string };
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, retry: true, error: `unreadable answer: ${text.slice(0, 100)}` };
  }
  const code = body.errcode ?? body.code ?? 0;
  if (code === 0) return { ok: true };
  // DingTalk 130101 "send too fast", Lark 11232 throttled, WeCom 45009 over the API limit: try again later.
  const throttled = [130101, 11232, 45009].includes(code);
  return { ok: false, retry: throttled, error: `${type} answered ${code}: ${body.errmsg ?? body.msg ?? ''}` };
}
