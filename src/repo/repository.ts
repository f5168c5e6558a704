// A restic repository (format version 2) over an ObjectStore: open with a password, read and
// write blobs, trees, snapshots and index files.
import { randomBytes } from "node:crypto";
import type { Bytes } from "../common/bytes.js";
import { ArcaError, messageOf } from "../common/errors.js";
import { mapBounded } from "../common/slots.js";
import { isStorageError, readOnlyStore, type ObjectStore } from "../storage/index.js";
import { decompress } from "./compression.js";
import {
  AuthenticationError,
  CRYPTO_OVERHEAD,
  decrypt,
  encrypt,
  newMasterKey,
  type MasterKey,
} from "./crypto.js";
import { createKeyFile, openKeyFile } from "./keyfile.js";
import { checkNewPassword } from "./password.js";
import {
  fileKey,
  idFromKey,
  contentId,
  ID_PATTERN,
  listPrefix,
  shortId,
  type FileType,
  type Id,
} from "./layout.js";
import { indexGroups, indexJson, MasterIndex, type IndexJson } from "./master-index.js";
import { decodeNode, encodeTree, type Snapshot, type Tree } from "./model.js";
import type { BlobType, PackedBlob } from "./pack.js";
import { DEFAULT_PACKER, Packer, type PackerOptions, type WrittenPack } from "./packer.js";
import { formatPolynomial, randomPolynomial } from "./polynomial.js";
import { CorruptFileError, decodeUnpacked, loadUnpacked, saveUnpacked } from "./unpacked.js";

export const REPOSITORY_VERSION = 2;
/** Index and snapshot files read at once: each is a round trip to an object store. */
const METADATA_READS = 8;
/** Listings of index/ tried while index files vanish under a concurrent prune. */
const INDEX_LISTINGS = 3;

export interface RepoConfig {
  version: number;
  id: string;
  chunker_polynomial: string;
}

export class WrongPasswordError extends ArcaError {}
/** The location holds no repository yet. */
export class NoRepositoryError extends ArcaError {}
/** `init` found a repository there, or another process made one first. */
export class RepositoryExistsError extends ArcaError {}

export interface OpenOptions {
  signal?: AbortSignal;
  packer?: Partial<PackerOptions>;
  /** false: keys and config only, for a check that the repository opens (no blob reads). */
  index?: boolean;
  /** Index files that cannot be read are noted in `damagedIndexFiles`, not thrown: for
   * `repo repair index`, which replaces them. */
  skipDamagedIndex?: boolean;
  /**
   * restic's --no-lock: no lock is taken, and nothing at all is written (writes are refused),
   * so a read-only command works on a repository that cannot be written.
   */
  noLock?: boolean;
  /** Where a command's notices go: a damaged snapshot file skipped, a stale lock removed. */
  warn?: (message: string) => void;
}

/** A snapshot file that could not be read, by ID, and why. */
export interface UnreadableSnapshot {
  id: Id;
  error: string;
}

export class Repository {
  readonly index = new MasterIndex();
  /** The index files `index` holds: what `syncIndex` compares a fresh listing with. */
  private readonly indexFiles = new Set<Id>();
  /** With `skipDamagedIndex`: the index files left out, and why. */
  readonly damagedIndexFiles = new Map<Id, string>();
  private packer: Packer | undefined;

  private constructor(
    readonly store: ObjectStore,
    readonly key: MasterKey,
    readonly keyId: Id,
    readonly config: RepoConfig,
    private readonly options: OpenOptions,
  ) {}

  get location(): string {
    return this.store.location;
  }

  /** Opened with --no-lock: takes no lock and writes nothing. */
  get noLock(): boolean {
    return this.options.noLock === true;
  }

  warn(message: string): void {
    this.options.warn?.(message);
  }

  static async init(store: ObjectStore, password: string, options: OpenOptions = {}): Promise<Repository> {
    checkNewPassword(password);
    if (await store.head("config", { signal: options.signal })) {
      throw new RepositoryExistsError(`a repository already exists at ${store.location}`, {
        hint: "open it with its password instead, or choose an empty location",
      });
    }
    const key = newMasterKey();
    const config: RepoConfig = {
      version: REPOSITORY_VERSION,
      id: randomBytes(32).toString("hex"),
      chunker_polynomial: formatPolynomial(randomPolynomial()),
    };
    const keyFile = await createKeyFile(key, password);
    const keyId = contentId(keyFile);
    await store.put(fileKey("keys", keyId), keyFile, { signal: options.signal });
    // Config is written uncompressed: it is read before the version is known.
    if (
      !(await store.create("config", encrypt(key, Buffer.from(JSON.stringify(config))), {
        signal: options.signal,
      }))
    ) {
      await store.delete(fileKey("keys", keyId)).catch(() => undefined);
      throw new RepositoryExistsError(
        `another process initialised a repository at ${store.location} at the same time`,
        { hint: "open it with its password instead, or choose an empty location" },
      );
    }
    return new Repository(store, key, keyId, config, options);
  }

  /**
   * Opens the repository, or makes one where there is none. Two processes may find the same
   * location empty (a location's validation and the first backup into it): the one that loses
   * the race opens what the winner made, which works when they share the password.
   */
  static async openOrInit(
    store: ObjectStore,
    password: string,
    options: OpenOptions = {},
  ): Promise<{ repo: Repository; created: boolean }> {
    try {
      return { repo: await Repository.open(store, password, options), created: false };
    } catch (err) {
      if (!(err instanceof NoRepositoryError)) throw err;
    }
    try {
      return { repo: await Repository.init(store, password, options), created: true };
    } catch (err) {
      if (!(err instanceof RepositoryExistsError)) throw err;
    }
    return { repo: await Repository.open(store, password, options), created: false };
  }

  /** Opens with the first key file the password fits, then loads config and index. */
  static async open(store: ObjectStore, password: string, options: OpenOptions = {}): Promise<Repository> {
    const { signal } = options;
    if (options.noLock) store = readOnlyStore(store, "the repository was opened with --no-lock (read only)");
    const configRaw = await store.get("config", { signal }).catch((err: unknown) => {
      if (isStorageError(err, "not-found")) {
        throw new NoRepositoryError(`there is no repository at ${store.location} (no config file)`, {
          hint: "check the location URL, or create one with `arca repo init`",
          cause: err,
        });
      }
      throw err;
    });
    const keyIds = await listIds(store, "keys", signal);
    if (keyIds.length === 0) throw new ArcaError(`the repository at ${store.location} has no key files`);
    let damaged: CorruptFileError | undefined;
    for (const keyId of keyIds) {
      // A key listed a moment ago may be gone: the loser of an init race deletes its own.
      const raw = await store.get(fileKey("keys", keyId), { signal }).catch((err: unknown) => {
        if (isStorageError(err, "not-found")) return undefined;
        throw err;
      });
      if (!raw) continue;
      const key = await openKeyFile(raw, password, `key ${shortId(keyId)}`);
      if (!key) continue;
      let config: RepoConfig;
      try {
        config = decodeUnpacked<RepoConfig>(key, configRaw, "config");
      } catch (err) {
        if (!(err instanceof AuthenticationError)) throw err;
        // A key of another master key (left by the loser of an init race) opens no config:
        // another key may.
        damaged = new CorruptFileError(`the config file of ${store.location} is damaged: ${err.message}`);
        continue;
      }
      if (config.version !== 1 && config.version !== REPOSITORY_VERSION) {
        throw new ArcaError(
          `the repository at ${store.location} has format version ${String(config.version)}, which this Arca cannot read`,
          {
            hint: "use a newer Arca (or restic) for this repository",
          },
        );
      }
      const repo = new Repository(store, key, keyId, config, options);
      if (options.index !== false) await repo.syncIndex();
      return repo;
    }
    if (damaged) throw damaged;
    throw new WrongPasswordError(
      `wrong password: it opens none of the ${keyIds.length} key(s) of ${store.location}`,
      {
        hint: "check --password-file / ARCA_PASSWORD / ARCA_PASSWORD_FILE",
      },
    );
  }

  /**
   * Brings the index up to what index/ holds now: new files are added; when a file it was
   * loaded from is gone, a prune has replaced it, and the index is built again from the
   * listing. A file that goes between the listing and its read is the same race: list again.
   * Lockers call this once their lock is written (`RepositoryLock.acquire`), so that the index
   * they deduplicate and prune against is the one the lock protects, as restic loads it.
   */
  async syncIndex(): Promise<void> {
    const { signal } = this.options;
    for (let attempt = 1; ; attempt++) {
      const listed = await listIds(this.store, "index", signal);
      const present = new Set(listed);
      if ([...this.indexFiles].some((id) => !present.has(id))) {
        this.index.clear();
        this.indexFiles.clear();
      }
      const fresh = listed.filter((id) => !this.indexFiles.has(id));
      try {
        const files = await mapBounded(fresh, METADATA_READS, (id) =>
          loadUnpacked<IndexJson>(this.store, this.key, "index", id, signal).catch((err: unknown) => {
            if (!this.options.skipDamagedIndex || isStorageError(err)) throw err;
            this.damagedIndexFiles.set(id, messageOf(err));
            return undefined;
          }),
        );
        files.forEach((file, i) => {
          const id = fresh[i] as Id;
          if (!file) return;
          this.index.addIndexFile(file, `index file ${shortId(id)}`);
          this.indexFiles.add(id);
        });
        return;
      } catch (err) {
        if (!isStorageError(err, "not-found") || attempt === INDEX_LISTINGS) throw err;
      }
    }
  }

  /** Version 1 repositories take no compression. */
  get compression(): boolean {
    return this.config.version >= 2;
  }

  private writer(): Packer {
    this.packer ??= new Packer(
      this.store,
      this.key,
      this.index,
      { ...DEFAULT_PACKER, compression: this.compression, ...this.options.packer },
      this.options.signal,
    );
    return this.packer;
  }

  /** `data` may be in pieces (see Bytes): they are joined only where a pack needs them whole. */
  saveBlob(type: BlobType, data: Bytes, id?: Id): Promise<{ id: Id; added: boolean }> {
    return this.writer().add(type, data, id);
  }

  async saveTree(tree: Tree): Promise<Id> {
    return (await this.saveBlob("tree", encodeTree(tree))).id;
  }

  /** Writes a blob although the index has it: prune moves used blobs out of doomed packs. */
  writeBlobToNewPack(type: BlobType, data: Uint8Array, id: Id): Promise<{ id: Id; added: boolean }> {
    return this.writer().add(type, data, id, true);
  }

  /** Uploads open packs and returns the packs written since the last call (no index file). */
  async flushPacks(): Promise<WrittenPack[]> {
    if (!this.packer) return [];
    await this.packer.flush();
    return this.packer.takeWritten();
  }

  /** Writes open packs and an index file for everything written since the last flush. */
  async flush(): Promise<void> {
    await this.writeIndex(await this.flushPacks());
  }

  /** Index files for `packs`, in groups restic's size; `supersedes` names files they replace. */
  async writeIndex(
    packs: Array<{ id: Id; blobs: PackedBlob[] }>,
    { supersedes, signal = this.options.signal }: { supersedes?: Id[]; signal?: AbortSignal } = {},
  ): Promise<void> {
    for (const group of indexGroups(packs)) {
      const file: IndexJson = { ...(supersedes ? { supersedes } : {}), ...indexJson(group) };
      const id = await saveUnpacked(this.store, this.key, "index", file, {
        compressed: this.compression,
        signal,
      });
      this.indexFiles.add(id);
    }
  }

  /** What this session added to the repository. */
  get stats(): { addedBytes: number; storedBytes: number; dataBlobs: number; treeBlobs: number } {
    const p = this.packer;
    return {
      addedBytes: p?.addedBytes ?? 0,
      storedBytes: p?.storedBytes ?? 0,
      dataBlobs: p?.newBlobs.data ?? 0,
      treeBlobs: p?.newBlobs.tree ?? 0,
    };
  }

  /** The plaintext size of an indexed blob. */
  blobSize(id: Id): number | undefined {
    const at = this.index.lookup(id);
    if (!at) return undefined;
    return at.uncompressedLength ?? at.length - CRYPTO_OVERHEAD;
  }

  /** A blob, authenticated, decompressed and checked against its ID. */
  async loadBlob(id: Id, signal?: AbortSignal): Promise<Buffer> {
    const at = this.index.lookup(id);
    if (!at)
      throw new ArcaError(`blob ${shortId(id)} is not in the index of ${this.location}`, {
        hint: "run `arca repo check`",
      });
    const what = `blob ${shortId(id)} in pack ${shortId(at.pack)}`;
    let stored: Buffer;
    try {
      stored = await this.store.get(fileKey("data", at.pack), {
        range: { offset: at.offset, length: at.length },
        signal,
      });
    } catch (err) {
      // A pack that is missing or shorter than the index says is damage, not a passing fault.
      if (isStorageError(err, "not-found") || isStorageError(err, "invalid")) {
        throw new CorruptFileError(`${what}: the pack is missing or truncated (${messageOf(err)})`, {
          hint: "run `restic check --read-data` on the repository to see what is damaged",
        });
      }
      throw err;
    }
    if (stored.length !== at.length)
      throw new CorruptFileError(`${what}: pack is truncated (read ${stored.length} of ${at.length} bytes)`);
    return this.openBlob(id, stored, at.uncompressedLength, what);
  }

  /** Decrypts, decompresses and verifies one stored blob. */
  openBlob(id: Id, stored: Buffer, uncompressedLength: number | undefined, what: string): Buffer {
    let plain: Buffer;
    try {
      plain = decrypt(this.key, stored, what);
    } catch (err) {
      throw new CorruptFileError(messageOf(err));
    }
    if (uncompressedLength !== undefined) plain = decompress(plain, what, uncompressedLength);
    if (contentId(plain) !== id) throw new CorruptFileError(`${what}: content does not match its ID`);
    return plain;
  }

  async loadTree(id: Id, signal?: AbortSignal): Promise<Tree> {
    const raw = await this.loadBlob(id, signal);
    try {
      const tree = JSON.parse(raw.toString("utf8")) as Tree;
      if (!Array.isArray(tree.nodes)) throw new Error("no nodes list");
      for (const node of tree.nodes) decodeNode(node);
      return tree;
    } catch (err) {
      throw new CorruptFileError(`tree ${shortId(id)}: not a valid tree (${messageOf(err)})`);
    }
  }

  async saveSnapshot(snapshot: Snapshot): Promise<Id> {
    return saveUnpacked(this.store, this.key, "snapshots", snapshot, {
      compressed: this.compression,
      signal: this.options.signal,
    });
  }

  /**
   * The snapshots, oldest first. One whose file cannot be read is left out with a warning that
   * names it, as restic does: one damaged file does not hide the others.
   */
  async listSnapshots(): Promise<Array<{ id: Id; snapshot: Snapshot }>> {
    const { snapshots, unreadable } = await this.readSnapshots();
    for (const u of unreadable)
      this.warn(`snapshot file ${fileKey("snapshots", u.id)} cannot be read and is skipped: ${u.error}`);
    return snapshots;
  }

  /**
   * The snapshots that read, oldest first, and the files that do not (damaged, or not a
   * snapshot), for whoever must not go on without them (prune). A file that is gone by the
   * time it is read was forgotten meanwhile; a storage failure is thrown, not counted.
   */
  async readSnapshots(): Promise<{
    snapshots: Array<{ id: Id; snapshot: Snapshot }>;
    unreadable: UnreadableSnapshot[];
  }> {
    const ids = await listIds(this.store, "snapshots", this.options.signal);
    const read = await mapBounded(ids, METADATA_READS, async (id) => {
      try {
        return { id, snapshot: await this.loadSnapshot(id) };
      } catch (err) {
        if (isStorageError(err, "not-found")) return undefined;
        if (isStorageError(err)) throw err;
        return { id, error: messageOf(err) };
      }
    });
    const snapshots: Array<{ id: Id; snapshot: Snapshot }> = [];
    const unreadable: UnreadableSnapshot[] = [];
    for (const r of read) {
      if (r?.snapshot) snapshots.push({ id: r.id, snapshot: r.snapshot });
      else if (r?.error !== undefined) unreadable.push({ id: r.id, error: r.error });
    }
    snapshots.sort((a, b) => (a.snapshot.time < b.snapshot.time ? -1 : 1));
    return { snapshots, unreadable };
  }

  async loadSnapshot(id: Id): Promise<Snapshot> {
    const snapshot = await loadUnpacked<Snapshot>(this.store, this.key, "snapshots", id, this.options.signal);
    if (
      typeof snapshot !== "object" ||
      snapshot === null ||
      typeof snapshot.time !== "string" ||
      typeof snapshot.tree !== "string" ||
      !ID_PATTERN.test(snapshot.tree)
    )
      throw new CorruptFileError(`snapshot file ${shortId(id)}: not a snapshot (it has no time or tree)`);
    return snapshot;
  }

  /** A snapshot by full ID, unique prefix, or "latest". */
  async findSnapshot(ref: string): Promise<{ id: Id; snapshot: Snapshot }> {
    if (ref === "latest") {
      const all = await this.listSnapshots();
      const last = all.at(-1);
      if (!last) throw new ArcaError(`the repository at ${this.location} has no snapshots`);
      return last;
    }
    const ids = (await listIds(this.store, "snapshots", this.options.signal)).filter((id) =>
      id.startsWith(ref.toLowerCase()),
    );
    if (ids.length === 0)
      throw new ArcaError(`no snapshot ${ref} in ${this.location}`, {
        hint: "list them with `arca repo snapshots`",
      });
    if (ids.length > 1) throw new ArcaError(`snapshot prefix ${ref} is ambiguous (${ids.length} match)`);
    const id = ids[0] as Id;
    return { id, snapshot: await this.loadSnapshot(id) };
  }

  async addKey(password: string): Promise<Id> {
    checkNewPassword(password);
    const raw = await createKeyFile(this.key, password);
    const id = contentId(raw);
    await this.store.put(fileKey("keys", id), raw, { signal: this.options.signal });
    return id;
  }

  async removeKey(id: Id): Promise<void> {
    if (id === this.keyId)
      throw new ArcaError("refusing to remove the key this session opened the repository with");
    if (!(await this.store.head(fileKey("keys", id))))
      throw new ArcaError(`no key ${shortId(id)} in ${this.location}`);
    await this.store.delete(fileKey("keys", id), { signal: this.options.signal });
  }

  close(): void {
    this.packer?.close();
    this.store.close();
  }
}

/** The packs in data/, with their sizes. */
export async function listPacks(store: ObjectStore, signal?: AbortSignal): Promise<Map<Id, number>> {
  const packs = new Map<Id, number>();
  for await (const item of store.list(listPrefix("data"), { signal })) {
    const id = idFromKey(item.key);
    if (id) packs.set(id, item.size);
  }
  return packs;
}

export async function listIds(
  store: ObjectStore,
  type: Exclude<FileType, "config">,
  signal?: AbortSignal,
): Promise<Id[]> {
  const ids: Id[] = [];
  for await (const item of store.list(listPrefix(type), { signal })) {
    const id = idFromKey(item.key);
    if (id) ids.push(id);
  }
  return ids;
}
