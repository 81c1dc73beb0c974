import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

/**
 * An append-only file of JSON lines with group commit: records appended while a write is on disk
 * wait and go down together in the next write and fdatasync, so a burst costs a few syncs, not one
 * per record, and the event loop never blocks on the disk. A record is durable (it survives a
 * crash of the process or of the machine) when its `append` resolves.
 */
export class Journal {
  private handle: FileHandle | undefined;
  private queued: {
    line?: string;
    rewrite?: () => unknown[];
    done: () => void;
    fail: (e: Error) => void;
  }[] = [];
  private flushing: Promise<void> | undefined;
  private lines = 0;

  constructor(readonly file: string) {}

  /**
   * The records on disk, oldest first. A last line cut short by a crash mid-write is dropped (its
   * append never resolved, so nobody was told it was kept).
   */
  read(): unknown[] {
    if (!existsSync(this.file)) return [];
    const out: unknown[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // A torn last line.
      }
    }
    this.lines = out.length;
    return out;
  }

  /** Records appended since the file was last rewritten: how much a rewrite would save. */
  get length(): number {
    return this.lines;
  }

  append(record: unknown): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    return new Promise((done, fail) => {
      this.queued.push({ line, done, fail });
      this.flushing ??= this.flush();
    });
  }

  /** Wait for every append so far to be on disk. */
  async settle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /**
   * Replace the file with `records()` (a snapshot of what is live, taken when the writes before it
   * are on disk), atomically: a new file synced and renamed over the old one. In order with appends.
   */
  rewrite(records: () => unknown[]): Promise<void> {
    return new Promise((done, fail) => {
      this.queued.push({ rewrite: records, done, fail });
      this.flushing ??= this.flush();
    });
  }

  rewriteSync(records: unknown[]): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    this.lines = records.length;
  }

  async close(): Promise<void> {
    await this.settle();
    await this.handle?.close();
    this.handle = undefined;
  }

  private async flush(): Promise<void> {
    while (this.queued.length) {
      // Everything up to the next rewrite goes down in one write and one sync.
      const cut = this.queued.findIndex((q) => q.rewrite);
      const batch = this.queued.splice(0, cut === -1 ? this.queued.length : Math.max(cut, 1));
      try {
        const [first] = batch;
        if (first?.rewrite) {
          await this.handle?.close();
          this.handle = undefined;
          this.rewriteSync(first.rewrite());
        } else {
          this.handle ??= await open(this.file, 'a');
          await this.handle.write(batch.map((b) => b.line).join(''));
          await this.handle.datasync();
          this.lines += batch.length;
        }
        for (const b of batch) b.done();
      } catch (error) {
        for (const b of batch) b.fail(error as Error);
      }
    }
    this.flushing = undefined;
  }
}
