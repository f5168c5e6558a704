// A pool of blob workers (one per core): hands out compress-and-encrypt jobs and gives back
// the stored form. Callers bound the jobs in flight, so memory stays bounded.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { ArcaError } from "../common/errors.js";
import type { SealRequest, SealResponse } from "./blob-worker.js";
import type { MasterKey } from "./crypto.js";

const fromSource = import.meta.url.endsWith(".ts");
const workerUrl = new URL(fromSource ? "./blob-worker.ts" : "./blob-worker.js", import.meta.url);
// Run from the TypeScript sources (tests, `npm run arca`), the worker registers tsx's loader
// before importing its module; built code starts the JavaScript module directly.
function startWorker(workerData: unknown): Worker {
  if (!fromSource) return new Worker(workerUrl, { workerData });
  const bootstrap = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

export class BlobPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<
    number,
    { resolve: (r: SealResponse) => void; reject: (e: unknown) => void }
  >();
  private nextJob = 0;
  private nextWorker = 0;
  private failure: unknown;

  constructor(key: MasterKey, size = availableParallelism()) {
    const workerData = { encrypt: key.encrypt, macK: key.macK, macR: key.macR };
    this.workers = Array.from({ length: Math.max(1, size) }, () => {
      const worker = startWorker(workerData);
      worker.on("message", (response: SealResponse) => {
        const pending = this.waiting.get(response.job);
        this.waiting.delete(response.job);
        if (this.waiting.size === 0) this.setRef(false);
        pending?.resolve(response);
      });
      worker.on("error", (err) => this.fail(err));
      // Idle workers must not keep the process alive, busy ones must (see setRef).
      worker.unref();
      worker.on("exit", (code) => {
        if (code !== 0) this.fail(new ArcaError(`a blob worker thread exited with code ${code}`));
      });
      return worker;
    });
  }

  private setRef(busy: boolean): void {
    for (const w of this.workers) {
      if (busy) w.ref();
      else w.unref();
    }
  }

  get size(): number {
    return this.workers.length;
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    for (const pending of this.waiting.values()) pending.reject(err);
    this.waiting.clear();
  }

  /** Compresses (if `compress`) and encrypts a copy of `data` on a worker. */
  seal(data: Uint8Array, compress: boolean): Promise<SealResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const job = this.nextJob++;
    const copy = new Uint8Array(data); // the caller reuses its buffer; the copy is transferred
    const worker = this.workers[this.nextWorker++ % this.workers.length] as Worker;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) this.setRef(true);
      this.waiting.set(job, { resolve, reject });
      const request: SealRequest = { job, data: copy, compress };
      worker.postMessage(request, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
