// The webhook bench's sender, in its own thread: GitHub is not in the runtime's process, so the
// requests it sends must not take the runtime's event loop. node:http with kept-alive connections:
// fetch costs several times the CPU per request, which on two cores is taken from the system under
// test. Plain JS: workers start without tsx.
import { Agent, request } from 'node:http';
import { parentPort } from 'node:worker_threads';

function post(agent, url, { headers, body }) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

parentPort.on('message', async ({ url, requests, concurrency }) => {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const times = new Array(requests.length);
  const failures = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const t = performance.now();
        try {
          const status = await post(agent, url, requests[i]);
          if (status !== 202) failures.push(`answered ${status}`);
        } catch (error) {
          failures.push(String(error));
        }
        times[i] = performance.now() - t;
      }
    }),
  );
  agent.destroy();
  parentPort.postMessage({ times, elapsedMs: performance.now() - started, failures: failures.slice(0, 5) });
});
