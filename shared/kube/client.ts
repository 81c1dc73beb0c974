import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeAccess } from './kubeconfig.ts';
import type { Deployment, JsonPatchOp, ReplicaSet } from './types.ts';
import { KubeError } from './types.ts';

/** A refusal by the API server, with its Status reason (NotFound, Forbidden, Invalid, ...). */
export { KubeError } from './types.ts';

const TIMEOUT_MS = 15_000;

/**
 * The few apps/v1 calls a release needs, over node:https: the server's certificate checked against
 * the kubeconfig's CA, a client certificate or bearer token presented. (Why not
 * `@kubernetes/client-node`: its 2.x crashes at import on Node 20, and 1.x bundles to 3.5 MB, all
 * of it loaded on every cold start of `release`.)
 */
export class KubeClient {
  constructor(private readonly access: KubeAccess) {
    const url = new URL(access.server);
    if (url.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
      throw new KubeError(0, 'Insecure', `refusing to send credentials to ${url.origin} without TLS`);
  }

  getDeployment(namespace: string, name: string): Promise<Deployment> {
    return this.call('GET', `/apis/apps/v1/namespaces/${enc(namespace)}/deployments/${enc(name)}`);
  }

  async listReplicaSets(namespace: string, matchLabels: Record<string, string>): Promise<ReplicaSet[]> {
    const selector = Object.entries(matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const list = await this.call<{ items: ReplicaSet[] }>(
      'GET',
      `/apis/apps/v1/namespaces/${enc(namespace)}/replicasets?labelSelector=${encodeURIComponent(selector)}`,
    );
    return list.items ?? [];
  }

  /** A JSON Patch (RFC 6902); `dryRun` asks the server to check it without storing it. */
  patchDeployment(namespace: string, name: string, ops: JsonPatchOp[], dryRun = false): Promise<Deployment> {
    return this.call(
      'PATCH',
      `/apis/apps/v1/namespaces/${enc(namespace)}/deployments/${enc(name)}${dryRun ? '?dryRun=All' : ''}`,
      JSON.stringify(ops),
      'application/json-patch+json',
    );
  }

  private call<T>(method: string, path: string, body?: string, contentType?: string): Promise<T> {
    const url = new URL(`${this.access.server}${path}`);
    const tls = url.protocol === 'https:';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.access.token) headers.authorization = `Bearer ${this.access.token}`;
    if (body !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const options = {
      method,
      headers,
      timeout: TIMEOUT_MS,
      ...(tls
        ? {
            ...(this.access.ca ? { ca: this.access.ca } : {}),
            ...(this.access.cert ? { cert: this.access.cert, key: this.access.key } : {}),
            rejectUnauthorized: true,
          }
        : {}),
    };
    return new Promise<T>((resolve, reject) => {
      const req = (tls ? httpsRequest : httpRequest)(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: { message?: unknown; reason?: unknown } | undefined;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300 && parsed) return resolve(parsed as T);
          reject(
            new KubeError(
              status,
              typeof parsed?.reason === 'string' ? parsed.reason : `HTTP${status}`,
              typeof parsed?.message === 'string' ? parsed.message : text.slice(0, 300) || `HTTP ${status}`,
            ),
          );
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname} timed out`)));
      req.on('error', (e) => reject(new KubeError(0, 'Unreachable', `${url.origin}: ${e.message}`)));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}

const enc = encodeURIComponent;
