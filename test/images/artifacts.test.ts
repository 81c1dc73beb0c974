import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesOf, imageName, imagesOf, tagWhereTheyLive } from '../../functions/image-build/artifacts.ts';
import type { Sandbox } from '../../local/sandbox/server.ts';
import { createCloud } from '../../shared/cloud/cloud.ts';
import { parseMachineReadable } from '../../shared/tools/packer-output.ts';
import { KEY, startSandbox } from '../cloud/harness.ts';

const recorded = parseMachineReadable(
  readFileSync(join(import.meta.dirname, '../fixtures/packer/alicloud-copied-regions.txt'), 'utf8'),
);

describe('build artifacts', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
    // The images of the recorded build, each in its own region, as if packer had just made them.
    for (const [region, id] of [
      ['cn-beijing', 'm-2ze5ggc3ngpdyw7nldmn'],
      ['cn-hangzhou', 'm-bp1g7004ksh0oeuc8zb6'],
      ['cn-shanghai', 'm-uf6d0ql9kdmz2h3k2xp7'],
    ] as const)
      sandbox.stateIn(region).ecs.images[id] = {
        id,
        name: `web-${id}`,
        family: 'web',
        createdAt: Date.now(),
        readyAt: Date.now(),
        tags: {},
        snapshotId: `s-${id}`,
      };
  });
  afterAll(async () => sandbox?.stop());

  it('takes every region of an alicloud artifact and the files of the others', () => {
    expect(imagesOf(recorded.artifacts)).toEqual([
      { region: 'cn-beijing', imageId: 'm-2ze5ggc3ngpdyw7nldmn', build: 'alicloud-ecs.web' },
      { region: 'cn-hangzhou', imageId: 'm-bp1g7004ksh0oeuc8zb6', build: 'alicloud-ecs.web' },
      { region: 'cn-shanghai', imageId: 'm-uf6d0ql9kdmz2h3k2xp7', build: 'alicloud-ecs.web' },
    ]);
    expect(filesOf(recorded.artifacts, '/tmp/build/src')).toEqual([
      { build: 'file.manifest', path: 'manifest.json' },
    ]);
    expect(
      filesOf([{ ...recorded.artifacts[1]!, files: ['/tmp/build/src/out/disk.raw'] }], '/tmp/build/src'),
    ).toEqual([{ build: 'file.manifest', path: 'out/disk.raw' }]);
  });

  it('tags the copied images in their own regions', async () => {
    const regions: string[] = [];
    const cloudIn = (region: string) => {
      regions.push(region);
      return createCloud({
        region,
        accountId: '1234567890123456',
        baseUrl: sandbox.url,
        credentials: async () => KEY,
      });
    };
    const tags = {
      'fc-devops:pipeline': 'web',
      'fc-devops:commit': 'c'.repeat(40),
      'fc-devops:run-id': 'run-1',
    };
    const images = imagesOf(recorded.artifacts);
    const tagged = await tagWhereTheyLive(
      [
        ...images,
        { region: 'cn-hangzhou', imageId: 'm-imported', build: 'disk', importedFrom: 'artifacts/x.raw' },
      ],
      tags,
      cloudIn,
    );
    expect(regions).toEqual(['cn-beijing', 'cn-hangzhou', 'cn-shanghai']);
    expect([...tagged]).toEqual(images.map((i) => [i.region, [i.imageId]]));
    const calls = sandbox.calls.filter((c) => c.action === 'TagResources');
    expect(calls.map((c) => (c.params as Record<string, string>).RegionId)).toEqual(regions);
    for (const i of images) expect(sandbox.stateIn(i.region).ecs.images[i.imageId]!.tags).toEqual(tags);
  });

  it('names images uniquely per run within the ECS limits', () => {
    const name = imageName(
      'web',
      'a'.repeat(40),
      new Date('2026-11-27T12:34:56Z'),
      'alicloud-ecs.web',
      'run-0mwyz4kki-e5ac8f01',
    );
    expect(name).toBe('web-alicloud-ecs.web-aaaaaaaaaaaa-20261127T1234-kki-e5ac8f01');
    expect(imageName('p'.repeat(200), 'a'.repeat(40), new Date(), 'b', 'run-1').length).toBeLessThanOrEqual(
      128,
    );
  });
});
