import type { RunHandle } from './once.ts';

const STAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z /;
// CSI sequences (colours, cursor moves) as terminals read them.
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/** A log line that starts with when it was written (a line stamped already keeps its stamp). */
export function stampLine(line: string, at: Date): string {
  return STAMPED.test(line) ? line : `${at.toISOString()} ${line}`;
}

export interface RunLog {
  /** One line of output (a binary's progress): kept in order, written to the run in batches. */
  line(line: string): void;
  /** The last `n` lines, for a failure notice. */
  tail(n: number): string;
  /** Write what is pending and stop. */
  close(): Promise<void>;
}

/**
 * Collect a long-running binary's output for its run record and write it in batches (once a second
 * or every 500 lines), not one database write per line.
 */
export function runLog(run: Pick<RunHandle, 'append'>): RunLog {
  let pending: string[] = [];
  let recent: string[] = [];
  let flushing: Promise<void> = Promise.resolve();
  const flush = () => {
    if (pending.length === 0) return flushing;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    flushing = flushing.then(() => run.append(text)).catch(() => {});
    return flushing;
  };
  const timer = setInterval(flush, 1000);
  timer.unref();
  return {
    line(line) {
      // Stamped when the line came, not when its batch is written; a binary's own stamp is kept,
      // and its colour codes are dropped (the log is read in a terminal, a browser and messages).
      // A line may hold several (packer's messages carry newlines): each gets the same stamp.
      const at = new Date();
      for (const part of line.replace(ANSI, '').split('\n')) pending.push(stampLine(part, at));
      recent.push(line);
      if (recent.length > 400) recent = recent.slice(-200);
      if (pending.length >= 500) void flush();
    },
    tail: (n) => recent.slice(-n).join('\n'),
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
