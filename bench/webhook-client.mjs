// The webhook bench's sender, in its own thread: GitHub is not in the runtime's process, so the
// requests it sends must not take the runtime's event loop. Plain JS: workers start without tsx.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', async ({ url, requests, concurrency }) => {
  const times = new Array(requests.length);
  const failures = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const t = performance.now();
        try {
          const r = await fetch(url, {
            method: 'POST',
            headers: requests[i].headers,
            body: requests[i].body,
          });
          await r.arrayBuffer();
          if (r.status !== 202) failures.push(`answered ${r.status}`);
        } catch (error) {
          failures.push(String(error));
        }
        times[i] = performance.now() - t;
      }
    }),
  );
  parentPort.postMessage({ times, elapsedMs: performance.now() - started, failures: failures.slice(0, 5) });
});
