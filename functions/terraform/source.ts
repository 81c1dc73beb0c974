import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Cloud } from '../../shared/cloud/cloud.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import { UpstreamError } from '../../shared/runtime/errors.ts';
import { checkoutCommit, GitError } from '../../shared/tools/git.ts';
import { ArchiveError, checkBundle, writeBundle } from './bundle.ts';
import type { PlanSource } from './model.ts';
import type { Workspace } from './workspace.ts';

/** A plan that cannot succeed by trying again (a bad bundle, a missing commit, invalid HCL): its run fails for good. */
export class PlanFailed extends UpstreamError {
  override name = 'PlanFailed';
  constructor(
    readonly stage: string,
    message: string,
  ) {
    super('terraform', message, { retryable: false, code: `PlanFailed.${stage}` });
  }
}

export interface BundleLimits {
  maxBytes: number;
  maxFiles: number;
}

/**
 * Put the source a plan is made from under `into`, and answer the root module's directory: the
 * exact commit (the existing git tool; a network failure is worth FC's retry, a missing commit is
 * not), or an uploaded bundle, checked entry by entry before anything of it is written.
 */
export async function materialize(
  source: PlanSource,
  ws: Workspace,
  deps: { cloud: Cloud; into: string; limits: BundleLimits | undefined; env: NodeJS.ProcessEnv },
): Promise<string> {
  if (source.kind === 'commit') {
    if (!ws.repository)
      throw new PlanFailed('source', 'the workspace has no repository to fetch a commit from');
    const repo = {
      url: ws.repository.url,
      token: ws.repository.token ? resolveSecret(ws.repository.token, deps.env) : undefined,
      host: ws.repository.host,
    };
    await checkoutCommit(repo, source.commit, deps.into).catch((error) => {
      if (error instanceof GitError && !error.permanent)
        throw new UpstreamError('git', error.message, { retryable: true });
      throw new PlanFailed('source', (error as Error).message);
    });
  } else {
    if (!deps.limits) throw new PlanFailed('source', 'terraform.bundles is not configured');
    const head = await deps.cloud.oss.head(source.bucket, source.key);
    if (!head) throw new PlanFailed('bundle', `${source.key} is no longer in ${source.bucket}`);
    if (head.eTag !== source.eTag)
      throw new PlanFailed(
        'bundle',
        `${source.key} was replaced since it was uploaded (eTag ${head.eTag}); its own event plans it`,
      );
    if (head.size > deps.limits.maxBytes)
      throw new PlanFailed('bundle', `the bundle is ${head.size} bytes; at most ${deps.limits.maxBytes}`);
    const bytes = await deps.cloud.oss.get(source.bucket, source.key);
    try {
      writeBundle(checkBundle(source.key, bytes, deps.limits), deps.into);
    } catch (error) {
      if (error instanceof ArchiveError)
        throw new PlanFailed('bundle', `refused ${source.key}: ${error.message}`);
      throw error;
    }
  }
  const dir = join(deps.into, ws.dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new PlanFailed(
      'source',
      source.kind === 'bundle'
        ? `there is no directory ${ws.dir} in the bundle: the workspace's dir is read inside it, so bundle the repository (or put the root module under ${ws.dir}/)`
        : `there is no directory ${ws.dir} in the commit`,
    );
  return dir;
}
