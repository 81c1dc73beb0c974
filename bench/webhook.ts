import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bucketStore, invokeTarget } from '../local/cli/dev-wiring.ts';
import { githubHeaders } from '../local/cli/git-push.ts';
import { LocalRuntime } from '../local/runtime/runtime.ts';
import { SANDBOX_KEYS } from '../local/sandbox/keys.ts';
import { Sandbox } from '../local/sandbox/server.ts';
import type { Figure } from './figures.ts';
import { withScratchPostgres } from './scratch-postgres.ts';

const SECRET = 'bench-webhook-secret';
const REPO = '/nonexistent/bench/images';
const SEQUENTIAL = Number(process.env.BENCH_WEBHOOK_REQUESTS ?? 200);
const PARALLEL = Number(process.env.BENCH_WEBHOOK_PARALLEL ?? 400);
const CONCURRENCY = 16;

const CONFIG = `region: cn-hangzhou
images:
  pipelines:
    web:
      repository: { url: ${REPO}, host: local, webhookSecret: "\${env:BENCH_GIT_SECRET}" }
      branches: [main]
      paths: ["packer/**"]
      template: packer/web.json
`;

function payload(branch: string): string {
  const sha = randomUUID().replace(/-/g, '').padEnd(40, '0');
  return JSON.stringify({
    ref: `refs/heads/${branch}`,
    before: '1'.repeat(40),
    after: sha,
    deleted: false,
    commits: [{ id: sha, message: 'bench', added: [], modified: ['packer/web.json'], removed: [] }],
    repository: { full_name: 'bench/images', clone_url: REPO },
  });
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/**
 * Webhook acknowledgement at the local runtime: signed GitHub pushes through the HTTP trigger, verified,
 * matched and (for a matching branch) enqueued as an image-build job, durably. The jobs are not run
 * (the runtime does not dispatch them), so what is measured is the answer, not the build.
 */
export async function runWebhookBench(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const goals = { pglite: { p99: 40, perSecond: 300 }, postgres: { p99: 20, perSecond: 1000 } };
  const add = (store: 'pglite' | 'postgres', r: { p99: number; perSecond: number }) =>
    figures.push(
      {
        id: `webhook:${store}:p99`,
        what: `webhook p99, ${store}`,
        value: r.p99,
        unit: 'ms',
        goal: goals[store].p99,
        better: 'lower',
      },
      {
        id: `webhook:${store}:throughput`,
        what: `webhook throughput, ${store}`,
        value: r.perSecond,
        unit: '/s',
        goal: goals[store].perSecond,
        better: 'higher',
      },
    );
  add('pglite', await measure('PGlite state server (the npm start default)', undefined));
  await withScratchPostgres('webhook', async (url) => {
    add('postgres', await measure(`PostgreSQL (${url.host})`, url.toString()));
  });
  return figures;
}

async function measure(
  storeLabel: string,
  databaseUrl: string | undefined,
): Promise<{ p99: number; perSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-webhook-'));
  writeFileSync(join(dir, 'fc-devops.yaml'), CONFIG);
  const sandbox = await Sandbox.start({ port: 0, dir: join(dir, 'sandbox'), keys: SANDBOX_KEYS });
  const runtime = await LocalRuntime.start({
    template: resolve(import.meta.dirname, '../s.yaml'),
    port: 0,
    stateDir: join(dir, 'state'),
    ...(databaseUrl ? { databaseUrl } : {}),
    print: () => {},
    // The jobs the deliveries enqueue stay queued: on FC they run on other instances, here they would
    // take this machine's cores from the webhook being measured.
    dispatch: false,
    env: {
      FC_DEVOPS_CLOUD_URL: sandbox.url,
      FC_DEVOPS_CONFIG: join(dir, 'fc-devops.yaml'),
      BENCH_GIT_SECRET: SECRET,
    },
  });
  sandbox.attach({ runtime: invokeTarget(runtime), objects: bucketStore(runtime) });
  const send = async (branch: string): Promise<number> => {
    const body = payload(branch);
    const t = performance.now();
    const r = await fetch(`${runtime.url}/git-webhook/`, {
      method: 'POST',
      headers: githubHeaders(body, SECRET),
      body,
    });
    await r.arrayBuffer();
    if (r.status !== 202) throw new Error(`webhook answered ${r.status}`);
    return performance.now() - t;
  };
  try {
    for (let i = 0; i < 20; i++) await send('main'); // warm the instances
    console.log(
      `\nwebhook acknowledgement at the local runtime (signed GitHub push -> 202), store: ${storeLabel}`,
    );
    let p99 = 0;
    for (const [label, branch] of [
      ['one job enqueued', 'main'],
      ['no pipeline matches', 'feature'],
    ] as const) {
      const times: number[] = [];
      for (let i = 0; i < SEQUENTIAL; i++) times.push(await send(branch));
      times.sort((a, b) => a - b);
      if (branch === 'main') p99 = pct(times, 99);
      console.log(
        `  ${label.padEnd(22)} p50 ${pct(times, 50).toFixed(1).padStart(6)} ms   p99 ${pct(times, 99).toFixed(1).padStart(6)} ms   (${SEQUENTIAL} sequential)`,
      );
    }
    let next = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < PARALLEL) await send('main');
      }),
    );
    const perSecond = PARALLEL / ((performance.now() - t) / 1000);
    console.log(
      `  throughput             ${perSecond.toFixed(0).padStart(6)} deliveries/s (${CONCURRENCY} concurrent, each enqueuing a job)`,
    );
    return { p99, perSecond };
  } finally {
    await runtime.stop(2000);
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
