// A counting semaphore: at most N holders at once, the rest wait in order.
export class Slots {
  private readonly waiting: Array<() => void> = [];

  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/**
 * Like Promise.all, but waits for every task to settle before throwing the first failure, so
 * that nothing is still writing when the caller reports the error.
 */
export async function allSettledOrThrow<T>(tasks: Array<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** `fn` over `items`, at most `limit` at once; results in order, failures as allSettledOrThrow. */
export function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const slots = new Slots(limit);
  return allSettledOrThrow(items.map((item) => slots.run(() => fn(item))));
}

/**
 * A semaphore whose size follows the server: halved when the server says it is overloaded,
 * grown by one after a run of successes (additive increase, multiplicative decrease).
 */
export class AdaptiveSlots {
  private readonly waiting: Array<() => void> = [];
  private inFlight = 0;
  private successes = 0;

  constructor(
    public limit: number,
    private readonly max = limit * 4,
    private readonly min = 1,
  ) {}

  private admit(): void {
    while (this.inFlight < this.limit && this.waiting.length > 0) {
      this.inFlight++;
      this.waiting.shift()?.();
    }
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.admit();
    });
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.admit();
    }
  }

  /** The server pushed back (429): fewer at once from now on. */
  throttled(): void {
    this.limit = Math.max(this.min, Math.floor(this.limit / 2));
    this.successes = 0;
  }

  succeeded(): void {
    if (++this.successes >= this.limit && this.limit < this.max) {
      this.limit++;
      this.successes = 0;
      this.admit();
    }
  }
}
