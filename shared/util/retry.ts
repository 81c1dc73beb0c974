export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** What a failure means for the next attempt: give up, or try again (after `afterMs` if the other side said so). */
export type RetryVerdict = { retry: false } | { retry: true; afterMs?: number | undefined };

/**
 * The one retry loop: run `call` again after failures `classify` calls retryable, waiting a
 * full-jitter exponential backoff, or the delay the other side asked for (capped at `maxMs`).
 * The last error is thrown when the attempts run out or a failure is not worth retrying.
 */
export async function retry<T>(
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  classify: (error: unknown) => RetryVerdict,
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void,
): Promise<T> {
  const sleep = policy.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      const verdict = classify(error);
      if (!verdict.retry || attempt >= policy.attempts) throw error;
      const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      const delay =
        verdict.afterMs !== undefined
          ? Math.min(verdict.afterMs, policy.maxMs)
          : Math.round(random() * backoff);
      onRetry?.(attempt, delay, error);
      await sleep(delay);
    }
  }
}
