// An s3:// or oss:// store that loads s3.ts, and with it the AWS SDK, on its first call: the
// SDK takes longer to load than most commands take to run, and file:// never needs it.
import type { Readable } from "node:stream";
import type { S3Store, S3StoreConfig } from "./s3.js";
import type { CallOptions, GetOptions, ObjectInfo, ObjectStore, PutBody, PutOptions } from "./types.js";

export class LazyS3Store implements ObjectStore {
  readonly location: string;
  readonly atomicCreate = true;
  private store?: Promise<S3Store>;

  constructor(private readonly config: S3StoreConfig) {
    this.location = config.location;
  }

  private open(): Promise<S3Store> {
    return (this.store ??= import("./s3.js").then(({ S3Store }) => new S3Store(this.config)));
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<void> {
    return (await this.open()).put(key, body, options);
  }

  async create(key: string, body: Buffer, options?: CallOptions): Promise<boolean> {
    return (await this.open()).create(key, body, options);
  }

  async get(key: string, options?: GetOptions): Promise<Buffer> {
    return (await this.open()).get(key, options);
  }

  async getStream(key: string, options?: GetOptions): Promise<Readable> {
    return (await this.open()).getStream(key, options);
  }

  async head(key: string, options?: CallOptions): Promise<ObjectInfo | undefined> {
    return (await this.open()).head(key, options);
  }

  async *list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo> {
    yield* (await this.open()).list(prefix, options);
  }

  async delete(key: string, options?: CallOptions): Promise<void> {
    return (await this.open()).delete(key, options);
  }

  close(): void {
    // Nothing to release if no call was made; a store still loading closes once it is there.
    void this.store?.then(
      (s) => s.close(),
      () => undefined,
    );
  }
}
