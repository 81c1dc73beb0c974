import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPglite } from '../../shared/store/engines/pglite.ts';
import { LATEST_VERSION, migrate } from '../../shared/store/migrations.ts';
import { openStore } from '../../shared/store/open.ts';
import { storeContract } from './contract.ts';

storeContract('PGlite', async () => {
  let t = Date.parse('2026-11-27T10:00:00Z');
  const store = await openStore({ now: () => new Date(t) });
  return { store, advance: (ms) => (t += ms) };
});

describe('PGlite engine', () => {
  it('persists under its directory across restarts', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pglite-')), 'state');
    const first = await openStore({ dir });
    const run = await first.createRun({ kind: 'k', subject: 's' });
    await first.appendRunLog(run.id, 'hello');
    await first.close();
    const second = await openStore({ dir });
    expect(await second.readRunLog(run.id)).toBe('hello');
    expect(second.engine).toBe('pglite');
    await second.close();
  });

  it('keeps the audit log append-only even against direct SQL', async () => {
    const db = await openPglite();
    await migrate(db);
    await db.query(
      "insert into audit (at, actor, action, target, decision) values (now(), $1, 'b', 'c', 'd')",
      ['a'],
    );
    await expect(db.query("update audit set decision = 'allowed' where actor = $1", ['a'])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query('delete from audit where actor = $1', ['a'])).rejects.toThrow(/append-only/);
    await db.close();
  });

  it('refuses a schema newer than it knows, and a damaged one', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pglite-')), 'state');
    (await openStore({ dir })).close();
    const db = await openPglite(dir);
    await db.query('insert into fc_devops_schema (version, name) values ($1, $2)', [
      LATEST_VERSION + 1,
      'from the future',
    ]);
    await db.close();
    await expect(openStore({ dir })).rejects.toThrow(
      `schema version ${LATEST_VERSION + 1}, newer than this build of fc-devops knows (${LATEST_VERSION})`,
    );

    const dir2 = join(mkdtempSync(join(tmpdir(), 'pglite-')), 'state');
    await (await openStore({ dir: dir2 })).close();
    const db2 = await openPglite(dir2);
    await db2.query('drop table run_logs');
    await db2.close();
    await expect(openStore({ dir: dir2 })).rejects.toThrow(
      /damaged: schema version 1 is recorded but table run_logs is missing/,
    );
  });
});
