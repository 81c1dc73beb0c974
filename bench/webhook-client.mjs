// The webhook bench's sender, in its own thread: GitHub is not in the runtime's process, so the
// requests it sends must take as little of the machine as it can. Raw HTTP/1.1 over kept-alive
// sockets, each request's bytes written once and each answer read to its Content-Length: node:http's
// client cost about 0.5 ms of CPU per request here (fetch several times that), all of it taken from
// the two cores the system under test has. Plain JS: workers start without tsx.
import { connect } from 'node:net';
import { parentPort } from 'node:worker_threads';

function requestBytes(url, { headers, body }) {
  const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, 'connection: keep-alive'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body)]);
}

/** One kept-alive connection: send a request, resolve with the answer's status once it is whole. */
function connection(url) {
  const socket = connect(Number(url.port), url.hostname);
  socket.setNoDelay(true);
  let buffer = Buffer.alloc(0);
  let waiting;
  socket.on('data', (chunk) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0 || !waiting) return;
    const head = buffer.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]);
    if (!Number.isFinite(length)) {
      waiting.reject(new Error(`an answer without content-length: ${head.split('\r\n')[0]}`));
      return;
    }
    if (buffer.length < end + 4 + length) return;
    buffer = buffer.subarray(end + 4 + length);
    const done = waiting;
    waiting = undefined;
    done.resolve(Number(head.slice(9, 12)));
  });
  let closed;
  const failAll = (error) => {
    closed ??= error ?? new Error('the connection closed');
    waiting?.reject(closed);
    waiting = undefined;
  };
  socket.on('error', failAll);
  socket.on('close', () => failAll());
  return {
    send: (bytes) =>
      new Promise((resolve, reject) => {
        if (closed) return reject(closed);
        waiting = { resolve, reject };
        socket.write(bytes);
      }),
    close: () => socket.destroy(),
  };
}

parentPort.on('message', async ({ url, requests, concurrency }) => {
  const target = new URL(url);
  const bytes = requests.map((r) => requestBytes(target, r));
  const times = new Array(requests.length);
  const failures = [];
  const connections = Array.from({ length: concurrency }, () => connection(target));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    connections.map(async (conn) => {
      for (let i = next++; i < bytes.length; i = next++) {
        const t = performance.now();
        try {
          const status = await conn.send(bytes[i]);
          if (status !== 202) failures.push(`answered ${status}`);
        } catch (error) {
          failures.push(String(error));
        }
        times[i] = performance.now() - t;
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  for (const conn of connections) conn.close();
  parentPort.postMessage({ times, elapsedMs, failures: failures.slice(0, 5) });
});
