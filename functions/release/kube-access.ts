// Reaching a k8s-deployment target's cluster: a short-lived kubeconfig from ACK (or the one given
// as a secret), and what a refusal on the way means to the caller.
import { CloudError } from '../../shared/cloud/errors.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeAccess } from '../../shared/kube/kubeconfig.ts';
import { KubeconfigError, KubeError } from '../../shared/kube/types.ts';
import type { ReleaseDeps, Target } from './state.ts';

export type KubeTarget = Extract<Target, { kind: 'k8s-deployment' }>;

/** Why an operation on a cluster could not go on, as the HTTP answer says it. */
export class Refusal extends Error {
  override name = 'Refusal';
  constructor(
    readonly status: 400 | 404 | 409 | 502,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The Kubernetes client (node:https, hence TLS) and the kubeconfig parser (YAML) come with the first
 * k8s-deployment target: release's other targets never load them.
 */
const kubeconfigParser = async () => (await import('../../shared/kube/kubeconfig.ts')).parseKubeconfig;
const kubeClient = async (access: KubeAccess) =>
  new (await import('../../shared/kube/client.ts')).KubeClient(access);

// Temporary kubeconfigs are reused by the warm instance until a minute before they expire.
const cache = new Map<string, { access: KubeAccess; until: number }>();

async function accessFor(d: ReleaseDeps, t: KubeTarget, fresh: boolean): Promise<KubeAccess> {
  if (t.kubeconfig) {
    const text = resolveSecret(t.kubeconfig, process.env);
    if (!text)
      throw new Refusal(
        502,
        'KubeconfigMissing',
        `the secret ${t.kubeconfig} holding the kubeconfig is not set`,
      );
    return (await kubeconfigParser())(text);
  }
  const cluster = t.cluster!;
  const cacheKey = `${cluster}:${t.privateEndpoint}:${t.kubeconfigMinutes}`;
  const hit = cache.get(cacheKey);
  if (hit && !fresh && hit.until > Date.now()) return hit.access;
  const { config, expiration } = await d.cloud.ack.userKubeconfig(cluster, {
    temporaryMinutes: t.kubeconfigMinutes,
    privateIp: t.privateEndpoint,
  });
  const access = (await kubeconfigParser())(config);
  const expires = Date.parse(expiration);
  cache.set(cacheKey, { access, until: Number.isNaN(expires) ? 0 : expires - 60_000 });
  return access;
}

/**
 * Run `work` against the target's cluster. A 401 (a kubeconfig that expired early, or was revoked)
 * is tried once more with a new one; every other refusal becomes a `Refusal` naming what was not
 * found or not allowed.
 */
export async function withCluster<T>(
  d: ReleaseDeps,
  t: KubeTarget,
  work: (client: KubeClient) => Promise<T>,
): Promise<T> {
  const where = t.cluster ? `cluster ${t.cluster}` : 'the cluster of the given kubeconfig';
  try {
    try {
      return await work(await kubeClient(await accessFor(d, t, false)));
    } catch (error) {
      if (!(error instanceof KubeError && error.status === 401)) throw error;
      return await work(await kubeClient(await accessFor(d, t, true)));
    }
  } catch (error) {
    if (error instanceof Refusal) throw error;
    if (error instanceof KubeconfigError) throw new Refusal(502, 'BadKubeconfig', error.message);
    if (error instanceof CloudError && (error.status === 404 || /NotFound/.test(error.upstreamCode ?? '')))
      throw new Refusal(404, 'ClusterNotFound', `ACK cluster ${t.cluster} not found`);
    if (error instanceof KubeError) {
      if (error.status === 404)
        throw new Refusal(
          404,
          'DeploymentNotFound',
          `deployment ${t.namespace}/${t.deployment} not found in ${where}`,
        );
      if (error.status === 401 || error.status === 403)
        throw new Refusal(502, 'ClusterRefused', `${where} refused fc-devops: ${error.message}`);
      if (error.status === 409 || error.status === 422)
        throw new Refusal(409, 'ClusterConflict', `${where} refused the change: ${error.message}`);
      throw new Refusal(502, 'ClusterUnavailable', `${where}: ${error.message}`);
    }
    throw error;
  }
}
