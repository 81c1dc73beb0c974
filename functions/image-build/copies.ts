// Copies of a built image in the pipeline's other regions (ECS CopyImage), made once the image has
// passed its smoke test, so the channel records an image id per region and a release can roll each
// region to its own copy.
import type { Cloud } from '../../shared/cloud/cloud.ts';
import { pollUntil } from '../../shared/cloud/poll.ts';
import { sha256Hex } from '../../shared/util/hash.ts';

export interface CopyDeps {
  cloud: Cloud;
  cloudIn: (region: string) => Cloud;
  homeRegion: string;
  now: () => Date;
  line: (text: string) => void;
}

export interface CopiesMade {
  /** Region → the copy's id, Available there. */
  copied: Record<string, string>;
  failed: { region: string; reason: string }[];
}

/**
 * Copy the home image to each region it is not in yet, tagged like it, and wait for each copy to be
 * Available. A copy that fails or outlasts the timeout is reported, not fatal: the image stands at
 * home, and the region simply has no copy on the channel (a release there is refused until it has).
 */
export async function copyToRegions(
  deps: CopyDeps,
  images: Record<string, string>,
  regions: string[],
  options: { tags: Record<string, string>; runId: string; timeoutMinutes: number },
): Promise<CopiesMade> {
  const made: CopiesMade = { copied: {}, failed: [] };
  const home = images[deps.homeRegion];
  const wanted = regions.filter((r) => r !== deps.homeRegion && !images[r]);
  if (!home || wanted.length === 0) return made;
  const [source] = await deps.cloud.ecs.describeImages({ ids: [home] });
  const started: [string, string][] = [];
  for (const region of wanted) {
    try {
      const id = await deps.cloud.ecs.copyImage(home, region, {
        ...(source?.ImageName ? { name: source.ImageName } : {}),
        tags: options.tags,
        // The same for a retried build, so it does not copy twice.
        clientToken: `copy-${sha256Hex(`${options.runId}:${home}:${region}`).slice(0, 40)}`,
      });
      deps.line(`copying ${home} to ${region} as ${id}`);
      started.push([region, id]);
    } catch (error) {
      made.failed.push({ region, reason: (error as Error).message });
    }
  }
  const deadline = new Date(deps.now().getTime() + options.timeoutMinutes * 60_000);
  for (const [region, id] of started) {
    const ready = await pollUntil(
      async () => (await deps.cloudIn(region).ecs.describeImages({ ids: [id] }))[0]?.Status,
      (s) => s === 'Available' || s === 'CreateFailed' || s === 'UnAvailable',
      { deadline, intervalMs: 2000, now: deps.now },
    ).catch((error: Error) => ({ status: 'failed' as const, last: error.message }));
    if (ready.status === 'done' && ready.value === 'Available') {
      made.copied[region] = id;
      deps.line(`copy ${id} is Available in ${region}`);
    } else {
      const why =
        ready.status === 'done'
          ? `ended ${ready.value}`
          : `not Available in time (${ready.last ?? 'no status'})`;
      made.failed.push({ region, reason: `copy ${id} ${why}` });
    }
  }
  for (const f of made.failed) deps.line(`no copy in ${f.region}: ${f.reason}`);
  return made;
}
