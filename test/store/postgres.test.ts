import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/runtime/errors.ts';
import { connectPostgres } from '../../shared/store/engines/postgres.ts';
import { acquireLock, releaseLock } from '../../shared/store/locks.ts';
import { LATEST_VERSION, MIGRATION_LOCK, MIGRATIONS } from '../../shared/store/migrations.ts';
import { openStore } from '../../shared/store/open.ts';
import type { SqlClient } from '../../shared/store/sql.ts';
import { until } from '../helpers.ts';
import { storeContract } from './contract.ts';

/** The PostgreSQL server on this machine (CI starts it); each test gets a database of its own. */
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const created: string[] = [];

async function freshDatabase(): Promise<string> {
  const name = `fcd_test_${process.pid}_${created.length}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  created.push(name);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  for (const name of created) await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
});

storeContract('PostgreSQL', async () => {
  let t = Date.parse('2026-11-27T10:00:00Z');
  const store = await openStore({ databaseUrl: await freshDatabase(), now: () => new Date(t) });
  return { store, advance: (ms) => (t += ms) };
});

describe('PostgreSQL engine', () => {
  it('migrates safely when several instances start at once', async () => {
    const url = await freshDatabase();
    const stores = await Promise.all(Array.from({ length: 6 }, () => openStore({ databaseUrl: url })));
    expect(stores.every((s) => s.engine === 'postgres')).toBe(true);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('select version from fc_devops_schema order by version');
    await client.end();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    await Promise.all(stores.map((s) => s.close()));
  });

  it('opens an up-to-date database without waiting for the migration lock, and still refuses a damaged one', async () => {
    const url = await freshDatabase();
    await (await openStore({ databaseUrl: url })).close();
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      // Another instance holds the migration lock (a long migration): a database already at the
      // latest version opens anyway, with one read instead of queueing behind it.
      await other.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const store = await openStore({ databaseUrl: url });
      await store.close();
      await other.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);

      // A table of the same name in another schema is not the store's table.
      await other.query('create schema elsewhere; create table elsewhere.run_logs (id int)');
      await other.query('drop table run_logs');
      await expect(openStore({ databaseUrl: url })).rejects.toThrow(
        /damaged: schema version 1 is recorded but table run_logs is missing/,
      );
      await other.query(
        `delete from fc_devops_schema where version = ${LATEST_VERSION}; insert into fc_devops_schema (version, name) values (${LATEST_VERSION + 1}, 'from the future')`,
      );
      await expect(openStore({ databaseUrl: url })).rejects.toThrow(
        `schema version ${LATEST_VERSION + 1}, newer than this build of fc-devops knows (${LATEST_VERSION})`,
      );
    } finally {
      await other.end();
    }
  });

  it('never gives an acquire that stalled behind another transaction a smaller token than a holder that came and went', async () => {
    const url = await freshDatabase();
    let t = Date.parse('2026-11-27T10:00:00Z');
    const store = await openStore({ databaseUrl: url, now: () => new Date(t) });
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    // The second connection runs the store's own statements inside a transaction it holds open.
    const inTx: SqlClient = {
      engine: 'postgres',
      query: async (text, params) => (await other.query(text, params as unknown[])).rows,
      transaction: (fn) => fn(inTx),
      close: async () => {},
    };
    try {
      const first = await store.acquireLock('release:web', { owner: 'first', ttlMs: 1000 });
      expect(first.acquired).toBe(true);
      t += 2000;
      // The other connection holds the lock's row in an open transaction (the stall) ...
      await other.query('begin');
      await other.query('select name from locks where name = $1 for update', ['release:web']);
      // ... so this acquire waits for it,
      const stalled = store.acquireLock('release:web', { owner: 'stalled', ttlMs: 60_000 });
      await until(async () => {
        const { rows } = await other.query(
          "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        );
        return rows[0].n > 0 || undefined;
      });
      // ... while a newer holder takes the lock and gives it back inside that transaction.
      const newer = await acquireLock(inTx, new Date(t), 'release:web', { owner: 'newer', ttlMs: 60_000 });
      if (!newer.acquired) throw new Error('newer holder did not get the lock');
      expect(await releaseLock(inTx, { lock: 'release:web', owner: 'newer', token: newer.token })).toBe(true);
      await other.query('commit');
      const got = await stalled;
      if (!got.acquired || !first.acquired) throw new Error('stalled acquire did not get the released lock');
      expect(newer.token).toBeGreaterThan(first.token);
      expect(got.token).toBeGreaterThan(newer.token);
    } finally {
      await other.end();
      await store.close();
    }
  });

  it('fails fast at cold start naming the host of an unreachable DATABASE_URL', async () => {
    const error = await openStore({ databaseUrl: 'postgres://fc:secret-pw@127.0.0.1:1/state' }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/DATABASE_URL cannot use the state database at 127\.0\.0\.1:1\/state/);
    expect(error.message).not.toContain('secret-pw');
  });

  it('gives up on a server that accepts but never answers, instead of hanging', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    const error = await openStore({ databaseUrl: `postgres://fc@127.0.0.1:${port}/state` }).catch((e) => e);
    silent.close();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`127.0.0.1:${port}/state`);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("refuses a wrong database name with the server's reason", async () => {
    const url = new URL(ADMIN_URL);
    url.pathname = '/fcd_does_not_exist';
    await expect(openStore({ databaseUrl: url.toString() })).rejects.toThrow(
      /database "fcd_does_not_exist" does not exist/,
    );
  });

  describe('prepared statements', () => {
    /** The statements this connection has prepared, read on the connection itself. */
    const prepared = (db: SqlClient, probe: string) =>
      db.transaction(async (tx) => {
        await tx.query(probe, [1]);
        await tx.query(probe, [2]);
        return tx.query<{ name: string; statement: string }>(
          'select name, statement from pg_prepared_statements where statement = $1',
          [probe],
        );
      });

    it('prepares a statement with parameters once per connection, under one name', async () => {
      const db = await connectPostgres(await freshDatabase(), { max: 1 });
      try {
        const rows = await prepared(db, 'select $1::int as n');
        expect(rows).toEqual([
          { name: expect.stringMatching(/^fcd_\d+$/), statement: 'select $1::int as n' },
        ]);
        expect(await db.query('select $1::int + 1 as n', [41])).toEqual([{ n: 42 }]);
      } finally {
        await db.close();
      }
    });

    it('prepares nothing with fcdevops_prepare=0 (a pooler in transaction mode in between)', async () => {
      const url = new URL(await freshDatabase());
      url.searchParams.set('fcdevops_prepare', '0');
      const db = await connectPostgres(url.toString(), { max: 1 });
      try {
        expect(await prepared(db, 'select $1::int as n')).toEqual([]);
      } finally {
        await db.close();
      }
    });

    it('runs a prepared statement again after another instance changed its table', async () => {
      const url = await freshDatabase();
      const db = await connectPostgres(url, { max: 1 });
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await db.query('create table widgets (id int primary key)', []);
        await db.query('insert into widgets values (1)', []);
        const select = 'select * from widgets where id = $1';
        expect(await db.query(select, [1])).toEqual([{ id: 1 }]);
        // A newer instance's migration, on its own connection: the prepared `select *` is now stale.
        await other.query("alter table widgets add column label text not null default 'w'");
        expect(await db.query(select, [1])).toEqual([{ id: 1, label: 'w' }]);

        // Inside a transaction the refusal has aborted it: it is reported, and the next one runs.
        const returning = 'update widgets set id = id where id = $1 returning *';
        expect(await db.transaction((tx) => tx.query(returning, [1]))).toEqual([{ id: 1, label: 'w' }]);
        await other.query('alter table widgets add column size int');
        await expect(db.transaction((tx) => tx.query(returning, [1]))).rejects.toMatchObject({
          code: '0A000',
        });
        expect(await db.transaction((tx) => tx.query(returning, [1]))).toEqual([
          { id: 1, label: 'w', size: null },
        ]);
      } finally {
        await other.end();
        await db.close();
      }
    });
  });
});
