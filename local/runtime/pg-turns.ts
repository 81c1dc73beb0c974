// Turns on one PostgreSQL session shared by many connections: where a server's answer ends.

/**
 * Reads the server-to-client stream of the PostgreSQL wire protocol (after startup: a type byte and
 * an int32 length that counts itself) and reports each ReadyForQuery's transaction status: `I` idle,
 * `T` in a transaction, `E` in a failed one. Chunks may split a message anywhere.
 */
export class ReadyForQueryScanner {
  private header = Buffer.alloc(5);
  private headerBytes = 0;
  private type = 0;
  private remaining = 0;
  private wantStatus = false;

  /** The next `bytes` bytes are not framed (the one-byte answer to an SSLRequest). */
  skip(bytes: number): void {
    this.unframed += bytes;
  }

  private unframed = 0;

  /** The statuses of the ReadyForQuery messages that end in `chunk`, in order. */
  scan(chunk: Buffer): string[] {
    const statuses: string[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.unframed > 0) {
        const take = Math.min(this.unframed, chunk.length - i);
        this.unframed -= take;
        i += take;
        continue;
      }
      if (this.remaining > 0) {
        if (this.wantStatus) {
          statuses.push(String.fromCharCode(chunk[i]!));
          this.wantStatus = false;
        }
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      this.header[this.headerBytes++] = chunk[i++]!;
      if (this.headerBytes < 5) continue;
      this.headerBytes = 0;
      this.type = this.header[0]!;
      this.remaining = this.header.readInt32BE(1) - 4;
      this.wantStatus = this.type === 0x5a && this.remaining === 1; // 'Z', one status byte
    }
    return statuses;
  }
}

interface Sockets {
  pause(): unknown;
  resume(): unknown;
}

/** One connection's place in the turns: where its bytes go, and what it sent while waiting. */
export interface Conn {
  client: Sockets;
  upstream: { write(chunk: Buffer): unknown };
  held: Buffer[];
  gone: boolean;
}

/**
 * Whose turn it is on the one session: a connection that sends takes the turn (or waits for it,
 * its bytes held and its socket paused) and keeps it until `release` (its request answered, the
 * session idle) or `leave` (it went away).
 */
export class Turns {
  private holder: Conn | undefined;
  private readonly waiting: Conn[] = [];

  join(client: Sockets, upstream: Conn['upstream']): Conn {
    return { client, upstream, held: [], gone: false };
  }

  send(conn: Conn, chunk: Buffer): void {
    if (this.holder === undefined) this.holder = conn;
    if (this.holder === conn) {
      conn.upstream.write(chunk);
      return;
    }
    if (conn.held.length === 0) {
      this.waiting.push(conn);
      conn.client.pause();
    }
    conn.held.push(chunk);
  }

  release(conn: Conn): void {
    if (this.holder !== conn) return;
    this.holder = undefined;
    this.next();
  }

  leave(conn: Conn): void {
    conn.gone = true;
    conn.held = [];
    this.release(conn);
  }

  /** Whether anyone holds the turn or waits for it (tests). */
  get busy(): boolean {
    return this.holder !== undefined || this.waiting.length > 0;
  }

  private next(): void {
    for (let conn = this.waiting.shift(); conn; conn = this.waiting.shift()) {
      if (conn.gone) continue;
      this.holder = conn;
      for (const chunk of conn.held) conn.upstream.write(chunk);
      conn.held = [];
      conn.client.resume();
      return;
    }
  }
}
