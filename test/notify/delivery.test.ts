import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../functions/notify/deliver.ts';
import { type DeliveryRecord, Notifier } from '../../functions/notify/notifier.ts';
import { renderGroup } from '../../functions/notify/render.ts';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { parseConfig } from '../../shared/config/load.ts';
import { NotifyEventSchema } from '../../shared/notify/event.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { cloudFor, startSandbox } from '../cloud/harness.ts';

const CONFIG = `region: cn-hangzhou
notifications:
  channels:
    ding: { type: dingtalk, webhook: "\${env:DING_URL}", secret: "\${env:DING_SECRET}", atMobiles: ["13800000000"] }
    ding-bad: { type: dingtalk, webhook: "\${env:DING_URL}", secret: "\${env:WRONG_SECRET}" }
    lark: { type: lark, webhook: "\${env:LARK_URL}", secret: "\${env:LARK_SECRET}" }
    wecom: { type: wecom, webhook: "\${env:WECOM_URL}" }
    slack: { type: slack, webhook: "\${env:SLACK_URL}" }
    mail: { type: email, from: fc-devops@mail.example.com, to: [ops@example.com] }
    hook: { type: webhook, url: "\${env:HOOK_URL}", secret: "\${env:HOOK_SECRET}" }
  routes:
    - match: { kinds: ["burst.**"] }
      channels: [ding]
      groupWindowSeconds: 0
    - match: { kinds: ["grouped.**"] }
      channels: [ding]
      groupWindowSeconds: 60
    - match: { kinds: ["fragile.**"] }
      channels: [ding-bad]
      fallback: hook
      groupWindowSeconds: 0
    - match: { kinds: ["image.**"] }
      channels: [wecom]
      groupWindowSeconds: 0
`;

let n = 0;
const event = (kind: string, subject: string, severity = 'info') =>
  NotifyEventSchema.parse({
    id: `e${++n}`,
    kind,
    severity,
    subject,
    summary: `${kind} on ${subject}`,
    time: new Date().toISOString(),
  });

describe('notification delivery against the sandbox sinks', () => {
  let sandbox: Sandbox;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    sandbox = await startSandbox();
    env = {
      DING_URL: `${sandbox.url}/sinks/dingtalk/robot/send?access_token=tok`,
      DING_SECRET: 'SECsecret',
      WRONG_SECRET: 'SECnot-the-secret',
      LARK_URL: `${sandbox.url}/sinks/lark/open-apis/bot/v2/hook/hook1`,
      LARK_SECRET: 'lark-secret',
      WECOM_URL: `${sandbox.url}/sinks/wecom/cgi-bin/webhook/send?key=wk`,
      SLACK_URL: `${sandbox.url}/sinks/slack/services/T/B/X`,
      HOOK_URL: `${sandbox.url}/sinks/webhook/audit`,
      HOOK_SECRET: 'hook-secret',
    };
  });
  afterAll(async () => sandbox?.stop());

  const config = () => parseConfig(CONFIG, 'notify-test.yaml', { requireSecrets: true, env }).notifications;
  const send =
    (clock: () => Date) =>
    (channel: string, cfg: Parameters<typeof deliver>[1], message: Parameters<typeof deliver>[2]) =>
      deliver(channel, cfg, message, {
        env,
        now: clock,
        mail: () => cloudFor(sandbox).mail,
        sleep: async () => {},
      });

  it('delivers to every channel, each signed as its service expects', async () => {
    const message = renderGroup([event('image.build.succeeded', 'web')], false);
    const channels = config().channels;
    for (const name of ['ding', 'lark', 'wecom', 'slack', 'mail', 'hook']) {
      expect(await send(() => new Date())(name, channels[name]!, message)).toMatchObject({ ok: true });
    }
    expect(sandbox.messages.map((m) => m.channel)).toEqual(['dingtalk', 'lark', 'wecom', 'slack', 'webhook']);
    expect(sandbox.mails.at(-1)).toMatchObject({
      subject: '[INFO] Image built: web',
      to: ['ops@example.com'],
    });
    expect(JSON.stringify(sandbox.calls)).not.toContain('SECsecret');
  });

  it('sends a message once when the sink answers 500 twice and then 200', async () => {
    const before = sandbox.messages.length;
    sandbox.faults.set('sink:dingtalk', { failNext: 2, failWith: 'error' });
    const result = await send(() => new Date())(
      'ding',
      config().channels.ding!,
      renderGroup([event('x.y.failed', 's')], false),
    );
    // Two refusals, then the message; a stale keep-alive connection may add an attempt, never a message.
    expect(result).toMatchObject({ ok: true });
    expect(result.attempts).toBeGreaterThanOrEqual(3);
    expect(sandbox.messages.length).toBe(before + 1);
    sandbox.faults.clear();
  });

  it("fails at once, naming the variable, when a channel's secret is missing", async () => {
    const result = await deliver('ding', config().channels.ding!, renderGroup([event('a.b', 's')], false), {
      env: { ...env, DING_SECRET: '' },
      now: () => new Date(),
      mail: () => cloudFor(sandbox).mail,
    });
    expect(result).toEqual({
      ok: false,
      attempts: 1,
      error: 'missing secret: ${env:DING_SECRET} is not set',
    });
  });

  describe('noise control', () => {
    let store: Store;
    // Rate windows and grouping run on the sandbox's clock, which also dates arrivals at the sinks;
    // signatures use the wall clock, as the services check them.
    const clock = () => new Date(sandbox.clock.now());
    const advance = (ms: number) => sandbox.clock.advance(ms);
    const wall = send(() => new Date());
    const notifier = (deliverWith = wall) =>
      new Notifier({
        notifications: config(),
        store,
        send: deliverWith,
        now: clock,
        log: createLogger({}, { sink: () => {} }),
      });
    beforeAll(async () => {
      store = await openStore({ now: clock });
    });
    afterAll(async () => store?.close());
    const sent = (records: DeliveryRecord[]) => records.filter((r) => r.status === 'sent');
    const events = (records: DeliveryRecord[]) => records.reduce((s, r) => s + r.events, 0);
    /** The most messages one bot received within any 60 seconds, as the service counts arrivals. */
    const busiestMinute = (channel: string, from: number) => {
      const at = sandbox.messages
        .slice(from)
        .filter((m) => m.channel === channel)
        .map((m) => Date.parse(m.at));
      return Math.max(0, ...at.map((t) => at.filter((u) => u >= t && u < t + 60_000).length));
    };

    it('keeps a burst of 1,000 events under 20 DingTalk messages a minute and accounts for every event', async () => {
      const before = sandbox.messages.length;
      const records: DeliveryRecord[] = [];
      for (let i = 0; i < 1000; i++)
        records.push(...(await notifier().accept(event('burst.alarm.firing', `host-${i}`, 'warning'))));
      // 10% under the published limit, in a window 10% longer.
      expect(sent(records)).toHaveLength(18);
      expect(records.filter((r) => r.status === 'digested')).toHaveLength(982);
      expect(await notifier().flush()).toEqual([]);
      advance(66_001);
      const digest = await notifier().flush();
      expect(digest).toEqual([
        { channel: 'ding', status: 'sent', events: 982, attempts: expect.any(Number) },
      ]);
      expect(events(sent(records)) + events(digest)).toBe(1000);
      const arrived = sandbox.messages.slice(before).filter((m) => m.channel === 'dingtalk');
      expect(arrived).toHaveLength(19);
      expect(JSON.stringify(arrived.at(-1)?.body)).toContain('Digest: 982 notifications (982 events)');
      expect(sandbox.sinkLimits.refused).toEqual([]);
      expect(busiestMinute('dingtalk', before)).toBeLessThanOrEqual(20);
    });

    it('counts a slow message when it arrives: 25 in a burst never put 21 into one DingTalk minute', async () => {
      advance(11 * 60_000);
      const before = sandbox.messages.length;
      let first = true;
      // The first message spends 5 s in transit: DingTalk counts it when it arrives, not when it left.
      const slowFirst: typeof wall = async (channel, cfg, message) => {
        if (first) {
          first = false;
          advance(5000);
        }
        return wall(channel, cfg, message);
      };
      const records: DeliveryRecord[] = [];
      for (let i = 0; i < 25; i++)
        records.push(
          ...(await notifier(slowFirst).accept(event('burst.alarm.firing', `db-${i}`, 'warning'))),
        );
      // A minute after the slow message left, 55 s after it arrived: too early for DingTalk.
      advance(55_000);
      const early = await notifier().flush();
      advance(16_001);
      const late = await notifier().flush();
      // DingTalk never had to refuse a message, and no minute saw more than 20 arrive ...
      expect(sandbox.sinkLimits.refused).toEqual([]);
      expect(busiestMinute('dingtalk', before)).toBeLessThanOrEqual(20);
      // ... because the digest waited until 66 s after the slow message arrived, not after it left.
      expect(sent(records)).toHaveLength(18);
      expect(early).toEqual([]);
      expect(late).toEqual([{ channel: 'ding', status: 'sent', events: 7, attempts: expect.any(Number) }]);
      expect(events(sent(records)) + events(late)).toBe(25);
    });

    it('folds identical events within the grouping window into one message with a count', async () => {
      advance(11 * 60_000);
      const accepted: DeliveryRecord[] = [];
      for (let i = 0; i < 50; i++)
        accepted.push(...(await notifier().accept(event('grouped.disk.full', 'db-1', 'warning'))));
      expect(accepted.every((r) => r.status === 'grouped')).toBe(true);
      advance(61_000);
      const flushed = await notifier().flush();
      expect(flushed).toEqual([
        { channel: 'ding', status: 'sent', events: 50, attempts: expect.any(Number) },
      ]);
      expect(JSON.stringify(sandbox.messages.at(-1)?.body)).toContain('(x50)');
    });

    it('marks a success after a failure of the same family and subject as a recovery', async () => {
      advance(120_000);
      await notifier().accept(event('image.build.failed', 'web@abc', 'error'));
      await notifier().accept(event('image.build.succeeded', 'web@abc'));
      await notifier().accept(event('image.build.succeeded', 'web@abc'));
      const texts = sandbox.messages
        .filter((m) => m.channel === 'wecom')
        .slice(-3)
        .map((m) => JSON.stringify(m.body));
      expect(texts.map((x) => x.includes('RECOVERED'))).toEqual([false, true, false]);
    });

    it("sends to the route's fallback when a channel fails for good, and says which failed", async () => {
      const records = await notifier().accept(event('fragile.thing.failed', 'x', 'error'));
      expect(records).toEqual([
        {
          channel: 'ding-bad',
          status: 'failed',
          events: 1,
          attempts: expect.any(Number),
          error: 'dingtalk answered 310000: sign not match',
        },
        { channel: 'hook', status: 'fallback-sent', events: 1, attempts: expect.any(Number) },
      ]);
      expect(JSON.stringify(sandbox.messages.at(-1)?.body)).toContain(
        'delivery to ding-bad failed; sent to hook instead',
      );
    });
  });
});
