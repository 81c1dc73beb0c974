import { describe, expect, it } from 'vitest';
import { addUse, emptyInUse, type PrunableImage, planPrune } from '../../functions/image-prune/prune-plan.ts';

const now = new Date('2026-11-27T00:00:00Z');
const image = (id: string, ageDays: number, over: Partial<PrunableImage> = {}): PrunableImage => ({
  id,
  name: `web-${id}`,
  group: 'pipeline:web',
  createdAt: new Date(now.getTime() - ageDays * 86_400_000),
  status: 'Available',
  snapshotIds: [`s-${id}`],
  ...over,
});

describe('prune plan', () => {
  const images = [
    image('m-1', 1),
    image('m-2', 5),
    image('m-3', 20),
    image('m-4', 30),
    image('m-5', 40),
    image('m-6', 50),
    image('m-7', 60),
    image('m-8', 70),
    image('m-9', 80, { status: 'Creating' }),
    image('m-x', 90, { group: 'family:base' }),
  ];

  it('keeps the newest N and the young, deletes the rest with a reason', () => {
    const plan = planPrune(images, emptyInUse(), { keep: 2, minAgeDays: 10 }, now);
    const decided = Object.fromEntries(plan.map((d) => [d.id, [d.action, d.reasons]]));
    expect(decided).toEqual({
      'm-x': ['keep', ['one of the newest 2']],
      'm-1': ['keep', ['one of the newest 2', 'younger than 10 days']],
      'm-2': ['keep', ['one of the newest 2', 'younger than 10 days']],
      'm-3': ['delete', ['20 days old, not among the newest 2, not in use']],
      'm-4': ['delete', ['30 days old, not among the newest 2, not in use']],
      'm-5': ['delete', ['40 days old, not among the newest 2, not in use']],
      'm-6': ['delete', ['50 days old, not among the newest 2, not in use']],
      'm-7': ['delete', ['60 days old, not among the newest 2, not in use']],
      'm-8': ['delete', ['70 days old, not among the newest 2, not in use']],
      'm-9': ['keep', ['status Creating']],
    });
  });

  it('refuses every kind of in-use image', () => {
    const inUse = emptyInUse();
    addUse(inUse.channel, 'm-3', 'prod');
    addUse(inUse.channelHistory, 'm-4', 'prod');
    addUse(inUse.scalingConfiguration, 'm-5', 'asc-1 (asg-1)');
    addUse(inUse.launchTemplate, 'm-6', 'lt-1 v3');
    addUse(inUse.instance, 'm-7', 'i-1');
    addUse(inUse.instance, 'm-7', 'i-2');
    const plan = planPrune(images, inUse, { keep: 2, minAgeDays: 10 }, now);
    const reasons = Object.fromEntries(plan.map((d) => [d.id, d.reasons]));
    expect(reasons['m-3']).toEqual(['on channel prod']);
    expect(reasons['m-4']).toEqual(['in the recent history of channel prod']);
    expect(reasons['m-5']).toEqual(['in scaling configuration asc-1 (asg-1)']);
    expect(reasons['m-6']).toEqual(['in launch template lt-1 v3']);
    expect(reasons['m-7']).toEqual(['used by instance i-1, i-2']);
    expect(plan.filter((d) => d.action === 'delete').map((d) => d.id)).toEqual(['m-8']);
  });
});
