import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/load.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import { ConfigError } from '../../shared/runtime/errors.ts';

const example = readFileSync(new URL('../../fc-devops.example.yaml', import.meta.url), 'utf8');

function problems(text: string, options = {}) {
  try {
    parseConfig(text, 'fc-devops.yaml', options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('fc-devops.yaml', () => {
  it('accepts the example config with every section', () => {
    const config = parseConfig(example, 'fc-devops.example.yaml');
    expect(config.region).toBe('cn-hangzhou');
    expect(Object.keys(config.notifications.channels)).toEqual([
      'ops-dingtalk',
      'releases-lark',
      'team-mail',
      'alice-mail',
      'audit-hook',
    ]);
    expect(config.images.pipelines.web?.channel).toBe('staging');
    expect(config.backups.policies['orders-db']?.retention.timeZone).toBe('Asia/Shanghai');
    expect(config.scaling.targets['web-asg']).toMatchObject({ kind: 'ess', min: 2, max: 20 });
    expect(config.releases.targets['api-prod']).toMatchObject({ kind: 'fc-alias', steps: [10, 50, 100] });
    expect(config.access.keys['ops-bob']?.roles[0]?.actions).toEqual(['view', 'approve']);
    expect(config.terraform.workspaces.loadtest?.environments).toMatchObject({
      maxTtlHours: 8,
      remindMinutesBefore: 5,
      destroyNeedsApproval: false,
    });
  });

  it('fills defaults so a one-line file is valid', () => {
    const config = parseConfig('region: cn-shanghai\n', 'f.yaml');
    expect(config.state.dir).toBe('.fc-devops/state');
    expect(config.notifications.routes).toEqual([]);
  });

  it('names file, line, column and field of a wrong value', () => {
    const text =
      'region: cn-hangzhou\nscaling:\n  targets:\n    web: { kind: ess, scalingGroupId: asg-1, min: 5, max: two }\n';
    expect(problems(text)).toEqual([
      expect.objectContaining({
        file: 'fc-devops.yaml',
        line: 4,
        column: 59,
        field: 'scaling.targets.web.max',
      }),
    ]);
  });

  it('names file, line and field of a bad monitoring check', () => {
    const text = [
      'region: cn-hangzhou',
      'monitoring:',
      '  checks:',
      '    api: { kind: http, url: "not a url" }',
      '    ping: { kind: icmp, host: 10.0.0.1 }',
      '    db: { kind: tcp, host: 10.0.0.2, port: 5432, interval: "@every 30s" }',
      '  maintenance:',
      '    - { checks: [db], schedule: "@every 1h", durationMinutes: 10 }',
      '',
    ].join('\n');
    expect(problems(text).map((p) => [p.line, p.field, p.message])).toEqual([
      [4, 'monitoring.checks.api.url', expect.stringMatching(/URL/i)],
      [5, 'monitoring.checks.ping.kind', expect.stringMatching(/http|tcp|dns/)],
      [6, 'monitoring.checks.db.interval', '@every 30s is shorter than the minimum interval, 1m'],
      [8, 'monitoring.maintenance.0.schedule', expect.stringMatching(/cron schedule/)],
    ]);
    // What a check's action names must exist (checked once the rest is valid).
    const acting =
      'region: cn-hangzhou\nmonitoring:\n  checks:\n    web: { kind: http, url: "https://example.com", action: { rollback: nowhere } }\n';
    expect(problems(acting).map((p) => [p.line, p.field, p.message])).toEqual([
      [4, 'monitoring.checks.web.action.rollback', 'unknown release target "nowhere" (known: none defined)'],
    ]);
  });

  it('points at a misspelt key itself', () => {
    const text =
      'region: cn-hangzhou\nbackups:\n  policies:\n    db:\n      instances: [rm-1]\n      schedule: "0 0 2 * * *"\n      retension: {}\n';
    const [p] = problems(text);
    expect(p).toMatchObject({
      line: 7,
      column: 7,
      field: 'backups.policies.db.retension',
      message: 'unknown field "retension"',
    });
  });

  it('refuses a literal secret where a ${env:NAME} reference belongs', () => {
    const text =
      'region: cn-hangzhou\nnotifications:\n  channels:\n    chat: { type: slack, webhook: "https://hooks.slack.com/services/T/B/X" }\n';
    const [p] = problems(text);
    expect(p?.field).toBe('notifications.channels.chat.webhook');
    expect(p?.message).toMatch(/must be a \$\{env:NAME\} reference/);
  });

  it('refuses a route to an unknown channel, naming the known ones', () => {
    const text =
      'region: cn-hangzhou\nnotifications:\n  channels:\n    chat: { type: slack, webhook: "${env:SLACK}" }\n  routes:\n    - channels: [chat, pager]\n';
    expect(problems(text)).toEqual([
      expect.objectContaining({
        line: 6,
        field: 'notifications.routes.0.channels.1',
        message: 'unknown channel "pager" (known: chat)',
      }),
    ]);
  });

  it('checks cron schedules with the FC syntax', () => {
    const text =
      'region: cn-hangzhou\nbackups:\n  policies:\n    db: { instances: [rm-1], schedule: "0 2 * * *" }\n';
    expect(problems(text)[0]).toMatchObject({
      field: 'backups.policies.db.schedule',
      message: expect.stringMatching(/expected 6 fields/),
    });
  });

  it('says which ${env:NAME} is unset when secrets are required', () => {
    const text =
      'region: cn-hangzhou\nnotifications:\n  channels:\n    chat: { type: slack, webhook: "${env:SLACK_HOOK}" }\n';
    expect(problems(text, { requireSecrets: true, env: {} })).toEqual([
      expect.objectContaining({
        line: 4,
        field: 'notifications.channels.chat.webhook',
        message: 'environment variable SLACK_HOOK is not set',
      }),
    ]);
    expect(() =>
      parseConfig(text, 'f', { requireSecrets: true, env: { SLACK_HOOK: 'https://x' } }),
    ).not.toThrow();
    expect(resolveSecret('${env:SLACK_HOOK}', { SLACK_HOOK: 'https://x' })).toBe('https://x');
    // A reference to a variable named like a property of every object resolves to nothing.
    expect(resolveSecret('${env:constructor}', { SLACK_HOOK: 'https://x' })).toBeUndefined();
    expect(resolveSecret('${env:constructor}', process.env)).toBeUndefined();
  });

  it('reports YAML syntax errors with their position', () => {
    const [p] = problems('region: cn-hangzhou\nscaling: [unclosed\n');
    expect(p).toMatchObject({ file: 'fc-devops.yaml', line: expect.any(Number) });
    expect(problems('region: a\nregion: b\n')[0]?.message).toMatch(/unique/i);
  });

  it('refuses an empty file and a missing region', () => {
    expect(problems('')[0]?.message).toMatch(/empty/);
    expect(problems('state: {}\n')[0]).toMatchObject({ field: 'region' });
  });

  it('takes the regions image-prune also looks in, and names a malformed one with its line', () => {
    const ok = 'region: cn-hangzhou\nimages:\n  prune: { keep: 2, regions: [cn-shanghai, ap-southeast-1] }\n';
    expect(parseConfig(ok, 'f.yaml').images.prune?.regions).toEqual(['cn-shanghai', 'ap-southeast-1']);
    expect(
      parseConfig('region: cn-hangzhou\nimages:\n  prune: { keep: 2 }\n', 'f.yaml').images.prune?.regions,
    ).toEqual([]);
    const bad = 'region: cn-hangzhou\nimages:\n  prune:\n    regions: [cn-shanghai, Shanghai]\n';
    expect(problems(bad).map((p) => [p.field, p.line, p.message])).toEqual([
      ['images.prune.regions.1', 4, 'expected a region id such as cn-shanghai'],
    ]);
  });

  it('names a second backup region equal to the first, one Alibaba Cloud does not have, and a dump copy without its bucket', () => {
    const policy = (cross: string, more = '') =>
      `region: cn-hangzhou\nbackups:\n  policies:\n    db:\n      instances: [rm-1]\n      schedule: "0 0 2 * * *"\n${more}      crossRegion: ${cross}\n`;
    expect(parseConfig(policy('{ region: cn-shanghai }'), 'f.yaml').backups.policies.db?.crossRegion).toEqual(
      {
        region: 'cn-shanghai',
        logBackup: false,
        drill: true,
        maxLagHours: 6,
        allowIps: '127.0.0.1',
      },
    );
    expect(problems(policy('{ region: cn-hangzhou }')).map((p) => [p.field, p.line, p.message])).toEqual([
      [
        'backups.policies.db.crossRegion.region',
        7,
        'cn-hangzhou is the region the backups are made in: a copy there survives nothing; name another region',
      ],
    ]);
    const unknown = problems(policy('{ region: cn-atlantis }'));
    expect(unknown.map((p) => [p.field, p.line])).toEqual([['backups.policies.db.crossRegion.region', 7]]);
    expect(unknown[0]!.message).toMatch(
      /^cn-atlantis is not an Alibaba Cloud region \(known: cn-qingdao, .*me-central-1\)$/,
    );
    expect(
      problems(policy('{ region: cn-shanghai, bucket: far-dumps }')).map((p) => [p.field, p.message]),
    ).toEqual([
      [
        'backups.policies.db.crossRegion.bucket',
        'an rds policy copies with RDS cross-region backup, not to a bucket: remove bucket',
      ],
    ]);
    const dumps = (cross: string) =>
      `region: cn-hangzhou\nbackups:\n  policies:\n    db:\n      engine: postgres\n      database: { url: "\${env:DB}", bucket: dumps }\n      schedule: "0 0 2 * * *"\n      crossRegion: ${cross}\n`;
    expect(problems(dumps('{ region: cn-shanghai }')).map((p) => [p.field, p.message])).toEqual([
      [
        'backups.policies.db.crossRegion.bucket',
        'a postgres policy copies its dumps to a bucket in cn-shanghai: name it',
      ],
    ]);
    expect(
      problems(dumps('{ region: cn-shanghai, bucket: dumps }')).map((p) => [p.field, p.message]),
    ).toEqual([
      [
        'backups.policies.db.crossRegion.bucket',
        "dumps is the policy's own bucket: the copy must go to a bucket in another region",
      ],
    ]);
  });

  it('refuses a scaling target whose min exceeds max and an unknown schedule target', () => {
    const text =
      'region: cn-hangzhou\nscaling:\n  targets:\n    web: { kind: ess, scalingGroupId: a, min: 9, max: 2 }\n  schedules:\n    - { target: api, schedule: "@every 1h", desired: 1 }\n';
    expect(problems(text).map((p) => [p.field, p.line, p.message])).toEqual([
      ['scaling.targets.web.min', 4, 'min must not exceed max'],
      ['scaling.schedules.0.target', 6, 'unknown scaling target "api" (known: web)'],
    ]);
  });
});

describe('release targets', () => {
  it('accepts an image channel rolled into a scaling configuration and a launch template', () => {
    const text =
      'region: cn-hangzhou\nimages:\n  channels: { a: {}, b: {} }\nreleases:\n  targets:\n    web: { kind: image-channel, from: a, to: b, launchTemplate: { launchTemplateId: lt-1 } }\n';
    expect(parseConfig(text, 'f.yaml').releases.targets.web).toMatchObject({
      kind: 'image-channel',
      launchTemplate: { launchTemplateId: 'lt-1' },
    });
  });
});
