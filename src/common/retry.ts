// Retries with exponential backoff and full jitter, for failures that a later attempt can cure.
// Each layer says which of its errors those are; a server's Retry-After wins over the backoff.
import { setTimeout as sleep } from "node:timers/promises";

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

/** false: do not retry; true: retry after the backoff; a number: retry after that many ms. */
export type RetryDecision = (err: unknown) => boolean | number;

export async function retrying<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  decide: RetryDecision,
  operation: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      const decision = attempt + 1 < policy.attempts && !signal?.aborted ? decide(err) : false;
      if (decision === false) throw err;
      const delay = decision === true ? backoffDelay(policy, attempt) : decision;
      await sleep(delay, undefined, { signal }).catch(() => {
        throw err;
      });
    }
  }
}
