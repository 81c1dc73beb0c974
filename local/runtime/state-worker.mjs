// The state database in its own thread: PGlite's wasm and the wire-protocol proxy in front of it take
// most of a delivery's CPU under load, and on the runtime's own thread they queued behind (and held
// up) every HTTP trigger, FC API call and instance message. Plain JS: workers start without tsx's hooks.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { startStateServer } = await import('./state-server.ts');
try {
  const server = await startStateServer(workerData.stateDir);
  parentPort.on('message', async (message) => {
    if (message?.type !== 'stop') return;
    try {
      await server.stop();
    } finally {
      parentPort.postMessage({ type: 'stopped' });
    }
  });
  parentPort.postMessage({ type: 'ready', url: server.url });
} catch (error) {
  parentPort.postMessage({ type: 'failed', message: error?.message ?? String(error), code: error?.code });
}
