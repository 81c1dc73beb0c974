import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../shared/auth/signing.ts';
import type { ChannelEntry } from '../../shared/images/build-job.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { until } from '../helpers.ts';
import { type System, startSystem } from '../system.ts';
import { git } from './git-repo.ts';

const DAY = 86_400_000;

const config = (repo: string) => `region: cn-hangzhou
bucket: fc-devops-artifacts
images:
  channels: { staging: {}, prod: {} }
  pipelines:
    web:
      repository: { url: ${repo}, host: local }
      template: packer/web.json
      family: web
      channel: staging
      import: { format: RAW }
      copyRegions: [cn-shanghai]
  prune: { keep: 1, minAgeDays: 0, protectHistory: 0, dryRun: false }
releases:
  targets:
    web-geo:
      kind: image-channel
      from: staging
      to: prod
      scalingConfiguration: { scalingGroupId: asg-hz, scalingConfigurationId: asc-hz }
      regions:
        cn-shanghai:
          scalingConfiguration: { scalingGroupId: asg-sh, scalingConfigurationId: asc-sh }
access:
  keys:
    ops: { secret: "\${env:T_OPS}", roles: [{ targets: ["*"], actions: [run, view, promote, rollback] }] }
`;

const group = (id: string, configurationId: string, imageId: string) => ({
  id,
  name: id,
  min: 1,
  max: 3,
  desired: 1,
  configurationId,
  imageId,
});
const old = (id: string) => ({
  id,
  name: id,
  family: 'web',
  ageDays: 30,
  tags: { 'fc-devops:pipeline': 'web' },
});

describe('image copies in other regions, through the running system', () => {
  let system: System;
  let store: Store;
  let sha = '';
  const signed = async (method: string, path: string, body: unknown) => {
    const text = JSON.stringify(body);
    const fn = path.startsWith('/targets')
      ? 'release'
      : path.startsWith('/run')
        ? 'image-prune'
        : 'image-build';
    const r = await fetch(`${system.runtime.url}/${fn}${path}`, {
      method,
      headers: signRequest({ method, path, body: text, keyId: 'ops', secret: 'ops-secret' }),
      body: text,
    });
    return { status: r.status, body: (await r.json()) as Record<string, any> };
  };
  const shanghai = () => system.sandbox.stateIn('cn-shanghai');
  const scalingImages = () => [
    system.sandbox.state.ess.configurations['asc-hz']?.imageId,
    shanghai().ess.configurations['asc-sh']?.imageId,
  ];

  beforeAll(async () => {
    const repo = join(mkdtempSync(join(tmpdir(), 'copies-')), 'repo');
    mkdirSync(repo, { recursive: true });
    cpSync(resolve(import.meta.dirname, '../../examples/images'), repo, { recursive: true });
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'first');
    sha = git(repo, 'rev-parse', 'HEAD');
    system = await startSystem({
      config: config(repo),
      timeScale: 600,
      env: () => ({ T_OPS: 'ops-secret' }),
      seed: {
        ecs: { images: [old('m-hz-old')] },
        ess: { groups: [group('asg-hz', 'asc-hz', 'm-hz-old')] },
        regions: {
          'cn-shanghai': {
            ecs: { images: [old('m-sh-old'), old('m-sh-spare')] },
            ess: { groups: [group('asg-sh', 'asc-sh', 'm-sh-old')] },
          },
        },
      },
    });
    store = await openStore({ databaseUrl: system.runtime.databaseUrl });
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await system?.stop();
  });

  it('copies a built image to the other region, and the channel records the copy there', async () => {
    expect((await signed('POST', '/pipelines/web/builds', { commit: sha })).status).toBe(202);
    const run = await until(async () => {
      const runs = (await store.listRuns({ kind: 'image.build', limit: 5 })).runs;
      return runs.find((r) => r.status !== 'running');
    }, 90_000);
    expect(run.status).toBe('succeeded');
    const [entry] = await store.readHistory<ChannelEntry>('channel:staging', { limit: 1 });
    const home = entry!.value.images['cn-hangzhou']!;
    const copy = entry!.value.images['cn-shanghai']!;
    expect(copy).toMatch(/^m-sbx/);
    expect(copy).not.toBe(home);
    // The copy lives in Shanghai only, named and tagged as its image, and says where it came from.
    expect(system.sandbox.state.ecs.images[copy]).toBeUndefined();
    const there = shanghai().ecs.images[copy]!;
    expect(there).toMatchObject({
      name: system.sandbox.state.ecs.images[home]!.name,
      copiedFrom: { region: 'cn-hangzhou', imageId: home },
      tags: { 'fc-devops:pipeline': 'web', 'fc-devops:commit': sha, 'fc-devops:run-id': run.id },
    });
    expect(system.sandbox.calls.filter((c) => c.action === 'CopyImage' && c.status === 200)).toHaveLength(1);
    const log = await store.readRunLog(run.id);
    expect(log).toContain(`copy ${copy} is Available in cn-shanghai`);
    expect(log).toContain(`channel staging now holds ${home}, ${copy}`);
  }, 120_000);

  it("keeps each region's old image while its scaling configuration uses it, and prunes it there once a release moved on", async () => {
    const before = await signed('POST', '/run', { dryRun: true });
    expect(before.status).toBe(200);
    const keptBefore = Object.fromEntries(
      before.body.kept.map((d: { id: string; region: string; reasons: string[] }) => [
        `${d.region}/${d.id}`,
        d.reasons,
      ]),
    );
    expect(keptBefore['cn-shanghai/m-sh-old']).toEqual(['in scaling configuration asc-sh (asg-sh)']);
    expect(keptBefore['cn-hangzhou/m-hz-old']).toEqual(['in scaling configuration asc-hz (asg-hz)']);
    expect(before.body.deleted.map((d: { id: string; region: string }) => `${d.region}/${d.id}`)).toEqual([
      'cn-shanghai/m-sh-spare',
    ]);

    const [entry] = await store.readHistory<ChannelEntry>('channel:staging', { limit: 1 });
    expect((await signed('POST', '/targets/web-geo/promote', {})).status).toBe(200);
    expect(scalingImages()).toEqual([entry!.value.images['cn-hangzhou'], entry!.value.images['cn-shanghai']]);

    const after = await signed('POST', '/run', { dryRun: false });
    expect(
      after.body.deleted.map((d: { id: string; region: string }) => `${d.region}/${d.id}`).sort(),
    ).toEqual(['cn-hangzhou/m-hz-old', 'cn-shanghai/m-sh-old', 'cn-shanghai/m-sh-spare']);
    expect(Object.keys(shanghai().ecs.images)).toEqual([entry!.value.images['cn-shanghai']]);
    // One view of the pipeline: one image in each region, the copy of the newest, none behind.
    expect(after.body.pipelines).toEqual([
      {
        pipeline: 'web',
        regions: [
          {
            region: 'cn-hangzhou',
            images: 1,
            newest: expect.objectContaining({ id: entry!.value.images['cn-hangzhou'] }),
          },
          {
            region: 'cn-shanghai',
            images: 1,
            newest: expect.objectContaining({ id: entry!.value.images['cn-shanghai'] }),
          },
        ],
        behind: [],
      },
    ]);
  }, 60_000);

  it('flags a region without a copy of the newest image, once the copy window has passed, as a warning event', async () => {
    const [entry] = await store.readHistory<ChannelEntry>('channel:staging', { limit: 1 });
    const home = entry!.value.images['cn-hangzhou']!;
    // The image was built three hours ago and its copy is gone from Shanghai.
    system.sandbox.state.ecs.images[home]!.createdAt = Date.now() - 3 * 3_600_000;
    delete shanghai().ecs.images[entry!.value.images['cn-shanghai']!];
    const dry = await signed('POST', '/run', { dryRun: true });
    const name = system.sandbox.state.ecs.images[home]!.name;
    expect(dry.body.pipelines[0].behind).toEqual([
      { region: 'cn-shanghai', reason: `no copy of ${home} (${name}) 120 min after it was built` },
    ]);
    // The scheduled prune tells people.
    const tick = await fetch(`${system.runtime.url}/2023-03-30/functions/image-prune/invocations`, {
      method: 'POST',
      body: JSON.stringify({
        triggerTime: `${new Date(Date.now() + DAY).toISOString().slice(0, 10)}T03:00:30Z`,
        triggerName: 'schedule',
        payload: '',
      }),
    });
    expect(tick.status).toBe(200);
    const event = await until(() =>
      system.sandbox.calls.find(
        (c) =>
          c.action === 'InvokeFunction' && (c.params as { event?: string }).event === 'image.region.behind',
      ),
    );
    expect(event.params).toMatchObject({ severity: 'warning', subject: 'web in cn-shanghai' });
  }, 60_000);
});
