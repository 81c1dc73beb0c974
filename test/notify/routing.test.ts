import { describe, expect, it } from 'vitest';
import { route } from '../../functions/notify/routing.ts';
import { parseConfig } from '../../shared/config/load.ts';
import { NotifyEventSchema, outcome } from '../../shared/notify/event.ts';

const config = parseConfig(
  `region: cn-hangzhou
notifications:
  channels:
    ding: { type: dingtalk, webhook: "\${env:D}" }
    lark: { type: lark, webhook: "\${env:L}" }
    mail: { type: email, from: a@example.com, to: [b@example.com] }
    hook: { type: webhook, url: "\${env:U}", secret: "\${env:S}" }
  routes:
    - match: { kinds: ["image.**"] }
      channels: [mail]
      continue: true
    - match: { kinds: ["**"], severity: error }
      channels: [ding, mail]
      fallback: hook
      groupWindowSeconds: 0
    - match: { kinds: ["release.*"], labels: { env: prod } }
      channels: [lark]
  defaultChannels: [hook]
`,
  'routes.yaml',
).notifications;

const event = (kind: string, severity = 'info', labels: Record<string, string> = {}) =>
  NotifyEventSchema.parse({
    id: 'e',
    kind,
    severity,
    subject: 's',
    summary: 'x',
    time: '2026-11-27T10:00:00Z',
    labels,
  });

describe('routing', () => {
  const channels = (e: ReturnType<typeof event>) => route(e, config).map((d) => d.channel);

  it('goes on after a continue route and stops at the first other match', () => {
    expect(channels(event('image.build.failed', 'error'))).toEqual(['mail', 'ding']);
    expect(channels(event('image.build.succeeded'))).toEqual(['mail']);
  });

  it("matches severity at or above the route's", () => {
    expect(channels(event('backup.drill.failed', 'critical'))).toEqual(['ding', 'mail']);
    expect(channels(event('backup.drill.failed', 'warning'))).toEqual(['hook']);
  });

  it('matches labels and falls back to the default channels', () => {
    expect(channels(event('release.promoted', 'info', { env: 'prod' }))).toEqual(['lark']);
    expect(channels(event('release.promoted', 'info', { env: 'staging' }))).toEqual(['hook']);
  });

  it("carries the route's fallback and grouping window", () => {
    expect(route(event('scale.failed', 'error'), config)).toEqual([
      { channel: 'ding', route: 1, fallback: 'hook', groupWindowSeconds: 0 },
      { channel: 'mail', route: 1, fallback: 'hook', groupWindowSeconds: 0 },
    ]);
  });

  it("tells problems from successes by the kind's last segment", () => {
    expect([
      outcome('image.build.failed'),
      outcome('image.build.succeeded'),
      outcome('image.build.started'),
    ]).toEqual(['problem', 'ok', 'neutral']);
  });
});
