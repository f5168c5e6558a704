// restic's lock protocol: a lock is an encrypted JSON file in locks/. Writers and readers take
// non-exclusive locks; prune, forget and check take an exclusive one. A lock not refreshed for
// 30 minutes, or held by a process that no longer exists on this host, is stale and ignored;
// one of a dead process on this host is also removed when seen, since restic itself would stop
// on it. A repository opened with --no-lock takes no lock at all.
import { hostname, userInfo } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { ArcaError, messageOf } from "../common/errors.js";
import { processExists } from "../common/process.js";
import { isStorageError } from "../storage/index.js";
import { fileKey, shortId, type Id } from "./layout.js";
import type { Repository } from "./repository.js";
import { listIds } from "./repository.js";
import { formatTime, parseTimeNs } from "./time.js";
import { loadUnpacked, saveUnpacked } from "./unpacked.js";

export interface LockJson {
  time: string;
  exclusive: boolean;
  hostname: string;
  username: string;
  pid: number;
  uid?: number;
  gid?: number;
}

export const STALE_AFTER_MS = 30 * 60_000;
export const REFRESH_EVERY_MS = 5 * 60_000;

export class LockedError extends ArcaError {}

let holding = 0;
const ignoreHangup = () => {};

/** Held by a process of this host that is gone: no one will ever remove it but us. */
function ofDeadLocalProcess(lock: LockJson): boolean {
  return lock.hostname === hostname() && !processExists(lock.pid);
}

export function isStale(lock: LockJson, now = Date.now()): boolean {
  let age: number;
  try {
    age = now - Number(parseTimeNs(lock.time) / 1_000_000n);
  } catch {
    return true;
  }
  if (age > STALE_AFTER_MS) return true;
  return ofDeadLocalProcess(lock);
}

const holder = (lock: LockJson) => `${lock.username}@${lock.hostname} (pid ${lock.pid}) since ${lock.time}`;

function describe(id: Id, lock: LockJson): string {
  return `${lock.exclusive ? "an exclusive" : "a"} lock ${shortId(id)} held by ${holder(lock)}`;
}

export class RepositoryLock {
  private timer: NodeJS.Timeout | undefined;
  /** Without --no-lock's nothing-to-release lock, the lock file's ID. */
  private id: Id | undefined;
  /** Settles once the second look for conflicting locks is done; rejects if it found one. */
  confirmed: Promise<void> = Promise.resolve();

  private constructor(
    private readonly repo: Repository,
    id: Id | undefined,
    private readonly exclusive: boolean,
  ) {
    this.id = id;
  }

  /**
   * Takes a lock, or fails naming who holds the conflicting one. Two processes may have
   * checked at once, so the check runs again once our lock file is surely visible. With
   * `confirmLater` (writers only) this returns before that second check: the writer may add
   * packs meanwhile, which nothing references if the check fails, but it must await
   * `confirmed` before it writes an index or a snapshot.
   */
  static async acquire(
    repo: Repository,
    exclusive: boolean,
    { confirmLater = false }: { confirmLater?: boolean } = {},
  ): Promise<RepositoryLock> {
    if (exclusive && confirmLater) throw new Error("an exclusive lock is confirmed before use");
    // Nothing can be written (the store refuses): whatever runs now only reads.
    if (repo.noLock) return new RepositoryLock(repo, undefined, exclusive);
    await RepositoryLock.checkConflicts(repo, exclusive, undefined);
    const id = await RepositoryLock.write(repo, exclusive);
    const lock = new RepositoryLock(repo, id, exclusive);
    lock.timer = setInterval(() => void lock.refresh().catch(() => undefined), REFRESH_EVERY_MS);
    lock.timer.unref();
    holding++;
    // restic probes same-host lock holders with SIGHUP to see if they are alive; that probe
    // must not kill us.
    if (holding === 1) process.on("SIGHUP", ignoreHangup);
    lock.confirmed = sleep(200).then(() => RepositoryLock.checkConflicts(repo, exclusive, id));
    lock.confirmed.catch(() => undefined); // seen below, or by the writer when it awaits
    try {
      // A prune that ran between opening and now replaced index files: no prune can start
      // from here on, so the index read now is the one this lock protects.
      await repo.syncIndex();
      if (!confirmLater) await lock.confirmed;
    } catch (err) {
      await lock.release();
      throw err;
    }
    return lock;
  }

  private static async write(repo: Repository, exclusive: boolean): Promise<Id> {
    const lock: LockJson = {
      time: formatTime(new Date()),
      exclusive,
      hostname: hostname(),
      username: userInfo().username,
      pid: process.pid,
      uid: process.getuid?.(),
      gid: process.getgid?.(),
    };
    try {
      return await saveUnpacked(repo.store, repo.key, "locks", lock, { compressed: repo.compression });
    } catch (err) {
      throw cannotWriteLock(repo, err);
    }
  }

  private static async checkConflicts(
    repo: Repository,
    exclusive: boolean,
    own: Id | undefined,
  ): Promise<void> {
    for (const id of await listIds(repo.store, "locks")) {
      if (id === own) continue;
      let lock: LockJson;
      try {
        lock = await loadUnpacked<LockJson>(repo.store, repo.key, "locks", id);
      } catch {
        continue; // removed meanwhile, or unreadable: not a lock we can honour
      }
      if (ofDeadLocalProcess(lock)) {
        await removeDeadLock(repo, id, lock);
        continue;
      }
      if (isStale(lock)) continue;
      if (exclusive || lock.exclusive) {
        throw new LockedError(`the repository at ${repo.location} is locked: ${describe(id, lock)}`, {
          hint: lock.exclusive
            ? "wait for that operation (prune, check, forget) to finish; if its process is gone, `arca repo unlock` removes the lock once it is stale (30 minutes), `--remove-all` at once"
            : "wait for running backups and restores to finish; if the process is gone, `arca repo unlock` removes the lock once it is stale (30 minutes)",
        });
      }
    }
  }

  /** Replaces the lock file with a fresh one, as restic does. */
  async refresh(): Promise<void> {
    const old = this.id;
    if (old === undefined) return;
    this.id = await RepositoryLock.write(this.repo, this.exclusive);
    await this.repo.store.delete(fileKey("locks", old));
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.timer && --holding === 0) process.off("SIGHUP", ignoreHangup);
    this.timer = undefined;
    if (this.id !== undefined) await this.repo.store.delete(fileKey("locks", this.id));
  }
}

/** Runs `work` under a lock, released however it ends. */
export async function withLock<T>(repo: Repository, exclusive: boolean, work: () => Promise<T>): Promise<T> {
  const lock = await RepositoryLock.acquire(repo, exclusive);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

/** A lock that cannot be written, said in terms of what the user can do about it. */
function cannotWriteLock(repo: Repository, err: unknown): unknown {
  if (!isStorageError(err)) return err;
  const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
  const full =
    code === "ENOSPC" || code === "EDQUOT" || err.status === 507 || /StorageFull|quota/i.test(err.detail);
  if (!full && err.kind !== "access-denied") return err;
  return new ArcaError(
    `could not write a lock to ${repo.location}: ${err.detail}; the repository may be ${full ? "on a full disk" : "read-only"}`,
    {
      cause: err,
      hint: `for a read-only command (repo snapshots, repo check, fs restore, restore create --local, backup describe, backup download) pass --no-lock${full ? "; to write, free space first" : ""}`,
    },
  );
}

/** A lock of a dead process of this host: removed, and said so. */
async function removeDeadLock(repo: Repository, id: Id, lock: LockJson): Promise<void> {
  try {
    await repo.store.delete(fileKey("locks", id));
  } catch (err) {
    // Still stale, so still ignored: only the removal is lost.
    repo.warn(`could not remove stale lock ${shortId(id)} of ${holder(lock)}: ${messageOf(err)}`);
    return;
  }
  repo.warn(`removed stale lock ${shortId(id)} of ${holder(lock)}: that process no longer exists`);
}

export interface UnlockResult {
  removed: Array<{ id: Id; lock?: LockJson }>;
  /** Locks left in place: live ones (without removeAll) and those that cannot be read. */
  kept: number;
}

/**
 * `repo unlock`, as restic's: removes the stale locks (older than 30 minutes, or of a process
 * of this host that is gone); with `removeAll`, every lock, live or not, readable or not.
 */
export async function unlockRepository(
  repo: Repository,
  { removeAll = false, signal }: { removeAll?: boolean; signal?: AbortSignal } = {},
): Promise<UnlockResult> {
  const result: UnlockResult = { removed: [], kept: 0 };
  for (const id of await listIds(repo.store, "locks", signal)) {
    let lock: LockJson | undefined;
    try {
      lock = await loadUnpacked<LockJson>(repo.store, repo.key, "locks", id, signal);
    } catch (err) {
      if (isStorageError(err, "not-found")) continue;
      if (isStorageError(err)) throw err;
      // restic leaves a lock it cannot read; only --remove-all takes it.
      if (!removeAll) {
        result.kept++;
        continue;
      }
    }
    if (!removeAll && lock && !isStale(lock)) {
      result.kept++;
      continue;
    }
    await repo.store.delete(fileKey("locks", id), { signal });
    result.removed.push({ id, lock });
  }
  return result;
}
