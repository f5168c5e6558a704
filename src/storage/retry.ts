// Retries with exponential backoff and full jitter, for the failures that a later attempt can
// cure (throttling, 5xx, resets, timeouts). A 4xx that cannot succeed is never retried.
import { setTimeout as sleep } from "node:timers/promises";
import { StorageError } from "./errors.js";

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 100, maxDelayMs: 10_000 };

/** Full jitter: a uniform delay in [0, min(max, base·2^attempt)). */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  operation: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      const retry = err instanceof StorageError && err.retryable && attempt + 1 < policy.attempts;
      if (!retry || signal?.aborted) throw err;
      await sleep(backoffDelay(policy, attempt), undefined, { signal }).catch(() => {
        throw err;
      });
    }
  }
}
