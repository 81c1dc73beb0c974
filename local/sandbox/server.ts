import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ossResource } from '../../shared/cloud/oss.ts';
import { redact } from '../../shared/runtime/redact.ts';
import { ApiError, type Params } from './api-error.ts';
import { SandboxClock } from './clock.ts';
import { type FaultSpec, Faults } from './faults.ts';
import { createPki } from './kube/certs.ts';
import { serving } from './kube/controller.ts';
import { type ImageFault, key as kubeKey } from './kube/objects.ts';
import { KubeApiServer } from './kube/server.ts';
import type { Action, ActionContext } from './products/context.ts';
import { csRoute } from './products/cs.ts';
import { dmActions, type SentMail } from './products/dm.ts';
import { ecsActions } from './products/ecs.ts';
import { essActions } from './products/ess.ts';
import { fcRoute, type InvokeTarget } from './products/fc.ts';
import { directoryStore, type ObjectStore, ossRoute } from './products/oss.ts';
import { rdsActions } from './products/rds.ts';
import type { RestContext, RestRequest, RestResponse } from './products/rest.ts';
import { applySeed, type Seed } from './seed.ts';
import {
  type KeyStore,
  NonceCache,
  verifyAcs3,
  verifyOss,
  verifyOssV4,
  verifyRoa,
  verifyRpc,
} from './signatures.ts';
import { receive, SinkLimiter, type SinkMessage, type SinkSecrets } from './sinks.ts';
import { regionalView, type SandboxState, StateFile } from './state.ts';

export interface SandboxOptions {
  port?: number;
  host?: string;
  /** Where the state file and objects live; in memory without one. */
  dir?: string;
  seed?: Seed;
  keys: KeyStore;
  region?: string;
  accountId?: string;
  /** Sandbox seconds per real second. */
  timeScale?: number;
  sinks?: SinkSecrets;
  /** The local runtime: FC invocations run there, OSS writes fire its triggers. */
  runtime?: InvokeTarget;
  objects?: ObjectStore;
  /** Accept OSS signature V1, as an account older than March 2025 still may. */
  ossV1?: boolean;
  /**
   * The cloud's wall clock that request times are checked against (15 minutes either way): real
   * time, not the scaled sandbox clock. Tests skew it to see how clients meet an expired timestamp.
   */
  wallClock?: () => number;
}

export interface CallRecord {
  at: string;
  product: string;
  action: string;
  accessKeyId: string | undefined;
  status: number;
  code: string | undefined;
  params: unknown;
}

const RPC_PRODUCTS: Record<string, { version: string; actions: (s: Sandbox) => Record<string, Action> }> = {
  rds: { version: '2014-08-15', actions: () => rdsActions },
  ecs: { version: '2014-05-26', actions: () => ecsActions },
  ess: { version: '2014-08-28', actions: () => essActions },
  dm: { version: '2015-11-23', actions: (s) => dmActions(s.mails) },
};

/** First path segments that are not buckets: the products' prefixes and the sandbox's own pages. */
/** The RPC and ROA products' hosts: `<product>[.<region>].aliyuncs.com`. */
const PRODUCT_HOST = /^(rds|ecs|ess|dm|cs)(?:\.[a-z0-9-]+)?\.aliyuncs\.com$/;

/** A bucket's own host on OSS: `<bucket>.oss-<region>[-internal].aliyuncs.com`. */
const OSS_HOST = /^([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\.oss-[a-z0-9-]+\.aliyuncs\.com$/;

const RESERVED = new Set([
  '',
  '_sandbox',
  'sinks',
  'apps',
  'cs',
  'fc',
  'oss',
  '2023-03-30',
  ...Object.keys(RPC_PRODUCTS),
]);
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/**
 * The sandbox cloud: a loopback server that speaks the wire formats of the Alibaba Cloud APIs the
 * functions use (RPC, ROA, FC 3.0, OSS), checks their signatures against sandbox keys, keeps state on
 * disk, moves resources through their states over (scalable) time, records every call, receives the
 * notification channels' messages, and injects faults on demand.
 */
export class Sandbox {
  state: SandboxState;
  readonly calls: CallRecord[] = [];
  readonly mails: SentMail[] = [];
  readonly messages: SinkMessage[] = [];
  /** The services' rate limits, counted on the sandbox clock by arrival. */
  readonly sinkLimits = new SinkLimiter();
  readonly faults = new Faults();
  readonly clock: SandboxClock;
  url = '';
  /** The clusters' Kubernetes API (HTTPS), when a seeded cluster has one. */
  kube: KubeApiServer | undefined;
  private readonly nonces = new NonceCache();
  private readonly file: StateFile;
  private objects: ObjectStore;
  private server: Server | undefined;
  private readonly region: string;
  private readonly accountId: string;

  private constructor(private options: SandboxOptions) {
    this.clock = new SandboxClock(options.timeScale ?? 1);
    this.file = new StateFile(options.dir ? join(options.dir, 'sandbox.json') : undefined);
    this.state =
      this.file.load() ?? applySeed(options.seed ?? {}, this.clock.now(), options.region ?? 'cn-hangzhou');
    this.objects =
      options.objects ??
      directoryStore(join(options.dir ?? join('/tmp', `fc-devops-sandbox-${process.pid}`), 'oss'));
    this.region = options.region ?? 'cn-hangzhou';
    this.accountId = options.accountId ?? '1234567890123456';
  }

  static async start(options: SandboxOptions): Promise<Sandbox> {
    const sandbox = new Sandbox(options);
    sandbox.file.save(sandbox.state);
    sandbox.server = createServer((req, res) => {
      sandbox.handle(req, res).catch((error) => {
        if (!res.headersSent)
          sandbox.sendError(res, new ApiError(500, 'InternalError', (error as Error).message));
      });
    });
    await new Promise<void>((resolve, reject) => {
      sandbox.server!.once('error', reject);
      sandbox.server!.listen(options.port ?? 8788, options.host ?? '127.0.0.1', () => resolve());
    });
    sandbox.url = `http://${options.host ?? '127.0.0.1'}:${(sandbox.server.address() as AddressInfo).port}`;
    await sandbox.startKube(options.host);
    return sandbox;
  }

  /** Clusters with a Kubernetes side get an API server, and the sandbox a CA, made once and kept. */
  private async startKube(host: string | undefined): Promise<void> {
    if (!Object.values(this.state.cs.clusters).some((c) => c.kubernetes)) return;
    if (!this.state.kube.pki) {
      this.state.kube.pki = createPki();
      this.save();
    }
    this.kube = new KubeApiServer({
      state: () => this.state,
      now: () => this.clock.now(),
      save: () => this.save(),
      record: (clusterId, action, user, status) =>
        this.record('k8s', action, user, status, undefined, { cluster: clusterId }),
    });
    await this.kube.start(0, host ?? '127.0.0.1');
  }

  /** The secrets the notification sinks check signatures with (known once the sandbox's URL is). */
  useSinkSecrets(sinks: SinkSecrets): void {
    this.options = { ...this.options, sinks };
  }

  /** Connect the local runtime once it runs: FC invocations go to it, OSS writes fire its triggers. */
  private wallNow(): number {
    return this.options.wallClock?.() ?? Date.now();
  }

  attach(parts: { runtime?: InvokeTarget; objects?: ObjectStore }): void {
    if (parts.runtime) this.options.runtime = parts.runtime;
    if (parts.objects) this.objects = parts.objects;
  }

  async stop(): Promise<void> {
    await this.kube?.stop();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const body = await readAll(req);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
    );
    let [, product = ''] = url.pathname.split('/');
    let [, , ...rest] = url.pathname.split('/');
    let subPath = `/${rest.join('/')}`;
    // A product's own host, as the SDKs reach the cloud (`cs.cn-hangzhou.aliyuncs.com`,
    // `ecs.cn-hangzhou.aliyuncs.com`, `rds.aliyuncs.com`): the whole path is that product's.
    const productHost = PRODUCT_HOST.exec((headers.host ?? '').replace(/:\d+$/, ''));
    if (productHost) {
      product = productHost[1]!;
      rest = url.pathname.split('/').slice(1);
      subPath = url.pathname;
    }
    // FC 3.0 where the cloud has it: its API at the root (`/2023-03-30/...`), the path the official
    // SDK signs. (`/fc/2023-03-30/...` is kept for clients configured with the sandbox's old layout.)
    if (product === '2023-03-30') {
      product = 'fc';
      subPath = url.pathname;
    }
    // OSS path-style at the root (`/<bucket>/<key>`), as the official SDK sends it to an endpoint
    // given by address (ali-oss with sldEnable); `/oss/<bucket>/<key>` stays for the functions' client.
    let ossParts = rest;
    // OSS virtual-hosted: the bucket is the first label of the Host (`<bucket>.oss-<region>.aliyuncs.com`,
    // what ali-oss sends by default); the whole path is the key. ali-oss with sldEnable sends that
    // same Host with a path-style path (`/<bucket>/<key>`): a path that starts with the Host's bucket
    // is read path-style, so a key that itself starts with `<bucket>/` cannot be reached virtual-hosted.
    const hosted = OSS_HOST.exec((headers.host ?? '').replace(/:\d+$/, ''));
    if (hosted && BUCKET_NAME.test(hosted[1]!) && product !== hosted[1]) {
      ossParts = [hosted[1]!, ...url.pathname.split('/').slice(1)];
      subPath = `/${ossParts.join('/')}`;
      product = 'oss';
    } else if (!RESERVED.has(product) && BUCKET_NAME.test(product)) {
      ossParts = [product, ...rest];
      subPath = url.pathname;
      product = 'oss';
    }
    const query = Object.fromEntries(url.searchParams);

    if (product === '_sandbox') return this.inspect(req.method ?? 'GET', subPath, body, res);
    if (product === 'sinks') return this.sink(subPath, url.searchParams, headers, body, res);
    if (product === 'apps') return this.app(rest, res);

    const rpc = RPC_PRODUCTS[product];
    if (rpc) {
      const params: Params = {
        ...query,
        ...(req.method === 'POST' ? Object.fromEntries(new URLSearchParams(body.toString('utf8'))) : {}),
      };
      const action = params.Action ?? '';
      let key: string | undefined;
      try {
        key = verifyRpc(req.method ?? 'GET', params, this.options.keys, this.nonces, this.wallNow());
        if (params.Version !== rpc.version)
          throw new ApiError(
            400,
            'InvalidVersion',
            `Specified parameter Version is not valid: ${params.Version ?? ''}.`,
          );
        const handler = rpc.actions(this)[action];
        if (!handler)
          throw new ApiError(
            404,
            'InvalidAction.NotFound',
            `Specified api is not found, please check your url and method: ${action}`,
          );
        const region = this.regionOf(params, headers.host, product);
        this.faults.applyRegion(region);
        await this.faults.apply(action);
        const result = await handler(this.context(params, region));
        this.save();
        this.faults.afterRun(action);
        this.record(product, action, key, 200, undefined, params);
        return send(
          res,
          200,
          { 'content-type': 'application/json' },
          JSON.stringify({ RequestId: randomUUID(), ...(result as object) }),
        );
      } catch (error) {
        return this.fail(res, product, action, key, params, error);
      }
    }

    if (product === 'cs' || product === 'fc') {
      const rest: RestRequest = {
        method: req.method ?? 'GET',
        path: subPath,
        query,
        headers,
        body,
      };
      const ctx: RestContext = {
        state: this.state,
        now: this.clock.now(),
        region: this.region,
        accountId: this.accountId,
        ...(this.kube ? { kubeUrl: this.kube.url } : {}),
      };
      const route = product === 'cs' ? csRoute(ctx, rest) : fcRoute(ctx, rest, this.options.runtime);
      let key: string | undefined;
      try {
        // ACK takes the ROA signature (`acs <id>:<sig>`, pop-core) and signature V3 (ACS3, the
        // current SDKs); FC 3.0 takes V3.
        key =
          product === 'cs' && !(headers.authorization ?? '').startsWith('ACS3-HMAC-SHA256 ')
            ? verifyRoa(rest, this.options.keys, this.nonces, this.wallNow())
            : verifyAcs3({ ...rest, path: url.pathname }, this.options.keys, this.nonces, this.wallNow());
        ctx.caller = key;
        await this.faults.apply(route.action);
        const response = await route.run();
        // An invocation changes nothing the sandbox keeps (the runtime has the queue): writing the
        // whole state file for each one was most of a webhook's enqueue time.
        if (route.action !== 'InvokeFunction') this.save();
        this.faults.afterRun(route.action);
        this.record(
          product,
          route.action,
          key,
          response.status,
          undefined,
          product === 'fc' ? { path: subPath, ...invoked(route.action, body) } : { path: subPath, query },
        );
        return this.sendRest(res, response);
      } catch (error) {
        return this.fail(res, product, route.action, key, { path: subPath }, error);
      }
    }

    if (product === 'oss') {
      const [bucket = '', ...keyParts] = ossParts;
      const key = keyParts.map(decodeURIComponent).join('/');
      const route = ossRoute(
        this.objects,
        { method: req.method ?? 'GET', path: subPath, query, headers, body },
        bucket,
        key,
      );
      let id: string | undefined;
      // A bucket lives in one region: V4 requests are signed for it, and a region that is down takes it along.
      const bucketRegion = this.state.ossBuckets?.[bucket] ?? this.region;
      try {
        this.faults.applyRegion(bucketRegion, 'oss');
        id = (headers.authorization ?? '').startsWith('OSS4-HMAC-SHA256')
          ? verifyOssV4(
              { method: req.method ?? 'GET', headers, bucket, key, rawQuery: url.search.slice(1) },
              this.options.keys,
              bucketRegion,
              this.wallNow(),
            )
          : this.v1(() =>
              verifyOss(
                { method: req.method ?? 'GET', headers, resource: ossResource(bucket, key, query) },
                this.options.keys,
                this.wallNow(),
              ),
            );
        await this.faults.apply(route.action, 'oss');
        const response = route.run();
        if (
          response.status === 200 &&
          (this.faults.takeCorruption(`${route.action}:${bucket}`) ||
            this.faults.takeCorruption(route.action))
        ) {
          const stored = this.objects.get(bucket, key);
          if (stored?.length) {
            stored[stored.length - 1]! ^= 0xff;
            this.objects.put(bucket, key, stored);
          }
        }
        this.record('oss', route.action, id, response.status, undefined, { bucket, key });
        return this.sendRest(res, response);
      } catch (error) {
        const e =
          error instanceof ApiError ? error : new ApiError(500, 'InternalError', (error as Error).message);
        this.record('oss', route.action, id, e.status, e.code, { bucket, key });
        const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code}</Code><Message>${e.message}</Message><RequestId>${randomUUID()}</RequestId><HostId>oss-sandbox</HostId></Error>`;
        return send(res, e.status, { 'content-type': 'application/xml' }, xml);
      }
    }
    this.sendError(
      res,
      new ApiError(
        404,
        'InvalidProduct.NotFound',
        `The sandbox serves /rds, /ecs, /ess, /dm, /cs, /fc, /oss, /apps, /sinks and /_sandbox, not ${url.pathname}`,
      ),
    );
  }

  /**
   * OSS signature V1, accepted only when the sandbox is told to (`ossV1: true`): Alibaba Cloud no
   * longer takes it from new accounts (from 2025-03-01) or for new buckets (from 2025-09-01).
   */
  private v1(verify: () => string): string {
    if (!this.options.ossV1)
      throw new ApiError(
        403,
        'AccessDenied',
        'OSS signature V1 is not accepted for this account: sign with OSS4-HMAC-SHA256.',
      );
    return verify();
  }

  /** The state as calls in `region` see it (its RDS, ECS and ESS; the rest shared), for tests and tools. */
  stateIn(region: string): SandboxState {
    return region === this.region ? this.state : regionalView(this.state, region);
  }

  /**
   * The region an RPC call is for: its RegionId, else the region in its host
   * (`ecs.cn-shanghai.aliyuncs.com`), else (RDS) the region of the instance it names, else the
   * sandbox's own.
   */
  private regionOf(params: Params, host: string | undefined, product?: string): string {
    if (params.RegionId) {
      // A region is a region id: anything else (`__proto__`, NUL, …) never names a region's state.
      if (!/^[a-z]{2}(-[a-z0-9]+){1,3}$/.test(params.RegionId))
        throw new ApiError(
          400,
          'InvalidRegionId.Malformed',
          `The specified RegionId is not valid: ${params.RegionId.slice(0, 64)}.`,
        );
      return params.RegionId;
    }
    const hosted = /^[a-z]+\.([a-z]{2}-[a-z0-9-]+)\.aliyuncs\.com(?::\d+)?$/.exec(host ?? '')?.[1];
    if (hosted) return hosted;
    // RDS answers most instance calls at one endpoint (rds.aliyuncs.com), without a RegionId: the
    // instance's id says where it is (a clone restored in another region is reached by its id alone).
    const id = product === 'rds' ? params.DBInstanceId : undefined;
    if (id && !this.state.rds.instances[id]) {
      const found = Object.entries(this.state.regions ?? {}).find(([, r]) => r.rds.instances[id]);
      if (found) return found[0];
    }
    return this.region;
  }

  /** What an action sees: the resources of its region (RDS, ECS, ESS), the rest shared. */
  private context(params: Params, region = this.region): ActionContext {
    return {
      state: this.stateIn(region),
      params,
      now: this.clock.now(),
      region,
      accountId: this.accountId,
      objects: this.objects,
      stateIn: (r: string) => this.stateIn(r),
    };
  }

  private save(): void {
    this.file.save(this.state);
  }

  private record(
    product: string,
    action: string,
    accessKeyId: string | undefined,
    status: number,
    code: string | undefined,
    params: unknown,
  ): void {
    this.calls.push({
      at: new Date().toISOString(),
      product,
      action,
      accessKeyId,
      status,
      code,
      params: redact(params),
    });
    if (this.calls.length > 10_000) this.calls.shift();
  }

  private fail(
    res: ServerResponse,
    product: string,
    action: string,
    key: string | undefined,
    params: unknown,
    error: unknown,
  ): void {
    const e =
      error instanceof ApiError
        ? error
        : new ApiError(
            500,
            'InternalError',
            `The request processing has failed: ${(error as Error).message}`,
          );
    this.record(product, action, key, e.status, e.code, params);
    this.sendError(res, e);
  }

  private sendError(res: ServerResponse, e: ApiError): void {
    const requestId = randomUUID();
    send(
      res,
      e.status,
      { 'content-type': 'application/json' },
      JSON.stringify({
        RequestId: requestId,
        HostId: 'sandbox.aliyuncs.com',
        Code: e.code,
        Message: e.message,
        Recommend: `https://api.alibabacloud.com/troubleshoot?requestId=${requestId}`,
      }),
    );
  }

  private sendRest(res: ServerResponse, response: RestResponse): void {
    const headers = {
      ...(response.raw === undefined ? { 'content-type': 'application/json' } : {}),
      ...response.headers,
    };
    send(
      res,
      response.status,
      headers,
      response.raw ?? (response.body === null ? '' : JSON.stringify(response.body)),
    );
  }

  private async sink(
    path: string,
    query: URLSearchParams,
    headers: Record<string, string>,
    body: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const channel = path.split('/')[1] ?? '';
    try {
      await this.faults.apply(`sink:${channel}`);
    } catch (error) {
      const e = error as ApiError;
      this.record('sinks', channel, undefined, e.status, e.code, { path });
      return send(
        res,
        e.status === 400 ? 429 : e.status,
        { 'content-type': 'application/json' },
        JSON.stringify({ error: e.code }),
      );
    }
    const outcome = receive(
      this.options.sinks ?? { dingtalk: {}, lark: {}, wecom: [], slack: [], webhook: {} },
      path,
      query,
      headers,
      body,
    );
    if (outcome.answer.accepted && outcome.channel) {
      const now = this.clock.now();
      const throttled = this.sinkLimits.admit(outcome.channel, outcome.target, now);
      if (throttled) outcome.answer = throttled;
      else
        this.messages.push({
          channel: outcome.channel,
          target: outcome.target,
          body: outcome.body,
          at: new Date(now).toISOString(),
        });
    }
    this.record(
      'sinks',
      outcome.channel ?? 'unknown',
      undefined,
      outcome.answer.status,
      outcome.answer.accepted ? undefined : 'Rejected',
      { path },
    );
    const text =
      typeof outcome.answer.body === 'string' ? outcome.answer.body : JSON.stringify(outcome.answer.body);
    send(
      res,
      outcome.answer.status,
      { 'content-type': typeof outcome.answer.body === 'string' ? 'text/plain' : 'application/json' },
      text,
    );
  }

  /**
   * `/apps/<cluster>/<namespace>/<deployment>/...`: the Deployment's Service as its pods would
   * answer it. 200 naming the images while pods are available and none crash; 503 otherwise. What
   * release health checks probe in the sandbox.
   */
  private app(parts: string[], res: ServerResponse): void {
    if (parts[0] === '_flaky') {
      this.flaky(parts, res);
      return;
    }
    const [clusterId = '', namespace = '', name = ''] = parts.map(decodeURIComponent);
    const cluster = this.state.cs.clusters[clusterId]?.kubernetes;
    const d = cluster?.deployments[kubeKey(namespace, name)];
    if (!cluster || !d) {
      send(res, 404, { 'content-type': 'text/plain' }, 'no such service\n');
      return;
    }
    const pods = serving(cluster, d, this.clock.now());
    const images = d.spec.template.spec.containers.map((c) => c.image);
    const ok = pods.available > 0 && !pods.crashing;
    send(
      res,
      ok ? 200 : 503,
      { 'content-type': 'application/json' },
      JSON.stringify({
        deployment: `${namespace}/${name}`,
        images,
        available: pods.available,
        crashing: pods.crashing,
      }),
    );
  }

  /**
   * `/apps/_flaky/<downSeconds>/<periodSeconds>`: a service that is down (503) for the first
   * `downSeconds` of every period of sandbox time and up (200) the rest: an outage and its recovery
   * on demand, for monitoring to find.
   */
  private flaky(parts: string[], res: ServerResponse): void {
    const down = Number(parts[1]);
    const period = Number(parts[2]);
    if (!(down >= 0 && period > 0 && down <= period)) {
      send(res, 400, { 'content-type': 'text/plain' }, 'use /apps/_flaky/<downSeconds>/<periodSeconds>\n');
      return;
    }
    const into = (this.clock.now() / 1000) % period;
    const up = into >= down;
    send(
      res,
      up ? 200 : 503,
      { 'content-type': 'application/json' },
      JSON.stringify({ status: up ? 'ok' : 'down' }),
    );
  }

  private inspect(method: string, path: string, body: Buffer, res: ServerResponse): void {
    const [status, value] = this.inspection(method, path, body);
    send(res, status, { 'content-type': 'application/json' }, JSON.stringify(value, null, 2));
  }

  private inspection(method: string, path: string, body: Buffer): [number, unknown] {
    if (path === '/calls') return [200, this.calls];
    if (path === '/messages') return [200, { sinks: this.messages, mail: this.mails }];
    if (path === '/state') return [200, this.state];
    if (path === '/faults' && method === 'GET') return [200, this.faults.list()];
    let input: FaultSpec & {
      action?: string;
      clear?: boolean;
      scale?: number;
      advanceMs?: number;
      region?: string;
      unavailable?: boolean;
    };
    try {
      input = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      return [400, { error: 'expected a JSON body' }];
    }
    if (path === '/faults' && method === 'POST') {
      if (input.clear) this.faults.clear();
      // A whole region down (or back): `{"region": "cn-shanghai", "unavailable": true}`.
      else if (input.region !== undefined) {
        if (typeof input.region !== 'string' || !/^[a-z]{2}(-[a-z0-9]+)+$/.test(input.region))
          return [400, { error: 'region: expected a region id such as cn-shanghai' }];
        this.faults.setRegion(input.region, input.unavailable !== false);
      } else this.faults.set(input.action ?? '*', input);
      return [200, this.faults.list()];
    }
    if (path === '/kube/images' && method === 'GET') return [200, this.state.kube.imageFaults];
    if (path === '/kube/images' && method === 'POST') {
      const fault = input as { image?: unknown; kind?: unknown; afterSeconds?: unknown };
      if (typeof fault.image !== 'string' || !fault.image)
        return [
          400,
          { error: 'expected {image, kind: never-ready|crash-after-ready|healthy, afterSeconds?}' },
        ];
      if (fault.kind === 'healthy') delete this.state.kube.imageFaults[fault.image];
      else if (fault.kind === 'never-ready')
        this.state.kube.imageFaults[fault.image] = { kind: 'never-ready' };
      else if (fault.kind === 'crash-after-ready')
        this.state.kube.imageFaults[fault.image] = {
          kind: 'crash-after-ready',
          afterSeconds: Number(fault.afterSeconds ?? 30) || 0,
        } satisfies ImageFault;
      else return [400, { error: 'kind must be never-ready, crash-after-ready or healthy' }];
      this.save();
      return [200, this.state.kube.imageFaults];
    }
    if (path === '/time' && method === 'POST') {
      if (input.scale) this.clock.setScale(input.scale);
      if (input.advanceMs) this.clock.advance(input.advanceMs);
      return [200, { now: new Date(this.clock.now()).toISOString(), scale: this.clock.timeScale }];
    }
    return [
      404,
      {
        error: `unknown inspection endpoint ${path}; try /calls, /messages, /state, /faults, /time, /kube/images`,
      },
    ];
  }
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer | string,
): void {
  res.writeHead(status, headers);
  res.end(body);
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * What an async invocation carried, for `/_sandbox/calls`: the job's kind and, for an event to
 * `notify`, the event's kind and subject (enough to see who was told what, without the payload).
 */
function invoked(action: string, body: Buffer): Record<string, string> {
  if (action !== 'InvokeFunction') return {};
  try {
    const job = JSON.parse(body.toString('utf8')) as {
      kind?: unknown;
      payload?: { kind?: unknown; subject?: unknown; severity?: unknown };
    };
    return {
      ...(typeof job.kind === 'string' ? { job: job.kind } : {}),
      ...(typeof job.payload?.kind === 'string' ? { event: job.payload.kind } : {}),
      ...(typeof job.payload?.severity === 'string' ? { severity: job.payload.severity } : {}),
      ...(typeof job.payload?.subject === 'string' ? { subject: job.payload.subject.slice(0, 200) } : {}),
    };
  } catch {
    return {};
  }
}
