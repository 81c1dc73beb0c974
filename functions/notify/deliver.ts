import type { DirectMailAdapter } from '../../shared/cloud/adapters/directmail.ts';
import { exchange } from '../../shared/cloud/http-exchange.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import { redactString } from '../../shared/runtime/redact.ts';
import { retry } from '../../shared/util/retry.ts';
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
  sleep?: (ms: number) => Promise<void>;
  attempts?: number;
  timeoutMs?: number;
}

type Attempt = { ok: true } | { ok: false; retry: boolean; error: string };

/** One failed attempt, thrown into the shared retry loop. */
class AttemptFailed extends Error {
  override name = 'AttemptFailed';
  constructor(
    readonly retryable: boolean,
    message: string,
  ) {
    super(message);
  }
}

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
  const policy = {
    attempts: deps.attempts ?? 4,
    baseMs: 250,
    maxMs: 5000,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  };
  let attempts = 0;
  try {
    await retry(
      async (attempt) => {
        attempts = attempt;
        let result: Attempt;
        try {
          result = await attemptOnce(channel, message, deps);
        } catch (error) {
          throw new AttemptFailed(true, `network: ${(error as Error).message}`);
        }
        if (!result.ok) throw new AttemptFailed(result.retry, result.error);
      },
      policy,
      (error) => ({ retry: error instanceof AttemptFailed && error.retryable }),
    );
    return { ok: true, attempts };
  } catch (error) {
    const failure = error as AttemptFailed;
    // A failure that retries could not fix names the channel; one that was never worth retrying speaks for itself.
    const text = failure.retryable ? `${name}: ${failure.message}` : failure.message;
    return { ok: false, attempts, error: redactString(text) };
  }
}

function secret(ref: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (ref === undefined) return undefined;
  const value = resolveSecret(ref, env);
  if (value === undefined) throw new MissingSecret(ref);
  return value;
}

class MissingSecret extends Error {
  override name = 'MissingSecret';
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
  const response = await exchange(new URL(target.url), {
    method: 'POST',
    headers: target.headers,
    body: Buffer.from(target.body),
    timeoutMs: deps.timeoutMs ?? 10_000,
  });
  const text = response.body.toString('utf8');
  if (response.status === 429 || response.status >= 500)
    return { ok: false, retry: true, error: `HTTP ${response.status}` };
  if (response.status < 200 || response.status >= 300)
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
