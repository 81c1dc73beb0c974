import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { FcContext, FcErrorPayload } from '../../shared/runtime/context.ts';
import type { FunctionSpec } from './s-yaml.ts';

const HOST = new URL('./worker-host.mjs', import.meta.url);

export type InvocationContext = Omit<FcContext, 'logger'>;

export type InvokeOutcome =
  | {
      ok: true;
      body: Buffer;
      contentKind: 'bytes' | 'json' | 'text';
      value: unknown;
      durationMs: number;
      coldStart: boolean;
    }
  | {
      ok: false;
      error: FcErrorPayload;
      errorKind: 'unhandled' | 'timeout' | 'crash';
      durationMs: number;
      coldStart: boolean;
    };

export type LogListener = (fn: string, requestId: string | undefined, line: string) => void;

interface Instance {
  worker: Worker;
  generation: number;
  requestId: string | undefined;
  settle: ((outcome: WorkerReply | { crash: Error }) => void) | undefined;
}

type WorkerReply =
  | {
      type: 'result';
      id: string;
      ok: true;
      result: { kind: 'bytes' | 'json' | 'text'; data: string | Uint8Array; value?: unknown };
    }
  | { type: 'result'; id: string; ok: false; error: FcErrorPayload };

/**
 * The instances of one function. Each instance is a worker thread with the function's environment
 * that runs one invocation at a time; instances are reused while warm, started on demand up to
 * `maxInstances`, and replaced after a crash or a timeout (FC kills a timed-out instance too).
 */
export class InstancePool {
  private idle: Instance[] = [];
  private busy = new Set<Instance>();
  private waiting: ((instance: Instance) => void)[] = [];
  private generation = 0;
  private closed = false;

  constructor(
    private spec: FunctionSpec,
    private readonly env: Record<string, string>,
    private readonly onLog: LogListener,
    private readonly maxInstances = 4,
  ) {}

  get functionName(): string {
    return this.spec.name;
  }

  /** New code or config: idle instances go now, busy ones when they finish. */
  reload(spec: FunctionSpec = this.spec): void {
    this.spec = spec;
    this.generation++;
    for (const instance of this.idle) void instance.worker.terminate();
    this.idle = [];
  }

  async invoke(event: Buffer, context: InvocationContext): Promise<InvokeOutcome> {
    const started = performance.now();
    const { instance, coldStart } = await this.acquire();
    instance.requestId = context.requestId;
    const timeoutMs = this.spec.timeout * 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await new Promise<WorkerReply | { crash: Error } | { timeout: true }>((resolve) => {
        instance.settle = resolve;
        timer = setTimeout(() => resolve({ timeout: true }), timeoutMs);
        instance.worker.postMessage({ type: 'invoke', id: context.requestId, event, context });
      });
      const durationMs = Math.round(performance.now() - started);
      if ('timeout' in reply) {
        this.discard(instance);
        return {
          ok: false,
          errorKind: 'timeout',
          durationMs,
          coldStart,
          error: {
            errorMessage: `Function timed out after ${this.spec.timeout} seconds`,
            errorType: 'FunctionTimeoutError',
          },
        };
      }
      if ('crash' in reply) {
        this.discard(instance);
        return {
          ok: false,
          errorKind: 'crash',
          durationMs,
          coldStart,
          error: {
            errorMessage: reply.crash.message,
            errorType: reply.crash.name || 'Error',
            stackTrace: [],
          },
        };
      }
      this.release(instance);
      if (!reply.ok) return { ok: false, errorKind: 'unhandled', error: reply.error, durationMs, coldStart };
      const body =
        typeof reply.result.data === 'string'
          ? Buffer.from(reply.result.data)
          : Buffer.from(reply.result.data);
      return {
        ok: true,
        body,
        contentKind: reply.result.kind,
        value: reply.result.value,
        durationMs,
        coldStart,
      };
    } finally {
      clearTimeout(timer);
      instance.settle = undefined;
      instance.requestId = undefined;
    }
  }

  /** Stop taking work and wait up to `graceMs` for invocations in flight, then stop every instance. */
  async close(graceMs = 10_000): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + graceMs;
    while (this.busy.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([...this.idle, ...this.busy].map((i) => i.worker.terminate()));
    this.idle = [];
    this.busy.clear();
  }

  get inFlight(): number {
    return this.busy.size;
  }

  private async acquire(): Promise<{ instance: Instance; coldStart: boolean }> {
    if (this.closed) throw new Error(`function ${this.spec.name} is shutting down`);
    const warm = this.idle.pop();
    if (warm) {
      this.busy.add(warm);
      return { instance: warm, coldStart: false };
    }
    if (this.busy.size < this.maxInstances) {
      const instance = this.start();
      this.busy.add(instance);
      return { instance, coldStart: true };
    }
    const instance = await new Promise<Instance>((resolve) => this.waiting.push(resolve));
    return { instance, coldStart: false };
  }

  private release(instance: Instance): void {
    if (instance.generation !== this.generation || this.closed) {
      this.discard(instance);
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      next(instance);
      return;
    }
    this.busy.delete(instance);
    this.idle.push(instance);
  }

  private discard(instance: Instance): void {
    this.busy.delete(instance);
    void instance.worker.terminate();
    const next = this.waiting.shift();
    if (next && !this.closed) {
      const fresh = this.start();
      this.busy.add(fresh);
      next(fresh);
    }
  }

  private start(): Instance {
    const [file, exportName] = splitHandler(this.spec.handler);
    const modulePath = resolveModule(this.spec.codeDir, file);
    const worker = new Worker(HOST, {
      workerData: { modulePath, exportName },
      env: { ...this.env },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: this.spec.memorySize },
    });
    const instance: Instance = {
      worker,
      generation: this.generation,
      requestId: undefined,
      settle: undefined,
    };
    for (const stream of [worker.stdout, worker.stderr]) {
      createInterface({ input: stream }).on('line', (line) =>
        this.onLog(this.spec.name, instance.requestId, line),
      );
    }
    worker.on('message', (reply: WorkerReply) => instance.settle?.(reply));
    worker.on('error', (error) => instance.settle?.({ crash: error }));
    worker.on('exit', (code) => {
      instance.settle?.({ crash: new Error(`instance exited with code ${code} during the invocation`) });
      this.idle = this.idle.filter((i) => i !== instance);
    });
    return instance;
  }
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/** `index` → index.mjs, index.js or index.cjs in the code directory, as FC's Node.js runtime looks. */
export function resolveModule(codeDir: string, file: string): string {
  for (const ext of ['.mjs', '.js', '.cjs']) {
    const candidate = join(codeDir, `${file}${ext}`);
    if (existsSync(candidate)) return candidate;
  }
  return join(codeDir, `${file}.mjs`);
}
