import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dingtalkBody,
  emailContent,
  larkBody,
  slackBody,
  webhookRequest,
  wecomBody,
} from '../../functions/notify/channels/format.ts';
import { renderDigest, renderGroup } from '../../functions/notify/render.ts';
import { type NotifyEvent, NotifyEventSchema } from '../../shared/notify/event.ts';

const GOLDEN = join(import.meta.dirname, '../golden/notify');

/**
 * Compare with the golden file. A missing one is a failure, not a new golden file: `UPDATE_GOLDEN=1
 * npm test` writes them (then review the diff), and only then.
 */
function golden(name: string, actual: string) {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  if (!existsSync(file))
    throw new Error(
      `golden file ${file} is missing: run UPDATE_GOLDEN=1 npm test, then review and commit it`,
    );
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const base: Omit<NotifyEvent, 'kind' | 'severity' | 'summary' | 'details'> = {
  id: 'evt-1',
  subject: 'pipeline web @ 9c1e0b5',
  links: [{ title: 'run log', url: 'https://fc-devops.example.com/runs/run-1' }],
  labels: { team: 'platform' },
  time: '2026-11-27T10:00:00Z',
};

const cases: Record<string, NotifyEvent> = {
  'image-build-failed': NotifyEventSchema.parse({
    ...base,
    kind: 'image.build.failed',
    severity: 'error',
    summary: 'packer build exited 1',
    details: { logTail: '==> alicloud-ecs: Error creating instance: InvalidVSwitchId.NotFound' },
  }),
  'backup-drill-passed': NotifyEventSchema.parse({
    ...base,
    subject: 'orders-db (rm-bp1sandbox0001)',
    kind: 'backup.drill.passed',
    severity: 'info',
    summary: 'restored backup 101001 into a clone and counted 1204 orders',
    details: { minutes: 17 },
    links: [],
  }),
  'image-prune-report': NotifyEventSchema.parse({
    ...base,
    subject: 'image prune',
    kind: 'image.prune.report',
    severity: 'info',
    summary: 'deleted 1 image(s), kept 3',
    details: {
      deleted: 'm-bp1old (web-2026-09-01): 87 days old, not among the newest 2, not in use',
      kept: 'm-bp1new (web-2026-11-25): one of the newest 2; younger than 7 days\nm-bp1prod (web-2026-10-01): on channel prod\nm-bp1asg (web-2026-09-15): in scaling configuration asc-1 (asg-1)',
      dryRun: false,
    },
    links: [],
  }),
  'unknown-kind': NotifyEventSchema.parse({
    ...base,
    kind: 'custom.thing.happened',
    severity: 'warning',
    summary: 'something happened',
    details: {},
  }),
};

const now = new Date('2026-11-27T10:00:05Z');

describe('rendered messages (golden files)', () => {
  for (const [name, event] of Object.entries(cases)) {
    it(`${name} on every channel`, () => {
      const message = renderGroup([event], false);
      golden(
        `${name}.dingtalk.json`,
        `${JSON.stringify(dingtalkBody(message, { atMobiles: ['13800000000'], atAll: false }), null, 2)}\n`,
      );
      golden(`${name}.lark.json`, `${JSON.stringify(larkBody(message, undefined, now), null, 2)}\n`);
      golden(`${name}.wecom.json`, `${JSON.stringify(wecomBody(message, []), null, 2)}\n`);
      golden(`${name}.slack.json`, `${JSON.stringify(slackBody(message), null, 2)}\n`);
      const mail = emailContent(message);
      golden(`${name}.email.txt`, `Subject: ${mail.subject}\n\n${mail.text}\n\n--- html ---\n${mail.html}\n`);
      golden(
        `${name}.webhook.json`,
        `${JSON.stringify(JSON.parse(webhookRequest(message, 'secret', now).body), null, 2)}\n`,
      );
    });
  }

  it('a group of identical events and a recovery', () => {
    const failed = cases['image-build-failed']!;
    const group = renderGroup(
      [failed, { ...failed, time: '2026-11-27T10:00:40Z' }, { ...failed, time: '2026-11-27T10:00:55Z' }],
      false,
    );
    golden(
      'grouped.dingtalk.json',
      `${JSON.stringify(dingtalkBody(group, { atMobiles: [], atAll: false }), null, 2)}\n`,
    );
    const recovered = renderGroup(
      [
        {
          ...failed,
          kind: 'image.build.succeeded',
          severity: 'info',
          summary: 'built m-123',
          details: { images: 'cn-hangzhou:m-123' },
        },
      ],
      true,
    );
    expect(recovered.title).toBe('RECOVERED: Image built: pipeline web @ 9c1e0b5');
    golden('recovered.slack.json', `${JSON.stringify(slackBody(recovered), null, 2)}\n`);
  });

  it.skipIf(process.env.UPDATE_GOLDEN)('fails on a missing golden file instead of writing one', () => {
    expect(() => golden('no-such-case.slack.json', '{}')).toThrow(
      /golden file .*no-such-case.slack.json is missing/,
    );
    expect(existsSync(join(GOLDEN, 'no-such-case.slack.json'))).toBe(false);
  });

  it('a digest accounts for every event it folds', () => {
    const messages = Array.from({ length: 25 }, (_, i) =>
      renderGroup(
        Array.from({ length: (i % 3) + 1 }, () => cases['unknown-kind']!),
        false,
      ),
    );
    const digest = renderDigest(messages);
    expect(digest.events).toBe(messages.reduce((n, m) => n + m.events, 0));
    golden('digest.wecom.json', `${JSON.stringify(wecomBody(digest, []), null, 2)}\n`);
  });

  it('signs webhooks so receivers can verify them', () => {
    const { headers } = webhookRequest(renderGroup([cases['unknown-kind']!], false), 'secret', now);
    expect(headers['x-fc-devops-signature']).toMatch(/^t=1795773605,v1=[0-9a-f]{64}$/);
  });
});
