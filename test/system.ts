import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bucketStore, invokeTarget } from '../local/cli/dev-wiring.ts';
import { LocalRuntime } from '../local/runtime/runtime.ts';
import { SANDBOX_KEYS } from '../local/sandbox/keys.ts';
import type { Seed } from '../local/sandbox/seed.ts';
import { Sandbox } from '../local/sandbox/server.ts';
import type { SinkSecrets } from '../local/sandbox/sinks.ts';
import { createJob } from '../shared/events/job.ts';

export interface System {
  sandbox: Sandbox;
  runtime: LocalRuntime;
  dir: string;
  stop(): Promise<void>;
}

/**
 * The whole system as `npm start` runs it, on free ports: the sandbox cloud wired to the local
 * runtime running an s.yaml (the repo's by default) with the given fc-devops.yaml. Function errors
 * are printed, so a failing test shows why. Timers do not fire by themselves: a test ticks them.
 */
export async function startSystem(options: {
  /** fc-devops.yaml, or a function of the sandbox's URL that makes it. */
  config?: string | ((sandboxUrl: string) => string);
  seed?: Seed;
  env?: (sandboxUrl: string) => Record<string, string>;
  template?: string;
  timeScale?: number;
  sinks?: SinkSecrets;
  retryBaseMs?: number;
  /** Fire timer triggers on their own schedules; off by default: tests fire ticks by hand. */
  timers?: boolean;
}): Promise<System> {
  const dir = mkdtempSync(join(tmpdir(), 'system-'));
  const sandbox = await Sandbox.start({
    port: 0,
    dir: join(dir, 'sandbox'),
    keys: SANDBOX_KEYS,
    ...(options.seed ? { seed: options.seed } : {}),
    ...(options.timeScale ? { timeScale: options.timeScale } : {}),
    ...(options.sinks ? { sinks: options.sinks } : {}),
  });
  const env: Record<string, string> = { FC_DEVOPS_CLOUD_URL: sandbox.url, ...options.env?.(sandbox.url) };
  if (options.config !== undefined) {
    const text = typeof options.config === 'function' ? options.config(sandbox.url) : options.config;
    writeFileSync(join(dir, 'fc-devops.yaml'), text);
    env.FC_DEVOPS_CONFIG = join(dir, 'fc-devops.yaml');
  }
  const runtime = await LocalRuntime.start({
    template: options.template ?? resolve(import.meta.dirname, '../s.yaml'),
    port: 0,
    stateDir: join(dir, 'state'),
    retryBaseMs: options.retryBaseMs ?? 100,
    timers: options.timers ?? false,
    print: (line) => {
      if (line.includes('"level":"error"') || line.includes('request failed')) console.log(line);
    },
    env,
  });
  sandbox.attach({ runtime: invokeTarget(runtime), objects: bucketStore(runtime) });
  return {
    sandbox,
    runtime,
    dir,
    async stop() {
      await runtime.stop(2000);
      await sandbox.stop();
    },
  };
}

/**
 * Deliver a job to a function synchronously through the runtime's invoke API, as an async job
 * would arrive, and answer what it returned (or its error answer).
 */
export async function invokeJob(
  runtimeUrl: string,
  fn: string,
  kind: string,
  key: string,
  payload: unknown,
): Promise<any> {
  const { bytes } = createJob({ kind, idempotencyKey: key, payload });
  const response = await fetch(`${runtimeUrl}/2023-03-30/functions/${fn}/invocations`, {
    method: 'POST',
    body: bytes,
  });
  return JSON.parse(await response.text());
}
