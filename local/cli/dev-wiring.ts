import { join } from 'node:path';
import type { LocalRuntime } from '../runtime/runtime.ts';
import type { InvokeTarget } from '../sandbox/products/fc.ts';
import type { ObjectStore } from '../sandbox/products/oss.ts';

/** The sandbox's FC API invokes functions of the local runtime. */
export function invokeTarget(runtime: LocalRuntime): InvokeTarget {
  return {
    has: (name) => runtime.functions.has(name),
    invokeAsync: async (name, payload, options) => ({
      requestId: (await runtime.invokeAsync(name, payload, options)).requestId,
    }),
  };
}

/** The sandbox's OSS API writes into the local runtime's buckets, so uploads fire OSS triggers. */
export function bucketStore(runtime: LocalRuntime): ObjectStore {
  return {
    root: join(runtime.options.stateDir, 'oss'),
    put: (bucket, key, body) => runtime.buckets.put(bucket, key, body),
    get: (bucket, key) => runtime.buckets.get(bucket, key),
    delete: (bucket, key) => runtime.buckets.delete(bucket, key),
  };
}
