// The in-memory index of every blob: which pack holds it, where, and how it is stored. Built
// from all index/ files at open; new packs are added as they are written.
import { ArcaError } from "../common/errors.js";
import type { Id } from "./layout.js";
import { packSizeOf, type BlobType, type PackedBlob } from "./pack.js";

/** An index file as restic writes it. */
export interface IndexJson {
  supersedes?: Id[] | null;
  packs: Array<{
    id: Id;
    blobs: Array<{ id: Id; type: BlobType; offset: number; length: number; uncompressed_length?: number }>;
  }>;
}

export interface BlobLocation extends PackedBlob {
  pack: Id;
}

/**
 * Blob locations in parallel typed arrays, keyed by a map from blob ID to slot: an object per
 * blob cost about 100 bytes more, a fifth of a resource backup's heap at 100,000 objects.
 */
export class MasterIndex {
  private readonly slots = new Map<Id, number>();
  /** The ID of each slot: the one copy of it that callers keep (see `canonical`). */
  private readonly ids: Id[] = [];
  private types = new Uint8Array(1024);
  private packOf = new Uint32Array(1024);
  private offsets = new Uint32Array(1024);
  private lengths = new Uint32Array(1024);
  /** 0 when the blob is stored uncompressed. */
  private uncompressed = new Uint32Array(1024);
  private readonly packList: Id[] = [];
  /** Pack ID -> position in packList. */
  private readonly packs = new Map<Id, number>();
  /** By position in packList: the size the pack's index entries say it has. */
  private readonly packSizes: number[] = [];
  /** Blobs that another pack holds too (two writers stored the same content): not looked up,
   * but part of their pack, whose size and index entry must list them. */
  private readonly duplicates: BlobLocation[] = [];

  get blobCount(): number {
    return this.slots.size;
  }

  get packCount(): number {
    return this.packs.size;
  }

  has(id: Id): boolean {
    return this.slots.has(id);
  }

  /** The index's own copy of an ID it holds, so that a caller keeping IDs holds no second one. */
  canonical(id: Id): Id | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.ids[slot];
  }

  lookup(id: Id): BlobLocation | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.at(slot);
  }

  hasPack(id: Id): boolean {
    return this.packs.has(id);
  }

  packIds(): IterableIterator<Id> {
    return this.packs.keys();
  }

  *entries(): IterableIterator<BlobLocation> {
    for (let slot = 0; slot < this.ids.length; slot++) yield this.at(slot);
  }

  /** The size the index says a pack has (its blobs and its header). */
  packSize(pack: Id): number | undefined {
    const p = this.packs.get(pack);
    return p === undefined ? undefined : this.packSizes[p];
  }

  /** Every pack with all of its blobs, copies of blobs held elsewhere too, in pack order. */
  packContents(): Map<Id, BlobLocation[]> {
    const out = new Map<Id, BlobLocation[]>(this.packList.map((id) => [id, []]));
    for (const blob of [...this.entries(), ...this.duplicates]) out.get(blob.pack)?.push(blob);
    for (const blobs of out.values()) blobs.sort((a, b) => a.offset - b.offset);
    return out;
  }

  private at(slot: number): BlobLocation {
    const u = this.uncompressed[slot] as number;
    return {
      id: this.ids[slot] as Id,
      type: this.types[slot] === 0 ? "data" : "tree",
      offset: this.offsets[slot] as number,
      length: this.lengths[slot] as number,
      uncompressedLength: u === 0 ? undefined : u,
      pack: this.packList[this.packOf[slot] as number] as Id,
    };
  }

  private grow(): void {
    const size = this.types.length * 2;
    const grown = <T extends Uint8Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.types = grown(this.types, (n) => new Uint8Array(n));
    this.packOf = grown(this.packOf, (n) => new Uint32Array(n));
    this.offsets = grown(this.offsets, (n) => new Uint32Array(n));
    this.lengths = grown(this.lengths, (n) => new Uint32Array(n));
    this.uncompressed = grown(this.uncompressed, (n) => new Uint32Array(n));
  }

  /** Forgets everything, for a rebuild from a new listing. */
  clear(): void {
    this.slots.clear();
    this.ids.length = 0;
    this.packList.length = 0;
    this.packs.clear();
    this.packSizes.length = 0;
    this.duplicates.length = 0;
  }

  addPack(pack: Id, blobs: PackedBlob[]): void {
    // A pack that two index files list (a prune interrupted before it deleted the old ones)
    // is the same pack: an index file lists all of a pack's blobs.
    if (this.packs.has(pack)) return;
    const p = this.packList.push(pack) - 1;
    this.packs.set(pack, p);
    this.packSizes.push(packSizeOf(blobs));
    for (const b of blobs) {
      // A blob may sit in two packs (two writers, same content): look up the first.
      if (this.slots.has(b.id)) {
        this.duplicates.push({ ...b, pack });
        continue;
      }
      const slot = this.ids.length;
      if (slot === this.types.length) this.grow();
      this.ids.push(b.id);
      this.slots.set(b.id, slot);
      this.types[slot] = b.type === "data" ? 0 : 1;
      this.packOf[slot] = p;
      this.offsets[slot] = b.offset;
      this.lengths[slot] = b.length;
      this.uncompressed[slot] = b.uncompressedLength ?? 0;
    }
  }

  addIndexFile(index: IndexJson, what: string): void {
    if (!Array.isArray(index.packs)) throw new ArcaError(`${what}: no "packs" list`);
    for (const p of index.packs) {
      this.addPack(
        p.id,
        (p.blobs ?? []).map((b) => {
          if (b.type !== "data" && b.type !== "tree")
            throw new ArcaError(`${what}: blob ${b.id} has unknown type ${String(b.type)}`);
          return {
            id: b.id,
            type: b.type,
            offset: b.offset,
            length: b.length,
            uncompressedLength: b.uncompressed_length || undefined,
          };
        }),
      );
    }
  }
}

/** Blobs per index file that a backup writes: restic's limit for a full index (50,000). */
export const INDEX_FILE_BLOBS = 50_000;

/**
 * The packs in groups for index files of at most `maxBlobs` blobs each (a pack is never split):
 * one file for 100,000 objects took about 60 MiB to encode at the end of a backup.
 */
export function* indexGroups<P extends { blobs: unknown[] }>(
  packs: P[],
  maxBlobs = INDEX_FILE_BLOBS,
): Generator<P[]> {
  let group: P[] = [];
  let blobs = 0;
  for (const pack of packs) {
    if (group.length > 0 && blobs + pack.blobs.length > maxBlobs) {
      yield group;
      [group, blobs] = [[], 0];
    }
    group.push(pack);
    blobs += pack.blobs.length;
  }
  if (group.length > 0) yield group;
}

/** An index file for the given packs. */
export function indexJson(packs: Array<{ id: Id; blobs: PackedBlob[] }>): IndexJson {
  return {
    packs: packs.map((p) => ({
      id: p.id,
      blobs: p.blobs.map((b) => ({
        id: b.id,
        type: b.type,
        offset: b.offset,
        length: b.length,
        ...(b.uncompressedLength !== undefined ? { uncompressed_length: b.uncompressedLength } : {}),
      })),
    })),
  };
}
