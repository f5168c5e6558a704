// Turns blobs into packs: compress where it pays, encrypt, collect into ~16 MiB packs (data
// and trees apart, as restic keeps them), upload a few packs at a time, and remember what was
// written so that the index can list it.
import { byteLength, joined, release, type Bytes } from "../common/bytes.js";
import { Slots } from "../common/slots.js";
import { BlobPool } from "./blob-pool.js";
import { SMALL_BLOB } from "./compression.js";
import type { MasterKey } from "./crypto.js";
import { fileKey, contentId, type Id } from "./layout.js";
import type { MasterIndex } from "./master-index.js";
import { PackBuilder, type BlobType, type PackedBlob } from "./pack.js";
import { SealBatch, sealBlob } from "./seal.js";
import type { ObjectStore } from "../storage/index.js";

export interface PackerOptions {
  packSize: number;
  /** Packs uploading at once; each holds up to packSize bytes in memory. */
  uploads: number;
  compression: boolean;
}

/** Small data blobs go to libuv's pool in batches of about this many bytes... */
const BATCH_BYTES = 512 * 1024;
/** ...or this many blobs (each needs 32 more bytes once sealed). */
const BATCH_BLOBS = 2048;
/** Batches out at once, filling or being sealed; each holds about 1 MiB. */
const BATCHES = 3;
/** Bytes of larger blobs sealed on the calling thread before worker threads start. */
const WORKERS_AFTER = 8 * 1024 * 1024;

export const DEFAULT_PACKER: PackerOptions = { packSize: 16 * 1024 * 1024, uploads: 4, compression: true };

export interface WrittenPack {
  id: Id;
  blobs: PackedBlob[];
  size: number;
}

export class Packer {
  private readonly open: Record<BlobType, PackBuilder>;
  /** Blobs added but whose pack is not yet in the index. */
  private readonly pending = new Set<Id>();
  private readonly uploading = new Set<Promise<void>>();
  /** Blobs on their way through the workers, and batches through libuv's pool. */
  private readonly sealing = new Set<Promise<void>>();
  /** Bounds the blobs in the workers (and so memory); a queue, not Promise.race, so that
   * thousands of waiting small files cost nothing while they wait. */
  private readonly sealSlots = new Slots(6);
  private pool: BlobPool | undefined;
  /** The batch small data blobs are copied into (see gather). */
  private batch: SealBatch | undefined;
  private readonly batchSlots = new Slots(BATCHES);
  private readonly spareBatches: SealBatch[] = [];
  private failure: unknown;
  readonly written: WrittenPack[] = [];
  /** Bytes stored for new blobs (after compression and encryption). */
  storedBytes = 0;
  /** Bytes of new blobs before compression and encryption. */
  addedBytes = 0;
  newBlobs = { data: 0, tree: 0 };
  private largeBytes = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly key: MasterKey,
    private readonly index: MasterIndex,
    private readonly options: PackerOptions,
    private readonly signal?: AbortSignal,
  ) {
    this.open = { data: this.newPack(), tree: this.newPack() };
  }

  /** Room for a full pack and a little over: the last blob may pass packSize, rarely by much. */
  private newPack(): PackBuilder {
    return new PackBuilder(this.options.packSize + 1024 * 1024);
  }

  known(id: Id): boolean {
    return this.index.has(id) || this.pending.has(id);
  }

  /**
   * Adds a blob unless the repository has it; returns its ID and whether it was new. `data` is
   * read before the promise settles: the caller may reuse its buffer after that.
   */
  async add(type: BlobType, data: Bytes, knownId?: Id, force = false): Promise<{ id: Id; added: boolean }> {
    const id = knownId ?? contentId(data);
    const length = byteLength(data);
    // force: write it again although the index has it (prune moving it out of a doomed pack).
    if (force ? this.pending.has(id) : this.known(id)) {
      // The index's copy of the ID, so that callers who keep it (a tree) hold no second one.
      return { id: this.index.canonical(id) ?? id, added: false };
    }
    if (this.failure) throw this.failure;
    this.pending.add(id);
    this.addedBytes += length;
    this.newBlobs[type]++;
    if (length > SMALL_BLOB && type === "data") this.largeBytes += length;
    if (type === "data" && length <= SMALL_BLOB) {
      const waiting = this.gather(id, data, length);
      if (waiting) await waiting;
      return { id, added: true };
    }
    if (type === "tree" || this.largeBytes <= WORKERS_AFTER) {
      // Trees, and the first larger blobs: a worker round trip costs more than sealing them
      // here, and a backup of resources (a few larger documents besides the small objects)
      // then needs no worker threads at all: starting them costs more than they would save.
      const pack = this.open[type];
      const sealed = sealBlob(this.key, data, this.options.compression, (length) => pack.reserve(length));
      pack.written(id, type, sealed.length, sealed.uncompressedLength);
      const sealing = this.placed(type, sealed.length);
      if (sealing) await sealing;
      return { id, added: true };
    }
    await this.sealSlots.acquire();
    this.pool ??= new BlobPool(this.key);
    const job: Promise<void> = this.pool
      .seal(joined(data), this.options.compression)
      .then(({ stored, uncompressedLength }) => {
        this.open[type].add(id, type, stored, uncompressedLength);
        return this.placed(type, stored.length);
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.sealing.delete(job);
        this.sealSlots.release();
      });
    this.sealing.add(job);
    return { id, added: true };
  }

  /**
   * Copies a small data blob into the filling batch; a full one goes to a thread of libuv's
   * pool. On the main thread, zstd and the cipher took 40% of that thread's busy time in a
   * first resource backup, and that thread was its bottleneck. Waits only while BATCHES
   * batches are out.
   */
  private gather(id: Id, data: Bytes, length: number): Promise<void> | undefined {
    const batch = this.batch;
    if (!batch?.fits(length)) return this.nextBatch().then(() => this.gather(id, data, length));
    batch.push(id, data);
    return undefined;
  }

  /** Sends the filling batch off, and opens another once fewer than BATCHES are out. */
  private async nextBatch(): Promise<void> {
    if (this.batch) this.dispatch(this.batch);
    await this.batchSlots.acquire();
    if (this.batch)
      this.batchSlots.release(); // another blob opened one meanwhile
    else this.batch = this.spareBatches.pop() ?? new SealBatch(BATCH_BYTES, BATCH_BLOBS);
  }

  /** Seals a batch on the pool and puts its blobs into the open data pack. */
  private dispatch(batch: SealBatch): void {
    if (this.batch === batch) this.batch = undefined;
    const job: Promise<void> = batch
      .seal(this.key, this.options.compression, (id, sealed, uncompressedLength) => {
        this.open.data.add(id, "data", sealed, uncompressedLength);
        return this.placed("data", sealed.length);
      })
      .catch((err: unknown) => {
        this.failure ??= err; // later adds see it, and flush() throws it
      })
      .finally(() => {
        batch.clear();
        this.spareBatches.push(batch);
        this.sealing.delete(job);
        this.batchSlots.release();
      });
    this.sealing.add(job);
  }

  /** Counts a blob just put into its open pack, and seals the pack when it is full. */
  private placed(type: BlobType, storedLength: number): Promise<void> | undefined {
    this.storedBytes += storedLength;
    return this.open[type].size >= this.options.packSize ? this.seal(type) : undefined;
  }

  private async seal(type: BlobType): Promise<void> {
    const builder = this.open[type];
    if (builder.blobs.length === 0) return;
    this.open[type] = this.newPack();
    const bytes = builder.finish(this.key);
    const id = contentId(bytes);
    while (this.uploading.size >= this.options.uploads) await Promise.race(this.uploading);
    if (this.failure) throw this.failure;
    const upload = this.store
      .put(fileKey("data", id), bytes, { signal: this.signal })
      .then(() => {
        release(bytes.buffer); // stored: its memory goes now, not at the next full GC
        this.written.push({ id, blobs: builder.blobs, size: bytes.length });
        this.index.addPack(id, builder.blobs);
        for (const b of builder.blobs) this.pending.delete(b.id);
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => this.uploading.delete(upload));
    this.uploading.add(upload);
  }

  /** Seals the open packs and waits for every upload; throws the first upload failure. */
  async flush(): Promise<void> {
    // A blob that was waiting for a batch may open one while the others are sealed.
    while (this.batch || this.sealing.size > 0) {
      if (this.batch) this.dispatch(this.batch);
      await Promise.all(this.sealing);
    }
    if (this.failure) throw this.failure;
    await this.seal("data");
    await this.seal("tree");
    await Promise.all(this.uploading);
    if (this.failure) throw this.failure;
  }

  /** Stops the worker threads. */
  close(): void {
    void this.pool?.close();
    this.pool = undefined;
  }

  /** Packs written since the last call, for an index file. */
  takeWritten(): WrittenPack[] {
    return this.written.splice(0);
  }
}
