import { createHmac } from 'node:crypto';
import { type Message, markdown, plainText } from '../render.ts';

/** DingTalk custom robot: markdown, with at-mentions in the text and the `at` block. */
export function dingtalkBody(message: Message, options: { atMobiles: string[]; atAll: boolean }) {
  const mentions = options.atMobiles.map((m) => `@${m}`).join(' ');
  return {
    msgtype: 'markdown',
    markdown: {
      title: message.title.slice(0, 100),
      text: mentions ? `${markdown(message)}\n\n${mentions}` : markdown(message),
    },
    at: { atMobiles: options.atMobiles, isAtAll: options.atAll },
  };
}

/** DingTalk signs the URL: `timestamp` (ms) and `sign = Base64(HMAC-SHA256(secret, "<timestamp>\n<secret>"))`. */
export function dingtalkSignedUrl(webhook: string, secret: string | undefined, now: Date): string {
  if (!secret) return webhook;
  const timestamp = now.getTime();
  const sign = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
  const url = new URL(webhook);
  url.searchParams.set('timestamp', String(timestamp));
  url.searchParams.set('sign', sign);
  return url.toString();
}

/** Lark/Feishu: a rich-text post; signing puts `timestamp` (s) and `sign` (HMAC keyed by "<ts>\n<secret>" over nothing) in the body. */
export function larkBody(message: Message, secret: string | undefined, now: Date) {
  const content = [
    ...message.lines.map((line) => [{ tag: 'text', text: line }]),
    ...message.links.map((l) => [{ tag: 'a', text: l.title, href: l.url }]),
    [{ tag: 'text', text: `${message.kind} · ${message.severity} · ${message.time}` }],
  ];
  const body: Record<string, unknown> = {
    msg_type: 'post',
    content: { post: { zh_cn: { title: message.title, content } } },
  };
  if (secret) {
    const timestamp = Math.floor(now.getTime() / 1000);
    body.timestamp = String(timestamp);
    body.sign = createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64');
  }
  return body;
}

/** WeCom group bot: markdown (mentions need the text type, which carries mentioned_list). */
export function wecomBody(message: Message, mentioned: string[]) {
  if (mentioned.length > 0)
    return {
      msgtype: 'text',
      text: { content: plainText(message).slice(0, 2000), mentioned_list: mentioned },
    };
  return { msgtype: 'markdown', markdown: { content: markdown(message).slice(0, 4000) } };
}

/** Slack incoming webhook: blocks, with `text` as the notification fallback. */
export function slackBody(message: Message) {
  const links = message.links.map((l) => `<${l.url}|${l.title}>`).join(' · ');
  return {
    text: message.title,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: message.title.slice(0, 150) } },
      ...(message.lines.length
        ? [{ type: 'section', text: { type: 'mrkdwn', text: message.lines.join('\n').slice(0, 3000) } }]
        : []),
      ...(links ? [{ type: 'section', text: { type: 'mrkdwn', text: links } }] : []),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `${message.kind} · ${message.severity} · ${message.time}` }],
      },
    ],
  };
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** DirectMail: subject, HTML and text bodies. */
export function emailContent(message: Message) {
  const html = [
    `<h2>${escapeHtml(message.title)}</h2>`,
    ...message.lines.map((l) => `<p>${escapeHtml(l)}</p>`),
    ...message.links.map((l) => `<p><a href="${escapeHtml(l.url)}">${escapeHtml(l.title)}</a></p>`),
    `<p style="color:#888">${escapeHtml(`${message.kind} · ${message.severity} · ${message.time}`)}</p>`,
  ].join('\n');
  return {
    subject: `[${message.severity.toUpperCase()}] ${message.title}`.slice(0, 256),
    html,
    text: plainText(message),
  };
}

/**
 * Generic webhook: the message as JSON, signed so receivers can verify it:
 * `X-Fc-Devops-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 */
export function webhookRequest(
  message: Message,
  secret: string,
  now: Date,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ type: 'fc-devops.notification', message });
  const t = Math.floor(now.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-fc-devops-signature': `t=${t},v1=${v1}` },
  };
}
