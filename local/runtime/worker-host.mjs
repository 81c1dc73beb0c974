// The inside of one local FC instance: a worker thread that imports a function's built bundle once
// and runs one invocation at a time, as an FC instance with instanceConcurrency 1 does. Plain JS on
// purpose: it runs the bundle exactly as FC's nodejs20 runtime would, with no loader in between.

import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';

const { modulePath, exportName } = workerData;
let loaded;

function load() {
  loaded ??= import(pathToFileURL(modulePath).href).then((mod) => {
    const handler = mod[exportName];
    if (typeof handler !== 'function') {
      throw new TypeError(`${exportName} is not a function exported by ${modulePath}`);
    }
    return handler;
  });
  return loaded;
}

// FC's context.logger prints `<ISO time> <requestId> [<level>] <msg>`.
function fcLogger(requestId) {
  const line =
    (level) =>
    (...args) =>
      process.stdout.write(`${new Date().toISOString()} ${requestId} [${level}] ${format(...args)}\n`);
  return {
    debug: line('DEBUG'),
    info: line('INFO'),
    warn: line('WARN'),
    error: line('ERROR'),
    log: line('INFO'),
  };
}

// FC converts the return value: a Buffer stays bytes, an object becomes JSON, anything else a string.
function toResult(value) {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array)
    return { kind: 'bytes', data: Buffer.from(value) };
  if (value === undefined || value === null) return { kind: 'text', data: '' };
  if (typeof value === 'object') return { kind: 'json', data: JSON.stringify(value), value };
  return { kind: 'text', data: String(value) };
}

parentPort.on('message', async (message) => {
  if (message.type !== 'invoke') return;
  const context = { ...message.context, logger: fcLogger(message.context.requestId) };
  try {
    const handler = await load();
    const value = await handler(Buffer.from(message.event), context);
    parentPort.postMessage({ type: 'result', id: message.id, ok: true, result: toResult(value) });
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    parentPort.postMessage({
      type: 'result',
      id: message.id,
      ok: false,
      error: {
        errorMessage: err.message,
        errorType: err.name || 'Error',
        stackTrace: (err.stack ?? '')
          .split('\n')
          .slice(1)
          .map((s) => s.trim()),
      },
    });
  }
});
