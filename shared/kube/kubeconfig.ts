import { parse } from 'yaml';
import { KubeconfigError } from './types.ts';

/** How to reach one cluster's API server and prove who we are: what a kubeconfig's current context says. */
export interface KubeAccess {
  server: string;
  /** PEM of the CA that signed the server's certificate; the system roots when absent. */
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  /** The user's name in the kubeconfig (never its credentials), for messages. */
  user: string;
}

export { KubeconfigError } from './types.ts';

type Named<T> = { name?: unknown } & T;
const b64 = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined);

/**
 * The current context of a kubeconfig (ACK's `DescribeClusterUserKubeconfig` answer, or one given
 * as a secret): server, CA, client certificate or token. Credentials in files or from exec plugins
 * are refused: a function has neither the files nor the plugins.
 */
export function parseKubeconfig(text: string): KubeAccess {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new KubeconfigError(
      `the kubeconfig is not valid YAML (${(error as Error).message.split('\n')[0]})`,
    );
  }
  if (!doc || typeof doc !== 'object') throw new KubeconfigError('the kubeconfig is empty');
  const list = <T>(k: string) => (Array.isArray(doc[k]) ? (doc[k] as Named<T>[]) : []);
  const contexts = list<{ context?: { cluster?: string; user?: string } }>('contexts');
  const current = doc['current-context'];
  // Without a current context, a kubeconfig with one context means that one.
  const context = (
    current === undefined
      ? contexts.length === 1
        ? contexts[0]
        : undefined
      : contexts.find((c) => c.name === current)
  )?.context;
  if (!context)
    throw new KubeconfigError(`the kubeconfig has no context named ${String(current ?? '(none)')}`);
  const cluster = list<{ cluster?: Record<string, unknown> }>('clusters').find(
    (c) => c.name === context.cluster,
  )?.cluster;
  const user =
    list<{ user?: Record<string, unknown> }>('users').find((u) => u.name === context.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string')
    throw new KubeconfigError(`the kubeconfig's cluster ${String(context.cluster)} has no server`);
  if (!/^https?:\/\//.test(cluster.server))
    throw new KubeconfigError(`the kubeconfig's server ${cluster.server} is not an http(s) URL`);
  for (const field of [
    'certificate-authority',
    'client-certificate',
    'client-key',
    'tokenFile',
    'exec',
    'auth-provider',
  ])
    if (field in cluster || field in user)
      throw new KubeconfigError(
        `the kubeconfig uses ${field}; only inline data (…-data) and tokens are supported`,
      );
  const access: KubeAccess = {
    server: cluster.server.replace(/\/+$/, ''),
    user: String(context.user ?? 'unknown'),
  };
  const ca = b64(cluster['certificate-authority-data']);
  const cert = b64(user['client-certificate-data']);
  const key = b64(user['client-key-data']);
  if (ca) access.ca = ca;
  if (cert && key) {
    access.cert = cert;
    access.key = key;
  }
  if (typeof user.token === 'string' && user.token) access.token = user.token;
  if (!access.token && !access.cert)
    throw new KubeconfigError(
      `the kubeconfig's user ${access.user} has neither a client certificate nor a token`,
    );
  return access;
}
