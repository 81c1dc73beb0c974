import { UpstreamError } from '../runtime/errors.ts';
import { CloudError } from './errors.ts';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (attempt: number, delayMs: number, error: UpstreamError) => void;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 20_000 };

/**
 * Run `call` again after retryable failures, with full-jitter exponential backoff, or after the delay
 * the service asked for (`x-acs-retry-after`). Errors a retry cannot fix fail at once.
 */
export async function withRetry<T>(
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  const sleep = policy.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      if (!(error instanceof UpstreamError) || !error.retryable || attempt >= policy.attempts) throw error;
      const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      const asked = error instanceof CloudError ? error.retryAfterMs : undefined;
      const delay = asked !== undefined ? Math.min(asked, policy.maxMs) : Math.round(random() * backoff);
      policy.onRetry?.(attempt, delay, error);
      await sleep(delay);
    }
  }
}
