import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A Node built-in loaded the first time it is used, not at import: compiling `node:zlib`,
 * `node:child_process` or `node:http` costs a cold start 1-3 ms each, paid by every first event
 * although only some (an unpack, a terraform run) use them. Synchronous, so sync code can use it.
 */
export function builtin<T>(name: `node:${string}`): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= require(name) as T;
    return loaded;
  };
}
