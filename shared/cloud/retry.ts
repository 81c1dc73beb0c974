import { UpstreamError } from '../runtime/errors.ts';
import { type RetryPolicy, type RetryVerdict, retry } from '../util/retry.ts';
import { CloudError } from './errors.ts';

export type { RetryPolicy } from '../util/retry.ts';

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 20_000 };

/** A cloud call is worth retrying when its error says so; the service's `x-acs-retry-after` wins over backoff. */
export function cloudVerdict(error: unknown): RetryVerdict {
  if (!(error instanceof UpstreamError) || !error.retryable) return { retry: false };
  return { retry: true, afterMs: error instanceof CloudError ? error.retryAfterMs : undefined };
}

/** Run a cloud call with the shared retry loop (full-jitter backoff, or the delay the service asked for). */
export function withRetry<T>(
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  onRetry?: (attempt: number, delayMs: number, error: UpstreamError) => void,
): Promise<T> {
  return retry(call, policy, cloudVerdict, onRetry as (a: number, d: number, e: unknown) => void);
}
