import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { stringify } from 'yaml';
import { ApiError } from '../api-error.ts';
import type { SandboxState } from '../state.ts';
import { type KubeRequest, kubeStatus, matching, route, type WatchSpec } from './api.ts';
import { issueClientCert } from './certs.ts';
import { materialize } from './controller.ts';
import type { Deployment, KubeCluster, KubeState, ReplicaSet } from './objects.ts';

/** What the Kubernetes API server needs of the sandbox around it. */
export interface KubeHost {
  state(): SandboxState;
  now(): number;
  save(): void;
  record(clusterId: string, action: string, user: string | undefined, status: number): void;
}

/** How often a watch looks for changes (real milliseconds). */
const WATCH_POLL_MS = 100;

/**
 * The API servers of the sandbox's ACK clusters, all on one HTTPS port, each under
 * `/clusters/<id>` (client-go takes a path prefix in `server`). Client certificates are verified
 * against the sandbox CA and their expiry (in sandbox time) by serial; bearer tokens against the
 * cluster's tokens.
 */
export class KubeApiServer {
  url = '';
  private server: Server | undefined;
  private readonly watches = new Set<() => void>();

  constructor(private readonly host: KubeHost) {}

  async start(port = 0, hostname = '127.0.0.1'): Promise<void> {
    const pki = this.host.state().kube.pki!;
    this.server = createServer(
      {
        key: pki.server.key,
        cert: pki.server.cert,
        ca: [pki.ca.cert],
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        try {
          this.handle(req, res);
        } catch (error) {
          if (!res.headersSent) send(res, kubeStatus(500, 'InternalError', (error as Error).message));
        }
      },
    );
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, hostname, () => resolve());
    });
    this.url = `https://${hostname}:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const end of this.watches) end();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const m = /^\/clusters\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const state = this.host.state();
    const clusterId = m ? decodeURIComponent(m[1]!) : '';
    const cluster = state.cs.clusters[clusterId]?.kubernetes;
    if (!m || !cluster) {
      send(res, kubeStatus(404, 'NotFound', `no cluster at ${url.pathname}`));
      return;
    }
    const user = this.authenticate(req, cluster, state.kube, clusterId);
    const action = actionOf(req.method ?? 'GET', m[2] ?? '/', url.searchParams);
    if (!user) {
      this.host.record(clusterId, action, undefined, 401);
      send(res, kubeStatus(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: KubeRequest = {
        method: req.method ?? 'GET',
        path: m[2] ?? '/',
        query: url.searchParams,
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        user,
      };
      const answer = route(cluster, state.kube, request, this.host.now());
      if ('watch' in answer) {
        this.host.record(clusterId, action, user, 200);
        return this.watch(res, cluster, state.kube, answer.watch);
      }
      if (request.method === 'PATCH' && answer.status === 200) this.host.save();
      this.host.record(clusterId, action, user, answer.status);
      send(res, answer);
    });
  }

  private authenticate(req: IncomingMessage, c: KubeCluster, kube: KubeState, clusterId: string) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (bearer) return Object.hasOwn(c.tokens, bearer[1]!) ? c.tokens[bearer[1]!] : undefined;
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return undefined;
    const serial = socket.getPeerCertificate().serialNumber?.toLowerCase().replace(/^0+/, '');
    const issued = serial ? kube.certs[serial] : undefined;
    if (!issued || issued.clusterId !== clusterId || issued.expiresAt <= this.host.now()) return undefined;
    return issued.user;
  }

  /**
   * A watch: newline-separated JSON events for the objects that match, each time their
   * resourceVersion moves past what the client has; a list's resourceVersion starts after it,
   * none (or 0) starts with every object ADDED. Ends at `timeoutSeconds` or when the client goes.
   */
  private watch(res: ServerResponse, c: KubeCluster, kube: KubeState, spec: WatchSpec): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const sent = new Map<string, number>();
    const since = Number(spec.resourceVersion) || 0;
    const pick = () => {
      const store: Record<string, Deployment | ReplicaSet> =
        spec.resource === 'deployments' ? c.deployments : c.replicaSets;
      return matching(Object.values(store), spec.namespace, spec.fieldName, spec.labels);
    };
    const emit = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    for (const o of pick()) {
      const rv = Number(o.metadata.resourceVersion);
      sent.set(o.metadata.uid, since && !spec.initialEvents ? Math.max(rv, since) : rv);
      if (!since || spec.initialEvents) emit('ADDED', o);
    }
    const bookmark = (annotations?: Record<string, string>) =>
      emit('BOOKMARK', {
        kind: spec.resource === 'deployments' ? 'Deployment' : 'ReplicaSet',
        apiVersion: 'apps/v1',
        metadata: { resourceVersion: String(kube.resourceVersion), ...(annotations ? { annotations } : {}) },
      });
    if (spec.initialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
    let ticks = 0;
    const poll = setInterval(() => {
      // client-go's watch notices it was stopped only when the next event arrives: a bookmark every
      // second lets `kubectl rollout status` end as soon as it has its answer.
      if (spec.bookmarks && ++ticks % 10 === 0) bookmark();
      for (const d of Object.values(c.deployments)) materialize(c, kube, d, this.host.now());
      const now = pick();
      for (const o of now) {
        const rv = Number(o.metadata.resourceVersion);
        const last = sent.get(o.metadata.uid);
        if (last === undefined) emit('ADDED', o);
        else if (rv > last) emit('MODIFIED', o);
        sent.set(o.metadata.uid, Math.max(rv, last ?? 0));
      }
      const present = new Set(now.map((o) => o.metadata.uid));
      for (const uid of [...sent.keys()])
        if (!present.has(uid)) {
          sent.delete(uid);
          emit('DELETED', { metadata: { uid } });
        }
    }, WATCH_POLL_MS);
    const timeout = setTimeout(() => end(), spec.timeoutSeconds * 1000);
    const end = () => {
      clearInterval(poll);
      clearTimeout(timeout);
      this.watches.delete(end);
      res.end();
    };
    this.watches.add(end);
    res.on('close', end);
  }
}

/**
 * ACK's DescribeClusterUserKubeconfig: a kubeconfig for the caller with a client certificate of the
 * sandbox CA, valid for `minutes` of sandbox time (15 to 4320; three years without it).
 */
export function userKubeconfig(
  state: SandboxState,
  serverUrl: string,
  clusterId: string,
  user: string,
  minutes: string | undefined,
  now: number,
): { config: string; expiration: string } {
  const cluster = state.cs.clusters[clusterId];
  if (!cluster) throw new ApiError(404, 'ErrorClusterNotFound', `cluster ${clusterId} not found`);
  if (!cluster.kubernetes || !state.kube.pki)
    throw new ApiError(
      400,
      'ErrorClusterState',
      `cluster ${clusterId} has no Kubernetes API in this sandbox`,
    );
  const given = minutes !== undefined && minutes !== '';
  const duration = given ? Number(minutes) : 3 * 365 * 1440;
  if (given && (!Number.isInteger(duration) || duration < 15 || duration > 4320))
    throw new ApiError(400, 'ErrorParam', 'TemporaryDurationMinutes must be an integer from 15 to 4320.');
  const serial = randomBytes(8).toString('hex').replace(/^0+/, '1');
  const pair = issueClientCert(
    state.kube.pki.ca,
    user,
    ['system:users'],
    Math.ceil(duration / 1440) + 1,
    serial,
  );
  const expiresAt = now + duration * 60_000;
  // Expired certificates are refused anyway: forget them, so the state file does not grow with each one issued.
  for (const [old, cert] of Object.entries(state.kube.certs))
    if (cert.expiresAt <= now) delete state.kube.certs[old];
  state.kube.certs[serial] = { user, clusterId, expiresAt };
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const context = `${user}-${clusterId}`;
  const config = stringify({
    apiVersion: 'v1',
    clusters: [
      {
        cluster: {
          server: `${serverUrl}/clusters/${clusterId}`,
          'certificate-authority-data': b64(state.kube.pki.ca.cert),
        },
        name: 'kubernetes',
      },
    ],
    contexts: [{ context: { cluster: 'kubernetes', user }, name: context }],
    'current-context': context,
    kind: 'Config',
    preferences: {},
    users: [
      { name: user, user: { 'client-certificate-data': b64(pair.cert), 'client-key-data': b64(pair.key) } },
    ],
  });
  return { config, expiration: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

/** The call as `/_sandbox/calls` names it: GetDeployment, ListReplicaSets, PatchDeployment, ... */
function actionOf(method: string, path: string, query: URLSearchParams): string {
  const m = /\/(deployments|replicasets|namespaces)(\/[^/]+)?$/.exec(path);
  if (!m) return method === 'GET' ? `Get ${path}` : `${method} ${path}`;
  const kind = { deployments: 'Deployment', replicasets: 'ReplicaSet', namespaces: 'Namespace' }[
    m[1] as 'deployments'
  ];
  if (method === 'PATCH') return query.get('dryRun') === 'All' ? `DryRunPatch${kind}` : `Patch${kind}`;
  if (method !== 'GET') return `${method} ${path}`;
  if (m[2]) return `Get${kind}`;
  return `${query.get('watch') === 'true' || query.get('watch') === '1' ? 'Watch' : 'List'}${kind}s`;
}

function send(res: ServerResponse, answer: { status: number; body: unknown }): void {
  res.writeHead(answer.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(answer.body));
}
