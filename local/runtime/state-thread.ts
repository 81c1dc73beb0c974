import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { StateServer } from './state-server.ts';

type FromWorker =
  | { type: 'ready'; url: string }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'stopped' };

/**
 * `startStateServer` in a worker thread of its own (state-worker.mjs): the same database and URL,
 * but PGlite's queries no longer take the runtime's thread, which serves every trigger and FC API
 * call. A start that fails rejects with the worker's error.
 */
export async function startStateServerThread(
  stateDir: string,
  /** Told when the thread fails after it started: every store call fails from then on, so say why. */
  onFailure: (reason: string) => void = () => {},
): Promise<StateServer> {
  const worker = new Worker(new URL('./state-worker.mjs', import.meta.url), { workerData: { stateDir } });
  const first = await Promise.race([
    once(worker, 'message').then(([m]) => m as FromWorker),
    once(worker, 'error').then(([e]) => ({ type: 'failed', message: (e as Error).message }) as FromWorker),
    once(worker, 'exit').then(
      ([code]) => ({ type: 'failed', message: `the state thread exited (${code})` }) as FromWorker,
    ),
  ]);
  if (first.type !== 'ready') {
    await worker.terminate();
    const error = new Error(first.type === 'failed' ? first.message : 'the state thread did not start');
    if (first.type === 'failed' && first.code) Object.assign(error, { code: first.code });
    throw error;
  }
  let stopping = false;
  worker.on('error', (error) => onFailure(`the state database's thread failed: ${error.message}`));
  worker.on('exit', (code) => {
    if (!stopping) onFailure(`the state database's thread ended (exit code ${code})`);
  });
  return {
    url: first.url,
    async stop() {
      stopping = true;
      const stopped = once(worker, 'message');
      worker.postMessage({ type: 'stop' });
      // PGlite closes its files in stop(); a thread that cannot is ended after a bounded wait.
      await Promise.race([stopped, once(worker, 'exit'), new Promise((r) => setTimeout(r, 10_000).unref())]);
      await worker.terminate();
    },
  };
}
