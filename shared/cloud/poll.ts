export type PollOutcome<T> =
  | { status: 'done'; value: T; polls: number }
  | { status: 'deadline'; last: T | undefined; polls: number };

/**
 * Observe an asynchronous resource until it reaches a terminal state or the deadline passes. The
 * deadline is a result, not an error: the caller decides whether to continue in a follow-up job.
 */
export async function pollUntil<T>(
  observe: () => Promise<T>,
  terminal: (value: T) => boolean,
  options: {
    deadline: Date;
    intervalMs?: number;
    maxIntervalMs?: number;
    now?: () => Date;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<PollOutcome<T>> {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  let interval = options.intervalMs ?? 2000;
  let last: T | undefined;
  for (let polls = 1; ; polls++) {
    last = await observe();
    if (terminal(last)) return { status: 'done', value: last, polls };
    const left = options.deadline.getTime() - now().getTime();
    if (left <= 0) return { status: 'deadline', last, polls };
    await sleep(Math.min(interval, left));
    interval = Math.min(interval * 1.5, options.maxIntervalMs ?? 30_000);
  }
}
