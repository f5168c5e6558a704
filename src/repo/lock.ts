// restic's lock protocol: a lock is an encrypted JSON file in locks/. Writers and readers take
// non-exclusive locks; prune, forget and check take an exclusive one. A lock not refreshed for
// 30 minutes, or held by a process that no longer exists on this host, is stale and ignored.
import { hostname, userInfo } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { ArcaError } from "../common/errors.js";
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function isStale(lock: LockJson, now = Date.now()): boolean {
  let age: number;
  try {
    age = now - Number(parseTimeNs(lock.time) / 1_000_000n);
  } catch {
    return true;
  }
  if (age > STALE_AFTER_MS) return true;
  return lock.hostname === hostname() && !alive(lock.pid);
}

function describe(id: Id, lock: LockJson): string {
  return `${lock.exclusive ? "an exclusive" : "a"} lock ${shortId(id)} held by ${lock.username}@${lock.hostname} (pid ${lock.pid}) since ${lock.time}`;
}

export class RepositoryLock {
  private timer: NodeJS.Timeout | undefined;
  /** Settles once the second look for conflicting locks is done; rejects if it found one. */
  confirmed: Promise<void> = Promise.resolve();

  private constructor(
    private readonly repo: Repository,
    private id: Id,
    private readonly exclusive: boolean,
  ) {}

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

  private static write(repo: Repository, exclusive: boolean): Promise<Id> {
    const lock: LockJson = {
      time: formatTime(new Date()),
      exclusive,
      hostname: hostname(),
      username: userInfo().username,
      pid: process.pid,
      uid: process.getuid?.(),
      gid: process.getgid?.(),
    };
    return saveUnpacked(repo.store, repo.key, "locks", lock, { compressed: repo.compression });
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
      if (isStale(lock)) continue;
      if (exclusive || lock.exclusive) {
        throw new LockedError(`the repository at ${repo.location} is locked: ${describe(id, lock)}`, {
          hint: lock.exclusive
            ? "wait for that operation (prune, check, forget) to finish; if the process is gone, the lock turns stale after 30 minutes"
            : "wait for running backups and restores to finish",
        });
      }
    }
  }

  /** Replaces the lock file with a fresh one, as restic does. */
  async refresh(): Promise<void> {
    const old = this.id;
    this.id = await RepositoryLock.write(this.repo, this.exclusive);
    await this.repo.store.delete(fileKey("locks", old));
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.timer && --holding === 0) process.off("SIGHUP", ignoreHangup);
    this.timer = undefined;
    await this.repo.store.delete(fileKey("locks", this.id));
  }
}
