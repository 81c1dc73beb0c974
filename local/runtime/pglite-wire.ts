import type { PGlite } from '@electric-sql/pglite';
import { ReadyForQueryScanner } from './pg-turns.ts';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]); // 'S', length 4

/**
 * One client connection's bytes run by PGlite's wire protocol directly (no loopback server in
 * between): whole messages in order, and each batch's answers written back in one write. Under load
 * the writes were the cost: a socket write that wakes another thread costs this kind of machine
 * 0.3-0.8 ms of CPU, and the socket server answered each message of a query with writes of its own.
 * Whose turn it is on the one session is decided before bytes get here (pg-turns.ts).
 */
export class WireSession {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private busy: Promise<void> = Promise.resolve();
  private readonly scanner = new ReadyForQueryScanner();
  /** Whether the session may be left mid-request or in a transaction by this connection. */
  private dirty = false;

  /** `reply` gets each batch of answers and the status of its last ReadyForQuery (`I` idle, `T`, `E`), if any. */
  constructor(
    private readonly db: PGlite,
    private readonly reply: (answer: Buffer, status: string | undefined) => void,
    private readonly fail: (error: Error) => void,
  ) {}

  write(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    this.busy = this.busy.then(() => this.drain()).catch((error: Error) => this.fail(error));
  }

  /**
   * The client went away: once what it sent has run, a request it left open is ended (a Sync) and a
   * transaction it left open rolled back, so the next connection finds the session idle.
   */
  async close(): Promise<void> {
    await this.busy;
    this.buffer = Buffer.alloc(0);
    if (!this.dirty) return;
    await this.db.runExclusive(() => this.db.execProtocolRaw(SYNC));
    // exec takes the session's lock itself: outside runExclusive, or it waits for itself.
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.dirty = false;
  }

  private async drain(): Promise<void> {
    const answers: Uint8Array[] = [];
    for (;;) {
      const b = this.buffer;
      if (!this.started && b.length >= 8) {
        const length = b.readInt32BE(0);
        const code = b.readInt32BE(4);
        // SSLRequest and GSSENCRequest: one unframed 'N' (no encryption on loopback); cancels are ignored.
        if (length === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
          answers.push(Buffer.from('N'));
          this.scanner.skip(1);
          this.buffer = b.subarray(8);
          continue;
        }
        if (length === 16 && code === CANCEL_REQUEST) {
          this.buffer = b.subarray(16);
          continue;
        }
      }
      // The startup message has no type byte; every later one does.
      const size = this.started
        ? b.length >= 5
          ? 1 + b.readInt32BE(1)
          : 0
        : b.length >= 4
          ? b.readInt32BE(0)
          : 0;
      if (size === 0 || b.length < size) break;
      const message = new Uint8Array(b.subarray(0, size));
      this.buffer = b.subarray(size);
      this.started = true;
      this.dirty = true;
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(message, { onRawData: (data) => answers.push(Buffer.from(data)) }),
      );
    }
    if (answers.length === 0) return;
    const answer = Buffer.concat(answers);
    // The last ReadyForQuery says where the session stands: idle ('I') is clean.
    const status = this.scanner.scan(answer).at(-1);
    if (status) this.dirty = status !== 'I';
    this.reply(answer, status);
  }
}
