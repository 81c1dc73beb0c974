// `fc-devops config check --cloud`: what only the cloud can say about a configuration. The file
// check knows that a second backup region is a region and not the first one; only RDS knows whether
// it takes copies from this region, and whether an instance's engine can be copied at all; only OSS
// knows where a bucket is.
import { type Cloud, createCloud } from '../../shared/cloud/cloud.ts';
import type { Config } from '../../shared/config/schema/index.ts';

export interface CloudProblem {
  field: string;
  message: string;
}

const CROSS_ENGINES = ['MySQL', 'PostgreSQL', 'SQLServer'];

export async function cloudProblems(
  config: Config,
  cloudIn: (region: string) => Cloud,
): Promise<CloudProblem[]> {
  const problems: CloudProblem[] = [];
  const home = cloudIn(config.region);
  let offered: string[] | undefined;
  for (const [name, policy] of Object.entries(config.backups.policies)) {
    const cross = policy.crossRegion;
    if (!cross) continue;
    const at = `backups.policies.${name}`;
    if (policy.engine === 'rds') {
      offered ??= await home.rds.crossRegions();
      if (!offered.includes(cross.region))
        problems.push({
          field: `${at}.crossRegion.region`,
          message: `RDS does not copy backups from ${config.region} to ${cross.region} (it offers ${offered.join(', ') || 'none'})`,
        });
      const ids = new Set(policy.instances);
      if (Object.keys(policy.tags).length > 0)
        for (const i of await home.rds.describeInstances({ tags: policy.tags })) ids.add(i.DBInstanceId);
      for (const id of ids) {
        const engine = await home.rds.instanceAttribute(id).then(
          (a) => a.Engine,
          (error: Error) => {
            problems.push({ field: `${at}.instances`, message: `${id}: ${error.message}` });
            return undefined;
          },
        );
        if (engine && !CROSS_ENGINES.includes(engine))
          problems.push({
            field: `${at}.instances`,
            message: `${id} is ${engine}: RDS copies only ${CROSS_ENGINES.join(', ')} backups across regions`,
          });
      }
    } else if (cross.bucket) {
      // A request signed for the region is refused by a bucket that is elsewhere (or missing).
      await cloudIn(cross.region)
        .oss.list(cross.bucket, { prefix: policy.database?.prefix ?? '' })
        .catch((error: Error) =>
          problems.push({
            field: `${at}.crossRegion.bucket`,
            message: `${cross.bucket} cannot be listed in ${cross.region}: ${error.message}`,
          }),
        );
    }
  }
  return problems;
}

/** The cloud the CLI may ask: the real one with credentials in the environment, else the sandbox. */
export async function checkAgainstCloud(config: Config, env = process.env): Promise<CloudProblem[]> {
  const real = Boolean(env.ALIBABA_CLOUD_ACCESS_KEY_ID);
  const sandboxUrl = real ? undefined : (env.FC_DEVOPS_CLOUD_URL ?? 'http://127.0.0.1:8788');
  const credentials = real ? undefined : (await import('../sandbox/keys.ts')).SANDBOX_CREDENTIALS;
  const cloudIn = (region: string) =>
    createCloud({
      region,
      accountId: config.accountId ?? '0',
      ...(sandboxUrl ? { baseUrl: sandboxUrl } : {}),
      ...(credentials ? { credentials: async () => credentials } : {}),
      retry: { attempts: 2, baseMs: 200, maxMs: 1000 },
    });
  return cloudProblems(config, cloudIn);
}
