import { builtin } from '../util/builtin.ts';
import { toolEnv } from './layer-env.ts';

const childProcess = builtin<typeof import('node:child_process')>('node:child_process');
const readline = builtin<typeof import('node:readline')>('node:readline');

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the whole process tree after this long. */
  timeoutMs?: number;
  /** Kill the whole process tree when aborted (cancellation). */
  signal?: AbortSignal;
  /** Each line of stdout, as it arrives. */
  onStdout?: (line: string) => void;
  /** Each line of stderr, as it arrives. */
  onStderr?: (line: string) => void;
  /** How long SIGTERM has to end the process group before SIGKILL (default 5 s). */
  graceMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the process was killed, if fc-devops killed it. */
  killed?: 'timeout' | 'cancelled';
  stdout: string;
  stderr: string;
}

const GRACE_MS = 5000;

/**
 * Run a binary as the leader of its own process group, so a timeout or a cancellation can kill
 * everything it started (packer's plugins and provisioner shells), not just the binary itself.
 */
export function runProcess(bin: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(bin, args, {
      cwd: options.cwd,
      // Binaries from an FC layer (/opt/bin) come before the image's own.
      env: toolEnv(options.env ?? process.env),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let killed: RunResult['killed'];
    const out: string[] = [];
    const err: string[] = [];
    const killTree = (why: 'timeout' | 'cancelled') => {
      if (killed || child.pid === undefined) return;
      killed = why;
      const group = -child.pid;
      try {
        process.kill(group, 'SIGTERM');
      } catch {}
      // Packer cleans up on SIGTERM (deletes its temporary instance), Terraform saves its state: give
      // them a moment, then insist.
      setTimeout(() => {
        try {
          process.kill(group, 'SIGKILL');
        } catch {}
      }, options.graceMs ?? GRACE_MS).unref();
    };
    const timer = options.timeoutMs ? setTimeout(() => killTree('timeout'), options.timeoutMs) : undefined;
    const onAbort = () => killTree('cancelled');
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    readline()
      .createInterface({ input: child.stdout })
      .on('line', (line) => {
        out.push(line);
        options.onStdout?.(line);
      });
    readline()
      .createInterface({ input: child.stderr })
      .on('line', (line) => {
        err.push(line);
        options.onStderr?.(line);
      });
    child.on('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        code,
        signal,
        ...(killed ? { killed } : {}),
        stdout: out.join('\n'),
        stderr: err.join('\n'),
      });
    });
  });
}
