import { openStore } from '../shared/store/open.ts';
import type { Store } from '../shared/store/port.ts';
import type { Figure } from './figures.ts';
import { withScratchPostgres } from './scratch-postgres.ts';

const OPS = Number(process.env.BENCH_STORE_OPS ?? 2000);

async function claimAndComplete(
  store: Store,
  prefix: string,
  ops: number,
  concurrency: number,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ops; i = next++) {
        const key = `${prefix}:${i}`;
        const claim = await store.claim(key, { owner: `w${i}`, leaseMs: 60_000 });
        if (claim.status !== 'claimed') throw new Error(`bench key ${key} not claimed`);
        await store.complete(key, `w${i}`, { i });
      }
    }),
  );
  return ops / ((performance.now() - started) / 1000);
}

/** Claim-and-complete throughput on PGlite (in memory) and on the PostgreSQL server, if reachable. */
export async function runStoreBench(): Promise<Figure[]> {
  const figures: Figure[] = [];
  console.log(`\nstore: claim + complete of ${OPS} distinct keys`);
  const pglite = await openStore({});
  console.log(
    `  pglite (in memory)      sequential ${(await claimAndComplete(pglite, 'seq', OPS, 1)).toFixed(0).padStart(7)} ops/s`,
  );
  await pglite.close();

  await withScratchPostgres('store', async (url) => {
    const store = await openStore({ databaseUrl: url.toString() });
    const sequential = await claimAndComplete(store, 'seq', OPS, 1);
    console.log(`  postgres (${url.host})  sequential ${sequential.toFixed(0).padStart(7)} ops/s`);
    figures.push({
      id: 'store:postgres:sequential',
      what: 'store claim+complete, PostgreSQL',
      value: sequential,
      unit: 'ops/s',
      goal: 1000,
      better: 'higher',
    });
    console.log(
      `  postgres (${url.host})  3 in parallel ${(await claimAndComplete(store, 'par', OPS, 3)).toFixed(0).padStart(4)} ops/s (one function instance's pool)`,
    );
    await store.close();
  });
  return figures;
}
