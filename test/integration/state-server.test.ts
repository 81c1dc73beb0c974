import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadyForQueryScanner, Turns } from '../../local/runtime/pg-turns.ts';
import { WireSession } from '../../local/runtime/pglite-wire.ts';
import type { StateServer } from '../../local/runtime/state-server.ts';
import { startStateServerThread } from '../../local/runtime/state-thread.ts';
import { connectPostgres } from '../../shared/store/engines/postgres.ts';

const message = (type: string, body: Buffer) => {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
};

describe('ReadyForQuery scanner', () => {
  it('finds each ReadyForQuery status however the stream is cut, past an unframed SSL answer', () => {
    const stream = Buffer.concat([
      Buffer.from('N'), // the answer to an SSLRequest
      message('R', Buffer.alloc(4)),
      message('S', Buffer.from('client_encoding\0UTF8\0')),
      message('Z', Buffer.from('I')),
      message('1', Buffer.alloc(0)),
      message('D', Buffer.from('Z\0\0\0\x05T')), // a row that looks like a ReadyForQuery inside
      message('C', Buffer.from('BEGIN\0')),
      message('Z', Buffer.from('T')),
      message('Z', Buffer.from('E')),
      message('Z', Buffer.from('I')),
    ]);
    for (const size of [1, 2, 3, 5, 7, 64, stream.length]) {
      const scanner = new ReadyForQueryScanner();
      scanner.skip(1);
      const seen: string[] = [];
      for (let i = 0; i < stream.length; i += size) seen.push(...scanner.scan(stream.subarray(i, i + size)));
      expect(seen, `chunks of ${size}`).toEqual(['I', 'T', 'E', 'I']);
    }
  });
});

describe('turns on one session', () => {
  const conn = (turns: Turns, log: string[], name: string) => {
    const sockets = {
      paused: false,
      pause: () => (sockets.paused = true),
      resume: () => (sockets.paused = false),
    };
    return { sockets, conn: turns.join(sockets, { write: (c: Buffer) => log.push(`${name}:${c}`) }) };
  };

  it('lets one connection send at a time, holds the others bytes in order, and skips one that left', () => {
    const turns = new Turns();
    const log: string[] = [];
    const a = conn(turns, log, 'a');
    const b = conn(turns, log, 'b');
    const c = conn(turns, log, 'c');
    turns.send(a.conn, Buffer.from('1'));
    turns.send(b.conn, Buffer.from('2'));
    turns.send(b.conn, Buffer.from('3'));
    turns.send(c.conn, Buffer.from('4'));
    turns.send(a.conn, Buffer.from('5')); // a holds the turn (in a transaction): straight through
    expect(log).toEqual(['a:1', 'a:5']);
    expect([b.sockets.paused, c.sockets.paused]).toEqual([true, true]);
    turns.leave(c.conn);
    turns.release(b.conn); // not b's turn: nothing happens
    expect(log).toEqual(['a:1', 'a:5']);
    turns.release(a.conn);
    expect(log).toEqual(['a:1', 'a:5', 'b:2', 'b:3']);
    expect(b.sockets.paused).toBe(false);
    turns.release(b.conn);
    expect(log).toHaveLength(4); // c left: its held bytes are dropped
    expect(turns.busy).toBe(false);
  });
});

describe('the local state server (PGlite over the wire protocol, in its own thread)', () => {
  let dir: string;
  let server: StateServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'state-server-'));
    server = await startStateServerThread(dir);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves many kept-open connections at once without mixing their parameters or transactions', async () => {
    const clients = await Promise.all(Array.from({ length: 12 }, () => connectPostgres(server.url)));
    await clients[0]!.query('create table turns (client int, n int, note text)');
    await Promise.all(
      clients.map(async (db, c) => {
        for (let n = 0; n < 15; n++) {
          // Parameters of every type, and a transaction whose rows only its client sees until commit.
          await db.transaction(async (tx) => {
            await tx.query('insert into turns values ($1, $2, $3)', [c, n, `client ${c} row ${n}`]);
            const [row] = await tx.query<{ count: number }>(
              'select count(*)::int as count from turns where client = $1',
              [c],
            );
            expect(row!.count).toBe(n + 1);
          });
          const [echo] = await db.query<{ a: number; b: string }>('select $1::int as a, $2::text as b', [
            c * 100 + n,
            `c${c}`,
          ]);
          expect(echo).toEqual({ a: c * 100 + n, b: `c${c}` });
        }
      }),
    );
    const rows = await clients[0]!.query<{ client: number; count: number; notes: number }>(
      `select client, count(*)::int as count, count(distinct note)::int as notes from turns group by client order by client`,
    );
    expect(rows).toEqual(Array.from({ length: 12 }, (_, c) => ({ client: c, count: 15, notes: 15 })));
    // A transaction rolled back by an error leaves the session idle for the next connection.
    await expect(
      clients[1]!.transaction(async (tx) => {
        await tx.query('insert into turns values (99, 0, $1)', ['gone']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await clients[2]!.query('select * from turns where client = 99')).toEqual([]);
    await Promise.all(clients.map((db) => db.close()));
  }, 120_000);

  it('rolls back what a connection that went away mid-transaction left open', async () => {
    const url = server.url.replace('?fcdevops_serial=1', '');
    const quitter = new pg.Client({ connectionString: url });
    quitter.on('error', () => {}); // its own end, below
    await quitter.connect();
    await quitter.query('create table if not exists left_open (n int)');
    await quitter.query('begin');
    await quitter.query('insert into left_open values (1)');
    quitter.connection.stream.destroy(); // gone without a word
    const next = await connectPostgres(server.url);
    const rows = await next.query('select * from left_open');
    expect(rows).toEqual([]);
    await next.close();
  }, 60_000);
});

describe('the state thread', () => {
  it('writes the URL the CLI reads, and removes it when stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-thread-'));
    try {
      const server = await startStateServerThread(dir);
      expect(readFileSync(join(dir, 'state.url'), 'utf8').split('\n').slice(0, 2)).toEqual([
        server.url,
        String(process.pid),
      ]);
      const db = await connectPostgres(server.url);
      expect(await db.query<{ one: number }>('select 1::int as one')).toEqual([{ one: 1 }]);
      await db.close();
      await server.stop();
      expect(() => readFileSync(join(dir, 'state.url'))).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('fails its start with the reason when the state directory cannot hold a database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-thread-'));
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, 'x');
    try {
      await expect(startStateServerThread(file)).rejects.toThrow(/not-a-directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('a wire session on PGlite', () => {
  const startup = () => {
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + params.length, 0);
    head.writeInt32BE(196608, 4);
    return Buffer.concat([head, params]);
  };
  const sslRequest = () => {
    const b = Buffer.alloc(8);
    b.writeInt32BE(8, 0);
    b.writeInt32BE(80877103, 4);
    return b;
  };
  const query = (sql: string) => message('Q', Buffer.from(`${sql}\0`));

  it("answers an SSLRequest with N, runs messages cut anywhere, and reports each batch's last status", async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create();
    const replies: { answer: Buffer; status: string | undefined }[] = [];
    const failures: Error[] = [];
    let heard: (() => void) | undefined;
    const session = new WireSession(
      db,
      (answer, status) => {
        replies.push({ answer, status });
        heard?.();
      },
      (e) => failures.push(e),
    );
    const replyCount = (n: number) =>
      new Promise<void>((resolve) => {
        heard = () => replies.length >= n && resolve();
        heard();
      });
    const turn = () => new Promise((r) => setImmediate(r));
    // One byte at a time, with the event loop turning between them: nothing runs until a message is whole.
    for (const byte of sslRequest()) {
      expect(replies).toHaveLength(0);
      session.write(Buffer.from([byte]));
      await turn();
    }
    await replyCount(1);
    expect(replies[0]).toEqual({ answer: Buffer.from('N'), status: undefined });
    for (const byte of startup()) {
      expect(replies).toHaveLength(1);
      session.write(Buffer.from([byte]));
      await turn();
    }
    await replyCount(2);
    expect(replies[1]!.status).toBe('I');
    expect(replies[1]!.answer[0]).toBe(0x52); // AuthenticationOk ('R') first
    session.write(Buffer.concat([query('begin'), query("select 'a' || 'b' as ab")]));
    await replyCount(3);
    expect(replies).toHaveLength(3); // two queries, one batch, one write
    expect(replies[2]!.status).toBe('T');
    expect(replies[2]!.answer.includes(Buffer.from('ab'))).toBe(true);
    // Gone mid-transaction: closing ends it, so the session is idle for the next connection.
    await session.close();
    expect(db.isInTransaction()).toBe(false);
    expect(failures).toEqual([]);
    await db.close();
  }, 60_000);

  it('runs a whole pipeline of extended-protocol messages in order, an error skipping only to its Sync', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create();
    const answers: Buffer[] = [];
    const statuses: (string | undefined)[] = [];
    let heard: (() => void) | undefined;
    const session = new WireSession(
      db,
      (answer, status) => {
        answers.push(answer);
        statuses.push(status);
        heard?.();
      },
      (e) => {
        throw e;
      },
    );
    const replies = (n: number) =>
      new Promise<void>((resolve) => {
        heard = () => answers.length >= n && resolve();
        heard();
      });
    session.write(startup());
    await replies(1);
    const cstr = (text: string) => Buffer.from(`${text}\0`);
    const parse = (sql: string) => message('P', Buffer.concat([cstr(''), cstr(sql), Buffer.from([0, 0])]));
    const bind = (value: string) => {
      const length = Buffer.alloc(4);
      length.writeInt32BE(Buffer.byteLength(value));
      return message(
        'B',
        Buffer.concat([
          cstr(''),
          cstr(''),
          Buffer.from([0, 0, 0, 1]),
          length,
          Buffer.from(value),
          Buffer.from([0, 0]),
        ]),
      );
    };
    const describePortal = message('D', Buffer.concat([Buffer.from('P'), cstr('')]));
    const execute = message('E', Buffer.concat([cstr(''), Buffer.alloc(4)]));
    const sync = message('S', Buffer.alloc(0));
    // Two queries as pg pipelines them, in one write: the first fails at Parse, so its Bind and
    // Execute are skipped up to its Sync; the second runs with its own parameter.
    session.write(
      Buffer.concat([
        parse('select no_such_column'),
        bind('x'),
        execute,
        sync,
        parse("select $1::text || '!' as shout"),
        bind('hey'),
        describePortal,
        execute,
        sync,
      ]),
    );
    await replies(2);
    const answer = answers[1]!;
    const types: string[] = [];
    for (let i = 0; i < answer.length; i += 1 + answer.readInt32BE(i + 1))
      types.push(String.fromCharCode(answer[i]!));
    // ParameterStatus ('S') may come at any time (PGlite reports its settings again after an error).
    expect(types.filter((t) => t !== 'S')).toEqual(['E', 'Z', '1', '2', 'T', 'D', 'C', 'Z']);
    expect(answer.includes(Buffer.from('no_such_column'))).toBe(true);
    expect(answer.includes(Buffer.from('hey!'))).toBe(true);
    expect(statuses[1]).toBe('I');
    await session.close();
    await db.close();
  }, 60_000);
});
