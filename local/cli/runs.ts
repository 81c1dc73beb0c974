import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../../shared/store/open.ts';
import { type Run, RunStatus, type Store } from '../../shared/store/port.ts';
import { isAlive } from '../runtime/state-dir.ts';

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

const USAGE = `usage: fc-devops runs [--kind K] [--subject S] [--status S] [--limit N] [--cursor C] [--state .fc-devops]
       fc-devops runs show <run-id> [--tail BYTES] [--state .fc-devops]`;

export async function runsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
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
  const store = await openCliStore(resolve(values.state));
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
      const log = await store.readRunLog(id, values.tail ? { tailBytes: Number(values.tail) } : {});
      if (values.json) {
        console.log(JSON.stringify({ ...run, log }, null, 2));
        return 0;
      }
      console.log(describe(run));
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

function describe(run: Run): string {
  const took =
    run.finishedAt && run.startedAt
      ? ` ${((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1)}s`
      : '';
  return `${run.id}  ${run.createdAt.toISOString()}  ${run.status.padEnd(9)} ${run.kind}  ${run.subject}  attempt ${run.attempt}${took}`;
}
