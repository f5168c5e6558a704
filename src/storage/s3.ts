// s3:// (and, through its S3-compatible API, oss://) locations. Every call goes through
// withRetries; the SDK's own retries are off so that one policy governs them all.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import { StorageError, type StorageAction } from "./errors.js";
import { checkKey, checkPrefix, joinKey } from "./keys.js";
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from "./retry.js";
import { fromSdkError } from "./s3-errors.js";
import type { CallOptions, GetOptions, ObjectInfo, ObjectStore, PutBody, PutOptions } from "./types.js";

export interface S3StoreConfig {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  /** Explicit credentials or a provider; the AWS default chain when absent. */
  credentials?: S3ClientConfig["credentials"];
  /** The URL for messages, without secrets. */
  location: string;
  retry?: RetryPolicy;
  /** Per request: no byte for this long fails the attempt (and it is retried). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Objects larger than this are written in parts. */
  multipartThreshold?: number;
  partSize?: number;
}

const MiB = 1024 * 1024;

// The SDK warns on every start under Node 20 that its *future* releases will need Node 22.
// The version we lock works on 20; an operator can do nothing about the warning.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export class S3Store implements ObjectStore {
  readonly location: string;
  readonly atomicCreate = true;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly retry: RetryPolicy;
  private readonly multipartThreshold: number;
  private readonly partSize: number;

  constructor(config: S3StoreConfig) {
    this.location = config.location;
    this.bucket = config.bucket;
    this.prefix = config.prefix.replace(/^\/+|\/+$/g, "");
    this.retry = config.retry ?? DEFAULT_RETRY;
    this.multipartThreshold = config.multipartThreshold ?? 64 * MiB;
    this.partSize = config.partSize ?? 16 * MiB;
    const clientConfig: S3ClientConfig = {
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      credentials: config.credentials,
      maxAttempts: 1,
      // Checksums beyond Content-MD5 are not understood by every S3-compatible store (OSS).
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      requestHandler: {
        requestTimeout: config.requestTimeoutMs ?? 60_000,
        // Without this the SDK only logs a warning and keeps waiting.
        throwOnRequestTimeout: true,
        connectionTimeout: config.connectTimeoutMs ?? 10_000,
        httpsAgent: { keepAlive: true, maxSockets: 64 },
        httpAgent: { keepAlive: true, maxSockets: 64 },
      },
    };
    this.client = new S3Client(clientConfig);
  }

  private objectKey(key: string): string {
    return joinKey(this.prefix, checkKey(key));
  }

  private call<T>(
    action: StorageAction,
    key: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    return withRetries(this.retry, signal, async () => {
      try {
        return await fn();
      } catch (err) {
        throw fromSdkError(err, action, this.location, key);
      }
    });
  }

  private guardKey(action: StorageAction, key: string): string {
    try {
      return this.objectKey(key);
    } catch (err) {
      throw new StorageError("invalid", action, this.location, key, (err as Error).message, { cause: err });
    }
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<void> {
    const Key = this.guardKey("put", key);
    if (body instanceof Readable) {
      await this.putStream(key, Key, body, options.signal);
      return;
    }
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (data.length > this.multipartThreshold) {
      await this.putStream(key, Key, Readable.from(sliceParts(data, this.partSize)), options.signal);
      return;
    }
    await this.call("put", key, options.signal, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: data }), {
        abortSignal: options.signal,
      }),
    );
  }

  /** Multipart upload from a stream, buffering one part at a time so each part can be retried. */
  private async putStream(key: string, Key: string, body: Readable, signal?: AbortSignal): Promise<void> {
    const iterator = readParts(body, this.partSize)[Symbol.asyncIterator]();
    const head = await iterator.next();
    const first: Buffer = head.done ? Buffer.alloc(0) : head.value;
    const second = head.done ? { done: true as const, value: undefined } : await iterator.next();
    if (second.done) {
      // One part: a plain PUT is cheaper and atomic.
      await this.call("put", key, signal, () =>
        this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: first }), {
          abortSignal: signal,
        }),
      );
      return;
    }
    const created = await this.call("put", key, signal, () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key }), {
        abortSignal: signal,
      }),
    );
    const UploadId = created.UploadId;
    if (!UploadId)
      throw new StorageError("server", "put", this.location, key, "the store returned no upload id");
    const done: Array<{ ETag: string; PartNumber: number }> = [];
    try {
      let partNumber = 0;
      const upload = async (data: Buffer) => {
        const PartNumber = ++partNumber;
        const result = await this.call("put", key, signal, () =>
          this.client.send(
            new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber, Body: data }),
            {
              abortSignal: signal,
            },
          ),
        );
        done.push({ ETag: result.ETag ?? "", PartNumber });
      };
      await upload(first);
      await upload(second.value);
      for (let next = await iterator.next(); !next.done; next = await iterator.next())
        await upload(next.value);
      await this.call("put", key, signal, () =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts: done },
          }),
          { abortSignal: signal },
        ),
      );
    } catch (err) {
      // Best effort: if the store is gone, the parts stay until a lifecycle rule removes them.
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }))
        .catch(() => undefined);
      throw err instanceof StorageError ? err : fromSdkError(err, "put", this.location, key);
    }
  }

  async create(key: string, body: Buffer, options: CallOptions = {}): Promise<boolean> {
    const Key = this.guardKey("put", key);
    try {
      await this.call("put", key, options.signal, () =>
        this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, IfNoneMatch: "*" }), {
          abortSignal: options.signal,
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof StorageError && err.status === 412) return false;
      throw err;
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    const Key = this.guardKey("get", key);
    if (options.range?.length === 0) return Buffer.alloc(0);
    // The whole read is one attempt: a body cut off mid-way is retried from the start.
    return this.call("get", key, options.signal, async () => {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: rangeHeader(options) }),
        {
          abortSignal: options.signal,
        },
      );
      if (!out.Body) return Buffer.alloc(0);
      return Buffer.from(await out.Body.transformToByteArray());
    });
  }

  async getStream(key: string, options: GetOptions = {}): Promise<Readable> {
    const Key = this.guardKey("get", key);
    const out = await this.call("get", key, options.signal, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: rangeHeader(options) }), {
        abortSignal: options.signal,
      }),
    );
    if (!out.Body) return Readable.from([]);
    return out.Body as Readable;
  }

  async head(key: string, options: CallOptions = {}): Promise<ObjectInfo | undefined> {
    const Key = this.guardKey("head", key);
    try {
      const out = await this.call("head", key, options.signal, () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }), {
          abortSignal: options.signal,
        }),
      );
      return { key, size: out.ContentLength ?? 0 };
    } catch (err) {
      if (err instanceof StorageError && err.kind === "not-found") return undefined;
      throw err;
    }
  }

  async *list(prefix: string, options: CallOptions = {}): AsyncIterable<ObjectInfo> {
    try {
      checkPrefix(prefix);
    } catch (err) {
      throw new StorageError("invalid", "list", this.location, prefix, (err as Error).message, {
        cause: err,
      });
    }
    const full = this.prefix === "" ? prefix : `${this.prefix}/${prefix}`;
    const strip = this.prefix === "" ? 0 : this.prefix.length + 1;
    let ContinuationToken: string | undefined;
    do {
      const page = await this.call("list", prefix, options.signal, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ContinuationToken }), {
          abortSignal: options.signal,
        }),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key) yield { key: item.Key.slice(strip), size: item.Size ?? 0 };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    const Key = this.guardKey("delete", key);
    await this.call("delete", key, options.signal, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }), {
        abortSignal: options.signal,
      }),
    );
  }

  close(): void {
    this.client.destroy();
  }
}

function rangeHeader(options: GetOptions): string | undefined {
  if (!options.range) return undefined;
  const { offset, length } = options.range;
  if (length === undefined) return `bytes=${offset}-`;
  return `bytes=${offset}-${offset + Math.max(length, 1) - 1}`;
}

function* sliceParts(data: Buffer, size: number): Iterable<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** Regroups a stream's chunks into parts of exactly `size` bytes (the last may be shorter). */
async function* readParts(body: Readable, size: number): AsyncIterable<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    while (pendingBytes + buf.length >= size) {
      const take = size - pendingBytes;
      pending.push(buf.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      buf = buf.subarray(take);
    }
    if (buf.length > 0) {
      pending.push(buf);
      pendingBytes += buf.length;
    }
  }
  if (pendingBytes > 0 || pending.length > 0) yield Buffer.concat(pending);
}
