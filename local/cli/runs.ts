import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../../shared/store/open.ts';
import { type Run, RunStatus, type Store } from '../../shared/store/port.ts';
import { isAlive } from '../runtime/state-dir.ts';
import { type RunSource, runsApi } from './runs-api.ts';
import { callRoute, operatorKey, operatorOptions } from './signed-call.ts';

/**
 * The store `fc-devops runs` reads: DATABASE_URL; else the running local runtime's (its URL is in
 * `<state>/state.url`); else the PGlite files under `<state>/state` when nothing runs.
 */
async function openCliStore(stateDir: string): Promise<Store> {
  if (process.env.DATABASE_URL) return openStore({ databaseUrl: process.env.DATABASE_URL });
  const urlFile = join(stateDir, 'state.url');
  if (existsSync(urlFile)) {
    const [url = '', pid = ''] = readFileSync(urlFile, 'utf8').trim().split('\n');
    try {
      return await openStore({ databaseUrl: url });
    } catch (error) {
      // Two PGlite instances on one directory would corrupt it: only open the files if their owner is gone.
      if (isAlive(Number(pid))) {
        throw new Error(
          `the local runtime (pid ${pid}) holds ${stateDir} but its state server did not answer: ${(error as Error).message}`,
        );
      }
    }
  }
  return openStore({ dir: join(stateDir, 'state') });
}

export const USAGE = `usage: fc-devops runs [--kind K] [--subject S] [--status S] [--limit N] [--cursor C] [--json] [--state .fc-devops | --url URL]
       fc-devops runs show <run-id> [--tail BYTES] [--follow] [--json] [--state .fc-devops | --url URL]
       fc-devops runs cancel <run-id> [--url URL]
  runs show         the run, its stages (with progress where known) and its log, every line timestamped
  --follow          keep printing the log and stage changes as they come, until the run ends
  runs cancel       ask a running run to stop (signed; the key needs the run action on "runs"): image
                    builds kill packer, Terraform is interrupted, a backup stops waiting for its task
Runs are read from the local runtime's store (DATABASE_URL, else the runtime dev runs on --state), or,
with --url (or $FC_DEVOPS_CONSOLE_URL), from a console's runs API with signed requests (a deployed
fc-devops: its store is inside a VPC). cancel always goes through the console: --url (default
$FC_DEVOPS_CONSOLE_URL, else the console of the local runtime). Signed with --key (default
$FC_DEVOPS_KEY_ID) and the secret from $FC_DEVOPS_KEY_SECRET (--secret-env NAME).`;

export async function runsCommand(args: string[]): Promise<number> {
  if (args[0] === 'cancel') return cancelCommand(args.slice(1));
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      follow: { type: 'boolean', default: false },
      url: { type: 'string', default: process.env.FC_DEVOPS_CONSOLE_URL },
      key: { type: 'string', default: process.env.FC_DEVOPS_KEY_ID },
      'secret-env': { type: 'string', default: 'FC_DEVOPS_KEY_SECRET' },
      kind: { type: 'string' },
      subject: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string', default: '20' },
      cursor: { type: 'string' },
      tail: { type: 'string' },
      state: { type: 'string', default: '.fc-devops' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.status && !RunStatus.includes(values.status as RunStatus)) {
    console.error(`--status must be one of ${RunStatus.join(', ')}`);
    return 2;
  }
  const [sub, id] = positionals;
  if (sub !== undefined && sub !== 'show') {
    console.error(USAGE);
    return 2;
  }
  let store: RunSource;
  if (values.url) {
    const key = operatorKey(values);
    if (typeof key === 'string') {
      console.error(key);
      return 2;
    }
    store = runsApi(values.url, key);
  } else store = await openCliStore(resolve(values.state));
  try {
    if (sub === 'show') {
      if (!id) {
        console.error(USAGE);
        return 2;
      }
      const run = await store.getRun(id);
      if (!run) {
        console.error(`no run ${id}`);
        return 1;
      }
      if (values.follow) return await follow(store, run);
      const log = await store.readRunLog(id, values.tail ? { tailBytes: Number(values.tail) } : {});
      if (values.json) {
        console.log(JSON.stringify({ ...run, log }, null, 2));
        return 0;
      }
      console.log(describe(run));
      for (const line of stageLines(run)) console.log(line);
      if (run.result !== null) console.log(`result: ${JSON.stringify(run.result)}`);
      if (run.error !== null) console.log(`error: ${JSON.stringify(run.error)}`);
      console.log(`log (${run.logBytes} bytes):`);
      process.stdout.write(log.endsWith('\n') || log === '' ? log : `${log}\n`);
      return 0;
    }
    const page = await store.listRuns({
      limit: Number(values.limit),
      ...(values.kind ? { kind: values.kind } : {}),
      ...(values.subject ? { subject: values.subject } : {}),
      ...(values.status ? { status: values.status as RunStatus } : {}),
      ...(values.cursor ? { cursor: values.cursor } : {}),
    });
    if (values.json) {
      console.log(JSON.stringify(page, null, 2));
      return 0;
    }
    if (page.runs.length === 0) console.log('no runs');
    for (const run of page.runs) console.log(describe(run));
    if (page.next) console.log(`more: fc-devops runs --cursor ${page.next}`);
    return 0;
  } finally {
    await store.close();
  }
}

/** Print the log as it grows and each stage as it starts or moves, until the run ends. */
async function follow(store: RunSource, first: Run): Promise<number> {
  console.log(describe(first));
  let run = first;
  let offset = 0;
  let seen = '';
  for (;;) {
    const stages = stageLines(run).join('\n');
    if (stages !== seen) {
      // Only what changed since the last look: a new stage, or progress in the current one.
      const before = seen.split('\n');
      for (const line of stages.split('\n')) if (line && !before.includes(line)) console.log(line);
      seen = stages;
    }
    const chunk = await store.readRunLogFrom(run.id, offset);
    if (chunk.text) process.stdout.write(chunk.text);
    offset = chunk.next;
    if (run.status !== 'running' && run.status !== 'queued') break;
    await new Promise((r) => setTimeout(r, 1000));
    run = (await store.getRun(run.id)) ?? run;
  }
  console.log(describe(run));
  if (run.error !== null) console.log(`error: ${JSON.stringify(run.error)}`);
  return run.status === 'succeeded' ? 0 : 1;
}

function stageLines(run: Run): string[] {
  return run.stages.map((s) => {
    const end = s.endedAt ?? run.finishedAt?.toISOString();
    const took = end ? ` ${((Date.parse(end) - Date.parse(s.startedAt)) / 1000).toFixed(1)}s` : ' …';
    return `  stage ${s.name.padEnd(10)} ${s.startedAt}${took}${s.progress !== undefined ? ` ${s.progress}%` : ''}${s.detail ? `  ${s.detail}` : ''}`;
  });
}

async function cancelCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: operatorOptions('FC_DEVOPS_CONSOLE_URL', 'console'),
  });
  const [id] = positionals;
  if (!id || positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  return callRoute(
    'runs',
    'cancel',
    { cancel: { method: 'POST', path: `/api/runs/${id}/cancel`, body: {} } },
    USAGE,
    values,
  );
}

function describe(run: Run): string {
  const took =
    run.finishedAt && run.startedAt
      ? ` ${((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1)}s`
      : '';
  return `${run.id}  ${run.createdAt.toISOString()}  ${run.status.padEnd(9)} ${run.kind}  ${run.subject}  attempt ${run.attempt}${took}`;
}
