// One view of each pipeline across the regions its images live in: how many images each region
// holds, its newest, and which region is behind (no copy of the home region's newest image once the
// pipeline's copy window has passed). Pure: it works on what the prune listed.
import type { Config } from '../../shared/config/schema/index.ts';
import type { PrunableImage } from './prune-plan.ts';

export interface PipelineRegions {
  pipeline: string;
  regions: {
    region: string;
    images: number;
    newest?: { id: string; name: string; createdAt: string } | undefined;
    /** The region could not be listed: its figures are unknown. */
    error?: string;
  }[];
  /** Regions without a copy of the newest image once the copy window has passed. */
  behind: { region: string; reason: string }[];
}

export function pipelineRegions(
  config: Config,
  listed: Map<string, PrunableImage[] | { error: string }>,
  now: Date,
): PipelineRegions[] {
  const out: PipelineRegions[] = [];
  for (const [name, pipeline] of Object.entries(config.images.pipelines)) {
    const group = `pipeline:${name}`;
    const ofGroup = (images: PrunableImage[]) =>
      images.filter((i) => i.group === group).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    // Regions it should be in (its own and where it copies), and any region that has its images.
    const regions = new Set([config.region, ...pipeline.copyRegions]);
    for (const [region, images] of listed)
      if (!('error' in images) && ofGroup(images).length > 0) regions.add(region);
    const view: PipelineRegions = { pipeline: name, regions: [], behind: [] };
    const home = listed.get(config.region);
    const homeNewest =
      home && !('error' in home) ? ofGroup(home).find((i) => i.status === 'Available') : undefined;
    for (const region of regions) {
      const images = listed.get(region);
      if (!images) continue;
      if ('error' in images) {
        view.regions.push({ region, images: 0, error: images.error });
        continue;
      }
      const mine = ofGroup(images);
      const newest = mine[0];
      view.regions.push({
        region,
        images: mine.length,
        ...(newest
          ? { newest: { id: newest.id, name: newest.name, createdAt: newest.createdAt.toISOString() } }
          : {}),
      });
      if (region === config.region || !homeNewest) continue;
      // A copy keeps its image's name (CopyImage's DestinationImageName, packer's image_copy_regions).
      const copied = mine.some((i) => i.name === homeNewest.name && i.status === 'Available');
      const window = pipeline.copyTimeoutMinutes * 60_000;
      if (!copied && now.getTime() - homeNewest.createdAt.getTime() > window)
        view.behind.push({
          region,
          reason: `no copy of ${homeNewest.id} (${homeNewest.name}) ${pipeline.copyTimeoutMinutes} min after it was built`,
        });
    }
    out.push(view);
  }
  return out;
}
