import type { Store } from './port.ts';

/**
 * A Store that opens the real one on its first call, so a function that answers an event without
 * touching its state (a 401, a skipped tick) never connects at all. Every method waits for the
 * same opening; a failed opening is retried on the next call.
 */
export function lazyStore(open: () => Promise<Store>): Store {
  return new Proxy({} as Store, {
    get(_target, method: keyof Store) {
      if (method === 'engine') throw new TypeError('lazyStore: read engine from the opened store');
      // `then` must stay undefined, or awaiting the proxy would treat it as a promise.
      if ((method as string) === 'then') return undefined;
      return async (...args: unknown[]) => {
        const store = await open();
        return (store[method] as (...a: unknown[]) => unknown).apply(store, args);
      };
    },
  });
}
