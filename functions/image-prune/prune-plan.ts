/** Pure decisions of image-prune: which images of a group go, and why every other one stays. */

export interface PrunableImage {
  id: string;
  name: string;
  /** `pipeline:<name>` or `family:<name>`: images are counted per group. */
  group: string;
  createdAt: Date;
  status: string;
  snapshotIds: string[];
}

/** Where each image is in use: image id -> the places (for the report). */
export interface InUse {
  channel: Map<string, string[]>;
  channelHistory: Map<string, string[]>;
  scalingConfiguration: Map<string, string[]>;
  launchTemplate: Map<string, string[]>;
  instance: Map<string, string[]>;
}

export interface PrunePolicy {
  keep: number;
  minAgeDays: number;
}

export interface PruneDecision {
  id: string;
  /** Where the image lives (set by the prune; the plan is per region). */
  region?: string;
  name: string;
  group: string;
  action: 'delete' | 'keep';
  reasons: string[];
  snapshotIds: string[];
}

export const emptyInUse = (): InUse => ({
  channel: new Map(),
  channelHistory: new Map(),
  scalingConfiguration: new Map(),
  launchTemplate: new Map(),
  instance: new Map(),
});

export function addUse(map: Map<string, string[]>, imageId: string | undefined, where: string): void {
  if (!imageId) return;
  map.set(imageId, [...(map.get(imageId) ?? []), where]);
}

const DAY = 86_400_000;

/**
 * Newest first per group: the newest `keep` stay, anything younger than `minAgeDays` stays, and no
 * image that is on a channel (now or in its recent history), in a scaling configuration or launch
 * template, or used by an instance is ever deleted. The rest are deleted, each with its reason.
 */
export function planPrune(
  images: PrunableImage[],
  inUse: InUse,
  policy: PrunePolicy,
  now: Date,
): PruneDecision[] {
  const groups = new Map<string, PrunableImage[]>();
  for (const i of images) groups.set(i.group, [...(groups.get(i.group) ?? []), i]);
  const out: PruneDecision[] = [];
  for (const [group, list] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...list].sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id),
    );
    for (const [rank, image] of sorted.entries()) {
      const reasons: string[] = [];
      const uses = (label: string, map: Map<string, string[]>) => {
        const where = map.get(image.id);
        if (where?.length) reasons.push(`${label} ${where.join(', ')}`);
      };
      uses('on channel', inUse.channel);
      uses('in the recent history of channel', inUse.channelHistory);
      uses('in scaling configuration', inUse.scalingConfiguration);
      uses('in launch template', inUse.launchTemplate);
      uses('used by instance', inUse.instance);
      if (rank < policy.keep) reasons.push(`one of the newest ${policy.keep}`);
      const ageDays = (now.getTime() - image.createdAt.getTime()) / DAY;
      if (ageDays < policy.minAgeDays) reasons.push(`younger than ${policy.minAgeDays} days`);
      if (image.status !== 'Available') reasons.push(`status ${image.status}`);
      out.push({
        id: image.id,
        name: image.name,
        group,
        action: reasons.length > 0 ? 'keep' : 'delete',
        reasons:
          reasons.length > 0
            ? reasons
            : [`${Math.floor(ageDays)} days old, not among the newest ${policy.keep}, not in use`],
        snapshotIds: image.snapshotIds,
      });
    }
  }
  return out;
}
