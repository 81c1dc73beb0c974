import { createHash } from 'node:crypto';
import { mkdirSync, unwatchFile, watchFile } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { FcCredentials } from '../../shared/runtime/context.ts';
import { SANDBOX_CREDENTIALS } from '../sandbox/keys.ts';
import { type AsyncMessage, AsyncQueue, type AttemptOutcome } from './async-queue.ts';
import { buildFunctions, watchFunctions } from './build.ts';
import { writeCompiledConfig } from './config-compile.ts';
import { type DestinationRecord, deliverDestination } from './destinations.ts';
import { InstancePool, type InvokeOutcome } from './instance-pool.ts';
import { LocalBuckets } from './oss-buckets.ts';
import { type FunctionSpec, loadProject } from './s-yaml.ts';
import { handleRequest } from './server.ts';
import { claimStateDir } from './state-dir.ts';
import type { StateServer } from './state-server.ts';
import { startStateServerThread } from './state-thread.ts';
import { TimerScheduler } from './timers.ts';

export interface RuntimeOptions {
  /** Path of s.yaml. */
  template: string;
  port?: number;
  host?: string;
  /** Where queues, buckets and destinations live (`.fc-devops`). */
  stateDir: string;
  /** Bundle `functions/*` before starting (default true). */
  build?: boolean;
  /** Rebuild and reload on source and s.yaml changes. */
  watch?: boolean;
  accountId?: string;
  credentials?: FcCredentials;
  /** Extra environment for every function (lowest precedence after the host's). */
  env?: Record<string, string>;
  /** Base of the async retry backoff (FC's is seconds; tests use milliseconds). */
  retryBaseMs?: number;
  maxInstances?: number;
  /** Where the runtime's own and the functions' output goes. */
  print?: (line: string) => void;
  /** The functions' state store; default: DATABASE_URL, else a PGlite served by the runtime. */
  databaseUrl?: string;
  /** Fire timer triggers on their schedules (default true); tests that fire them by hand turn this off. */
  timers?: boolean;
  /** Run queued async invocations (default true); false keeps them queued (the webhook bench). */
  dispatch?: boolean;
}

export interface InvocationRecord {
  requestId: string;
  functionName: string;
  source: string;
  startedAt: string;
  durationMs: number;
  coldStart: boolean;
  ok: boolean;
  errorType?: string | undefined;
  errorMessage?: string | undefined;
  /** The response, as text, cut at 4 KB. */
  response: string;
  logs: string[];
  attempt?: number | undefined;
}

/**
 * Function Compute on one machine: reads s.yaml, runs each function's built bundle in worker
 * instances, serves HTTP triggers and the FC invoke API, fires timers and OSS triggers, and runs
 * async invocations with FC's semantics (durable queue, retries, destinations).
 */
export class LocalRuntime {
  readonly functions = new Map<string, FunctionSpec>();
  readonly invocations: InvocationRecord[] = [];
  readonly destinations: DestinationRecord[] = [];
  readonly buckets: LocalBuckets;
  readonly queue: AsyncQueue;
  url = '';
  readonly accountId: string;
  region = 'cn-hangzhou';

  private readonly pools = new Map<string, InstancePool>();
  private readonly timers: TimerScheduler;
  private readonly logsByRequest = new Map<string, string[]>();
  private server: Server | undefined;
  private disposeWatch: (() => Promise<void>) | undefined;
  /** fc-devops.yaml files the functions were pointed at, compiled into the state directory. */
  private readonly compiled = new Map<string, string>();
  private readonly print: (line: string) => void;
  private stateServer: StateServer | undefined;
  /** The state store functions use (DATABASE_URL in their environment). */
  databaseUrl = '';
  /** Gives the state directory back (see `claimStateDir`). */
  private release: () => void = () => {};

  private constructor(readonly options: RuntimeOptions) {
    this.accountId = options.accountId ?? '1234567890123456';
    this.print = options.print ?? ((line) => process.stdout.write(`${line}\n`));
    mkdirSync(options.stateDir, { recursive: true });
    this.buckets = new LocalBuckets(
      join(options.stateDir, 'oss'),
      this.region,
      this.accountId,
      () => [...this.functions.values()],
      (n) =>
        this.enqueueSafely(
          n.functionName,
          Buffer.from(JSON.stringify(n.event)),
          `oss:${n.trigger.triggerName}`,
        ),
    );
    this.queue = new AsyncQueue(
      join(options.stateDir, 'async'),
      {
        run: (m) => this.runAsync(m),
        policy: (fn) => this.functions.get(fn),
        finished: (m, condition, outcome) => this.onFinished(m, condition, outcome),
      },
      options.retryBaseMs ?? 1000,
    );
    this.timers = new TimerScheduler((f) =>
      this.enqueueSafely(
        f.functionName,
        Buffer.from(JSON.stringify(f.event)),
        `timer:${f.trigger.triggerName}`,
      ),
    );
  }

  static async start(options: RuntimeOptions): Promise<LocalRuntime> {
    // One runtime per state directory: refused (naming the owner) before anything there is touched.
    const claim = claimStateDir(options.stateDir);
    let runtime: LocalRuntime;
    try {
      runtime = new LocalRuntime(options);
      await runtime.boot();
    } catch (error) {
      claim.release();
      throw error;
    }
    runtime.release = claim.release;
    claimStateDir(options.stateDir, { runtimeUrl: runtime.url });
    return runtime;
  }

  private async boot(): Promise<void> {
    const project = loadProject(this.options.template);
    if (this.options.build !== false) {
      const built = await buildFunctions(project.root, { config: false });
      if (built.errors.length > 0) throw new Error(`build failed:\n${built.errors.join('\n')}`);
    }
    const external = this.options.databaseUrl ?? process.env.DATABASE_URL;
    if (external) {
      this.databaseUrl = external;
    } else {
      this.stateServer = await startStateServerThread(this.options.stateDir, (reason) =>
        this.print(`[runtime] ${reason}`),
      );
      this.databaseUrl = this.stateServer.url;
    }
    this.server = createServer((req, res) => {
      handleRequest(this, req, res).catch((error) => {
        this.print(`[runtime] request failed: ${(error as Error).message}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port ?? 8787, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    this.url = `http://${this.options.host ?? '127.0.0.1'}:${address.port}`;
    this.apply(project.functions);
    this.queue.start({ dispatch: this.options.dispatch !== false });

    if (this.options.watch) {
      const watcher = await watchFunctions(project.root, (result) => {
        if (result.errors.length > 0) {
          this.print(`[runtime] rebuild failed, keeping the running code:\n${result.errors.join('\n')}`);
          return;
        }
        for (const pool of this.pools.values()) pool.reload();
        this.print('[runtime] rebuilt; new invocations run the new code');
      });
      const reloadTemplate = () => {
        try {
          this.apply(loadProject(this.options.template).functions);
          this.print('[runtime] s.yaml reloaded');
        } catch (error) {
          this.print(`[runtime] s.yaml not reloaded: ${(error as Error).message}`);
        }
      };
      watchFile(this.options.template, { interval: 500 }, reloadTemplate);
      const previous = this.disposeWatch;
      this.disposeWatch = async () => {
        unwatchFile(this.options.template, reloadTemplate);
        await watcher.dispose();
        await previous?.();
      };
    }
  }

  /** Take a (new) set of function specs: pools follow, timers re-arm. */
  private apply(functions: FunctionSpec[]): void {
    const names = new Set(functions.map((f) => f.name));
    for (const [name, pool] of this.pools) {
      if (!names.has(name)) {
        void pool.close(0);
        this.pools.delete(name);
      }
    }
    this.functions.clear();
    for (const fn of functions) {
      this.functions.set(fn.name, fn);
      if (fn.region) this.region = fn.region;
      const existing = this.pools.get(fn.name);
      if (existing) existing.reload(fn);
      else
        this.pools.set(
          fn.name,
          new InstancePool(
            fn,
            this.environment(fn),
            (f, r, l) => this.onLog(f, r, l),
            this.options.maxInstances,
          ),
        );
    }
    if (this.options.timers !== false) this.timers.start(functions);
  }

  private environment(fn: FunctionSpec): Record<string, string> {
    const creds = this.credentials();
    const host = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    return {
      ...host,
      FC_FUNCTION_NAME: fn.name,
      FC_FUNCTION_HANDLER: fn.handler,
      FC_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      FC_FUNC_CODE_PATH: fn.codeDir,
      FC_REGION: fn.region,
      FC_ACCOUNT_ID: this.accountId,
      FC_FUNCTION_VERSION: 'LATEST',
      ALIBABA_CLOUD_ACCESS_KEY_ID: creds.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: creds.accessKeySecret,
      ALIBABA_CLOUD_SECURITY_TOKEN: creds.securityToken ?? '',
      ...fn.environmentVariables,
      // Off the cloud, the runtime's own services win over s.yaml values meant for the cloud: the
      // state store, the sandbox, the config.
      ...this.options.env,
      // Where each function is reached here (`/<function>/`), and where this one's HTTP trigger is
      // mounted: the console links and sends changes there.
      FC_DEVOPS_FUNCTIONS_URL: this.url,
      FC_DEVOPS_HTTP_PREFIX: `/${fn.name}`,
      DATABASE_URL: this.databaseUrl,
      ...this.compiledConfigEnv({ ...fn.environmentVariables, ...this.options.env }),
    };
  }

  /**
   * Functions read fc-devops.yaml compiled to JSON (shared/config/compiled.ts), as `fc-devops build`
   * ships it. Given a YAML file, the runtime compiles it into its state directory once, and again
   * whenever the file changes while it watches; new instances read the new one.
   */
  private compiledConfigEnv(env: Record<string, string>): Record<string, string> {
    const source = env.FC_DEVOPS_CONFIG;
    if (!source || !/\.ya?ml$/i.test(source)) return {};
    const path = resolve(source);
    let out = this.compiled.get(path);
    if (!out) {
      out = join(
        this.options.stateDir,
        'config',
        `${createHash('sha256').update(path).digest('hex').slice(0, 16)}.json`,
      );
      writeCompiledConfig(path, out);
      this.compiled.set(path, out);
      if (this.options.watch) {
        const target = out;
        const recompile = () => {
          const compiled = writeCompiledConfig(path, target);
          this.print(
            compiled.problems
              ? `[runtime] ${source} has problems; new instances will fail their cold start with them`
              : `[runtime] ${source} reloaded; new instances read it`,
          );
        };
        watchFile(path, { interval: 500 }, recompile);
        const previous = this.disposeWatch;
        this.disposeWatch = async () => {
          unwatchFile(path, recompile);
          await previous?.();
        };
      }
    }
    return { FC_DEVOPS_CONFIG: out };
  }

  private credentials(): FcCredentials {
    const env = process.env;
    if (env.ALIBABA_CLOUD_ACCESS_KEY_ID && env.ALIBABA_CLOUD_ACCESS_KEY_SECRET) {
      return {
        accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
        accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
        securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN ?? '',
      };
    }
    return this.options.credentials ?? SANDBOX_CREDENTIALS;
  }

  /** Invocations running in an instance now (all functions). */
  get inFlight(): number {
    let n = 0;
    for (const pool of this.pools.values()) n += pool.inFlight;
    return n;
  }

  /** Run one invocation now and wait for it (sync invoke, HTTP triggers, async attempts). */
  async invoke(
    functionName: string,
    payload: Buffer,
    options: { requestId: string; source: string; qualifier?: string; attempt?: number },
  ): Promise<InvokeOutcome> {
    const fn = this.functions.get(functionName);
    const pool = this.pools.get(functionName);
    if (!fn || !pool) throw new Error(`function ${functionName} not found`);
    this.logsByRequest.set(options.requestId, []);
    const startedAt = new Date().toISOString();
    const outcome = await pool.invoke(payload, {
      requestId: options.requestId,
      credentials: this.credentials(),
      function: { name: fn.name, handler: fn.handler, memory: fn.memorySize, timeout: fn.timeout },
      service: {
        qualifier: options.qualifier ?? 'LATEST',
        versionId: 'LATEST',
        logProject: 'local',
        logStore: 'local',
      },
      region: fn.region,
      accountId: this.accountId,
      retryCount: Math.max(0, (options.attempt ?? 1) - 1),
    });
    const logs = this.logsByRequest.get(options.requestId) ?? [];
    this.logsByRequest.delete(options.requestId);
    const record: InvocationRecord = {
      requestId: options.requestId,
      functionName,
      source: options.source,
      startedAt,
      durationMs: outcome.durationMs,
      coldStart: outcome.coldStart,
      ok: outcome.ok,
      errorType: outcome.ok ? undefined : outcome.error.errorType,
      errorMessage: outcome.ok ? undefined : outcome.error.errorMessage,
      response: outcome.ok
        ? outcome.body.toString('utf8').slice(0, 4096)
        : JSON.stringify(outcome.error).slice(0, 4096),
      logs,
      attempt: options.attempt,
    };
    this.invocations.push(record);
    if (this.invocations.length > 500) this.invocations.shift();
    const status = outcome.ok ? 'ok' : `${outcome.error.errorType}: ${outcome.error.errorMessage}`;
    this.print(
      `[runtime] ${functionName} ${options.source} ${options.requestId} ${outcome.durationMs}ms${outcome.coldStart ? ' (cold)' : ''} ${status}`,
    );
    return outcome;
  }

  /** Queue an async invocation (FC answers 202 once the message is persisted). */
  async invokeAsync(
    functionName: string,
    payload: Buffer,
    options: { source: string; taskId?: string; qualifier?: string },
  ): Promise<AsyncMessage> {
    if (!this.functions.has(functionName)) throw new Error(`function ${functionName} not found`);
    return await this.queue.enqueue({ functionName, payload, source: options.source, ...optional(options) });
  }

  private enqueueSafely(functionName: string, payload: Buffer, source: string): void {
    this.invokeAsync(functionName, payload, { source }).catch((error: Error) =>
      this.print(`[runtime] could not enqueue ${source} for ${functionName}: ${error.message}`),
    );
  }

  private async runAsync(message: AsyncMessage): Promise<AttemptOutcome> {
    const outcome = await this.invoke(message.functionName, Buffer.from(message.payload, 'base64'), {
      requestId: message.requestId,
      source: message.source,
      qualifier: message.qualifier,
      attempt: message.attempts,
    });
    if (outcome.ok) return { ok: true, response: outcome.body.toString('utf8') };
    return { ok: false, response: JSON.stringify(outcome.error), error: outcome.error };
  }

  private async onFinished(
    message: AsyncMessage,
    condition: string,
    outcome: AttemptOutcome | undefined,
  ): Promise<void> {
    const fn = this.functions.get(message.functionName);
    const destination = message.status === 'succeeded' ? fn?.onSuccess : fn?.onFailure;
    if (message.status === 'failed') {
      this.print(
        `[runtime] ${message.functionName} async ${message.requestId} failed after ${message.attempts} attempt(s): ${condition}`,
      );
    }
    if (!destination) return;
    const record = await deliverDestination(this, message, condition, outcome, destination);
    this.destinations.push(record);
    if (this.destinations.length > 500) this.destinations.shift();
  }

  private onLog(functionName: string, requestId: string | undefined, line: string): void {
    if (requestId) this.logsByRequest.get(requestId)?.push(line);
    this.print(`[${functionName}] ${line}`);
  }

  /** Stop taking requests, let invocations in flight finish (up to `graceMs`), stop everything. */
  async stop(graceMs = 10_000): Promise<void> {
    this.timers.stop();
    await this.disposeWatch?.();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      const server = this.server;
      // Requests in flight finish; keep-alive connections are closed as soon as they fall idle.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.close(() => {
        clearInterval(sweep);
        resolve();
      });
      server.closeIdleConnections();
    });
    await this.queue.stop(graceMs);
    await Promise.all([...this.pools.values()].map((p) => p.close(graceMs)));
    await this.stateServer?.stop();
    this.release();
  }
}

function optional(o: { taskId?: string; qualifier?: string }): { taskId?: string; qualifier?: string } {
  const out: { taskId?: string; qualifier?: string } = {};
  if (o.taskId) out.taskId = o.taskId;
  if (o.qualifier) out.qualifier = o.qualifier;
  return out;
}
