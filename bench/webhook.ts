import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
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

/** CPU time of the local PostgreSQL server's processes so far, in ms (Linux /proc; 0 elsewhere). */
function postgresCpuMs(): number {
  let ticks = 0;
  try {
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      } catch {
        // The process ended meanwhile.
      }
    }
  } catch {
    return 0;
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** CPU time of this process's main thread so far, in ms (Linux /proc; 0 elsewhere): the runtime's own thread. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
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
  // BENCH_WEBHOOK_STORES=postgres measures one store only (for profiling).
  const stores = (process.env.BENCH_WEBHOOK_STORES ?? 'pglite,postgres').split(',');
  if (stores.includes('pglite'))
    add('pglite', await measure('PGlite state server (the npm start default)', undefined));
  if (stores.includes('postgres'))
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
  // Requests are signed here, before the clock starts; a worker thread sends them.
  const client = new Worker(new URL('./webhook-client.mjs', import.meta.url));
  const send = async (branch: string, count: number, concurrency: number) => {
    const requests = Array.from({ length: count }, () => {
      const body = payload(branch);
      return { body, headers: githubHeaders(body, SECRET) };
    });
    client.postMessage({ url: `${runtime.url}/git-webhook/`, requests, concurrency });
    const [reply] = (await once(client, 'message')) as [
      { times: number[]; elapsedMs: number; failures: string[] },
    ];
    if (reply.failures.length) throw new Error(`webhook: ${reply.failures.join('; ')}`);
    return { sorted: [...reply.times].sort((a, b) => a - b), perSecond: count / (reply.elapsedMs / 1000) };
  };
  try {
    // Warm as many instances as the concurrent run will use: their cold starts are not the webhook's.
    await send('main', CONCURRENCY * 3, CONCURRENCY);
    console.log(
      `\nwebhook acknowledgement at the local runtime (signed GitHub push -> 202), store: ${storeLabel}`,
    );
    let p99 = 0;
    for (const [label, branch] of [
      ['one job enqueued', 'main'],
      ['no pipeline matches', 'feature'],
    ] as const) {
      const { sorted: times } = await send(branch, SEQUENTIAL, 1);
      if (branch === 'main') p99 = pct(times, 99);
      console.log(
        `  ${label.padEnd(22)} p50 ${pct(times, 50).toFixed(1).padStart(6)} ms   p99 ${pct(times, 99).toFixed(1).padStart(6)} ms   (${SEQUENTIAL} sequential)`,
      );
    }
    const cpu = process.cpuUsage();
    const pgCpu = postgresCpuMs();
    const mainCpu = mainThreadCpuMs();
    const { perSecond, sorted } = await send('main', PARALLEL, CONCURRENCY);
    const used = process.cpuUsage(cpu);
    const mainUsed = mainThreadCpuMs() - mainCpu;
    console.log(
      `  throughput             ${perSecond.toFixed(0).padStart(6)} deliveries/s (${CONCURRENCY} concurrent, each enqueuing a job; p99 ${pct(sorted, 99).toFixed(1)} ms)`,
    );
    // Where the two cores went: this process (sender, runtime, sandbox, function instances) and the
    // PostgreSQL server's processes.
    console.log(
      `  CPU per delivery       ${((used.user + used.system) / 1000 / PARALLEL).toFixed(2)} ms in this process (the sender's thread included; ${(mainUsed / PARALLEL).toFixed(2)} ms of it on the runtime's thread: HTTP triggers, the sandbox's FC API, the queue), ${((postgresCpuMs() - pgCpu) / PARALLEL).toFixed(2)} ms in PostgreSQL`,
    );
    return { p99, perSecond };
  } finally {
    await client.terminate();
    await runtime.stop(2000);
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
