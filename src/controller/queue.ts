// A work queue of object names, as client-go's: a name is queued once however often it is
// added, is never handed to two workers at once, and failures come back after a growing delay.
export interface QueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  /** Added again while a worker had it: queued once that worker is done. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  private waiters: ((key: string | undefined) => void)[] = [];
  private closed = false;

  constructor(private readonly options: QueueOptions = {}) {}

  add(key: string): void {
    if (this.closed) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    const waiter = this.waiters.shift();
    if (waiter) {
      this.queued.delete(key);
      this.active.add(key);
      waiter(key);
    } else this.ready.push(key);
  }

  /** Adds the key after `ms`; an earlier pending add for it wins. */
  addAfter(key: string, ms: number): void {
    if (this.closed) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { timer, at });
  }

  /** After a failure: back off exponentially per key, from 1 s to 5 min by default. */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.options.maxDelayMs ?? 300_000, (this.options.baseDelayMs ?? 1000) * 2 ** n);
    this.addAfter(key, delay);
  }

  /** The key succeeded: its next failure starts the backoff afresh. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key to work on; undefined once the queue is shut down. */
  next(): Promise<string | undefined> {
    const key = this.ready.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.active.add(key);
      return Promise.resolve(key);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.active.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  shutdown(): void {
    this.closed = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
  }

  get length(): number {
    return this.ready.length;
  }
}
