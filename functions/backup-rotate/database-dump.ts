import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpstreamError } from '../../shared/runtime/errors.ts';
import { toolEnv } from '../../shared/tools/layer-env.ts';
import { builtin } from '../../shared/util/builtin.ts';

// Loaded by the first dump or load: rotations, drills of RDS and HTTP reads never spawn or gzip.
const childProcess = builtin<typeof import('node:child_process')>('node:child_process');
const streams = builtin<typeof import('node:stream/promises')>('node:stream/promises');
const zlib = builtin<typeof import('node:zlib')>('node:zlib');

export type Engine = 'postgres' | 'mysql';

/** Binaries come from PATH, with an FC layer's /opt/bin (and its libraries) first. */
const env = () => toolEnv();

interface Target {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  database: string;
}

/** How to reach a database with the command-line clients; passwords travel in the environment only. */
function connect(engine: Engine, url: string, tool: 'dump' | 'client', database?: string): Target {
  const u = new URL(url);
  const db = database ?? decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (engine === 'postgres') {
    const e: NodeJS.ProcessEnv = {
      ...env(),
      PGHOST: u.hostname,
      PGPORT: u.port || '5432',
      PGUSER: decodeURIComponent(u.username || 'postgres'),
      PGDATABASE: db,
    };
    if (u.password) e.PGPASSWORD = decodeURIComponent(u.password);
    return tool === 'dump'
      ? { command: 'pg_dump', args: ['--no-owner', '--no-privileges'], env: e, database: db }
      : { command: 'psql', args: ['-v', 'ON_ERROR_STOP=1', '-q', '-X'], env: e, database: db };
  }
  const e = { ...env(), ...(u.password ? { MYSQL_PWD: decodeURIComponent(u.password) } : {}) };
  const common = ['-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username || 'root')];
  return tool === 'dump'
    ? {
        command: 'mysqldump',
        args: [...common, '--single-transaction', '--routines', '--triggers', db],
        env: e,
        database: db,
      }
    : { command: 'mysql', args: [...common, db], env: e, database: db };
}

function run(target: Target, input?: NodeJS.ReadableStream, extra: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(target.command, [...target.args, ...extra], {
      env: target.env,
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.on('error', (e) =>
      reject(new UpstreamError(target.command, `cannot run (${e.message})`, { retryable: false })),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new UpstreamError(target.command, `exited ${code}: ${err.trim().slice(-500)}`, {
              retryable: false,
            }),
          ),
    );
    if (input && child.stdin) {
      input.on('error', (e: Error) => {
        child.kill();
        reject(new UpstreamError(target.command, `its input failed: ${e.message}`, { retryable: false }));
      });
      input.pipe(child.stdin);
    }
  });
}

/**
 * Dump a database with pg_dump or mysqldump, streamed through gzip into a temporary file (memory
 * stays flat however big the database), with the SHA-256 of the compressed bytes.
 */
export async function dumpDatabase(
  engine: Engine,
  url: string,
): Promise<{ file: string; sha256: string; bytes: number; cleanup: () => void }> {
  const target = connect(engine, url, 'dump');
  const dir = mkdtempSync(join(tmpdir(), 'fcd-dump-'));
  const file = join(dir, 'dump.sql.gz');
  const child = childProcess().spawn(
    target.command,
    [...target.args, ...(engine === 'postgres' ? [target.database] : [])],
    {
      env: target.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (e) =>
      reject(new UpstreamError(target.command, `cannot run (${e.message})`, { retryable: false })),
    );
    child.on('close', resolve);
  });
  const hash = createHash('sha256');
  let bytes = 0;
  const gzip = zlib().createGzip();
  gzip.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  await Promise.all([streams().pipeline(child.stdout, gzip, createWriteStream(file)), exited]);
  const code = await exited;
  if (code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new UpstreamError(target.command, `exited ${code}: ${err.trim().slice(-500)}`, { retryable: true });
  }
  return {
    file,
    sha256: hash.digest('hex'),
    bytes,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Restore a gzip dump into a new scratch database on the same server, run the check query there,
 * and drop the scratch database whatever happened. Returns the check's output.
 */
export async function restoreAndCheck(
  engine: Engine,
  url: string,
  /** The gzip dump's file, streamed into the client. */
  dump: string,
  check: string,
): Promise<{ output: string; scratch: string }> {
  const scratch = `fcd_drill_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = connect(engine, url, 'client', engine === 'postgres' ? 'postgres' : '');
  const create = engine === 'postgres' ? `CREATE DATABASE ${scratch}` : `CREATE DATABASE \`${scratch}\``;
  const drop =
    engine === 'postgres'
      ? `DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`
      : `DROP DATABASE IF EXISTS \`${scratch}\``;
  const exec = (t: Target, sql: string) =>
    run(t, undefined, engine === 'postgres' ? ['-c', sql] : ['-N', '-e', sql]);
  await exec(admin, create);
  try {
    const into = connect(engine, url, 'client', scratch);
    const gunzip = zlib().createGunzip();
    const source = createReadStream(dump);
    // A read or gunzip failure ends the restore with its message (never an unhandled stream error).
    source.on('error', (error) => gunzip.destroy(error));
    await run(into, source.pipe(gunzip));
    const output = (
      await run(into, undefined, engine === 'postgres' ? ['-tA', '-c', check] : ['-N', '-e', check])
    ).trim();
    if (!output)
      throw new UpstreamError('check', `the check query returned nothing: ${check}`, { retryable: false });
    return { output, scratch };
  } finally {
    await exec(admin, drop).catch(() => {});
  }
}

/** Run a check query against a database; an error or an empty answer fails the check. */
export async function runCheck(engine: Engine, url: string, sql: string): Promise<string> {
  const target = connect(engine, url, 'client');
  const output = (
    await run(target, undefined, engine === 'postgres' ? ['-tA', '-c', sql] : ['-N', '-e', sql])
  ).trim();
  if (!output)
    throw new UpstreamError('check', `the check query returned nothing: ${sql}`, { retryable: false });
  return output;
}
