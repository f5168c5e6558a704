// A cache of one kind's objects in one namespace, kept current by list-then-watch, as
// client-go's informers: every change and a periodic resync hand the object's name to
// `onChange`, so the reconcilers are level-triggered and a missed event only delays work.
import { setTimeout as sleep } from "node:timers/promises";
import { messageOf } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import type { KubeClient } from "../kube/client.js";
import { listObjects } from "../kube/list.js";
import type { KubeObject } from "../kube/object.js";
import type { ApiResource } from "../kube/resources.js";
import { watchObjects } from "../kube/watch.js";

export interface InformerOptions<T> {
  client: KubeClient;
  resource: ApiResource;
  namespace: string;
  /** Checks an object from the server; a malformed one is logged and left out. */
  parse: (object: KubeObject) => T;
  onChange: (name: string) => void;
  logger: Logger;
  resyncMs?: number;
}

export class Informer<T extends { metadata: { name: string } }> {
  private readonly cache = new Map<string, T>();
  private resolveSynced!: () => void;
  /** Resolves once the first list is in the cache. */
  readonly synced = new Promise<void>((resolve) => (this.resolveSynced = resolve));

  constructor(private readonly o: InformerOptions<T>) {}

  get(name: string): T | undefined {
    return this.cache.get(name);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** Runs until the signal aborts; failures of the list or the watch are retried. */
  async run(signal: AbortSignal): Promise<void> {
    const resync = setInterval(
      () => this.cache.forEach((_, name) => this.o.onChange(name)),
      this.o.resyncMs ?? 60_000,
    );
    resync.unref();
    try {
      while (!signal.aborted) {
        try {
          let version = await this.relist();
          while (!signal.aborted) {
            const next = await this.watch(version, signal);
            if (next === undefined) break; // expired: list again
            version = next;
          }
        } catch (err) {
          if (signal.aborted) break;
          this.o.logger.warn(
            { resource: this.o.resource.resource, error: messageOf(err) },
            "list or watch failed; retrying",
          );
          await sleep(2000, undefined, { signal }).catch(() => {});
        }
      }
    } finally {
      clearInterval(resync);
    }
  }

  private async relist(): Promise<string> {
    const seen = new Set<string>();
    let version = "";
    const { client, resource, namespace } = this.o;
    for await (const page of listObjects(client, resource, { namespace, onPage: (rv) => (version = rv) })) {
      for (const { object } of page) {
        seen.add(object.metadata.name);
        this.store(object);
      }
    }
    for (const name of [...this.cache.keys()])
      if (!seen.has(name)) {
        this.cache.delete(name);
        this.o.onChange(name);
      }
    this.resolveSynced();
    return version;
  }

  /** Follows changes from `version`; returns where it got to, or undefined to list again. */
  private async watch(version: string, signal: AbortSignal): Promise<string | undefined> {
    const { client, resource, namespace } = this.o;
    for await (const event of watchObjects(client, resource, {
      namespace,
      resourceVersion: version,
      signal,
    })) {
      if (event.type === "EXPIRED") return undefined;
      if (event.type === "BOOKMARK") {
        version = event.resourceVersion || version;
        continue;
      }
      version = event.object.metadata.resourceVersion ?? version;
      if (event.type === "DELETED") {
        this.cache.delete(event.object.metadata.name);
        this.o.onChange(event.object.metadata.name);
      } else this.store(event.object);
    }
    return version;
  }

  private store(object: KubeObject): void {
    const name = object.metadata.name;
    try {
      this.cache.set(name, this.o.parse(object));
    } catch (err) {
      this.cache.delete(name);
      this.o.logger.warn({ object: name, error: messageOf(err) }, "ignoring a malformed object");
    }
    this.o.onChange(name);
  }
}
