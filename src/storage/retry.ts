// The storage layer's retry rule: throttling, 5xx, resets and timeouts are retried; a 4xx that
// cannot succeed never is.
import { retrying, type RetryPolicy } from "../common/retry.js";
import { StorageError } from "./errors.js";

export { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from "../common/retry.js";

export function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  operation: (attempt: number) => Promise<T>,
): Promise<T> {
  return retrying(policy, signal, (err) => err instanceof StorageError && err.retryable, operation);
}
