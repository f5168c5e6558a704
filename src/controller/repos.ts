// Opening a BackupLocation's repository with what its Secrets hold: the password, and the
// storage keys when the location names a credential Secret. Each run opens its own
// repository, so concurrent backups share no in-memory index.
import { setTimeout as sleep } from "node:timers/promises";
import { ArcaError } from "../common/errors.js";
import { LockedError } from "../repo/lock.js";
import type { Logger } from "../common/log.js";
import type { BackupLocation } from "../api/location.js";
import type { KubeClient } from "../kube/client.js";
import { readSecretData } from "../kube/secrets.js";
import { passwordFromText } from "../repo/password.js";
import { Repository, WrongPasswordError } from "../repo/repository.js";
import { secretSource } from "../storage/alibaba-credentials.js";
import { openStore, type OpenOptions } from "../storage/open.js";
import { parseLocation, redactUrl } from "../storage/location.js";
import type { RetryPolicy } from "../common/retry.js";

export interface RepoAccess {
  client: KubeClient;
  namespace: string;
  logger: Logger;
}

async function secretKey(
  access: RepoAccess,
  name: string,
  key: string,
  signal?: AbortSignal,
): Promise<string> {
  const data = await readSecretData(access.client.access, access.namespace, name, signal);
  if (!data)
    throw new ArcaError(`Secret ${access.namespace}/${name} does not exist`, {
      hint: "create it, or fix the BackupLocation's reference",
    });
  const value = data[key];
  if (value === undefined)
    throw new ArcaError(`Secret ${access.namespace}/${name} has no key ${key}`, {
      hint: "add the key, or fix the BackupLocation's reference",
    });
  return value;
}

export async function openLocationRepository(
  access: RepoAccess,
  location: BackupLocation,
  options: {
    create?: boolean;
    signal?: AbortSignal;
    retry?: RetryPolicy;
    requestTimeoutMs?: number;
    /** false when only whether it opens matters: the index is not read. */
    index?: boolean;
  } = {},
): Promise<Repository> {
  const { spec } = location;
  const what = `BackupLocation ${location.metadata.name} (${redactUrl(spec.url)})`;
  const passwordKey = spec.password.key ?? "password";
  const passwordHint = `put the password this repository was made with into Secret ${access.namespace}/${spec.password.name} (key ${passwordKey})`;
  // The Secret's value means what it would in a password file given to restic.
  const password = passwordFromText(await secretKey(access, spec.password.name, passwordKey, options.signal));
  if (!password)
    throw new ArcaError(
      `${what}: the password in Secret ${access.namespace}/${spec.password.name} (key ${passwordKey}) is empty`,
      { hint: `${passwordHint}; restic cannot open a repository with an empty password either` },
    );
  const parsed = parseLocation(spec.url);
  const storeOptions: OpenOptions = {
    logger: access.logger,
    retry: options.retry,
    requestTimeoutMs: options.requestTimeoutMs,
  };
  const cred = spec.credential;
  if (cred) {
    const read = async (signal?: AbortSignal) =>
      readSecretData(access.client.access, access.namespace, cred.name, signal);
    if (parsed.provider === "oss")
      storeOptions.ossSecret = secretSource(`Secret ${access.namespace}/${cred.name}`, read);
    else if (parsed.provider === "s3") {
      const keys = await read(options.signal);
      const id = keys?.["access-key-id"];
      const secret = keys?.["access-key-secret"];
      if (!id || !secret)
        throw new ArcaError(
          `${what}: Secret ${access.namespace}/${cred.name} lacks access-key-id or access-key-secret`,
        );
      storeOptions.s3Credentials = {
        accessKeyId: id,
        secretAccessKey: secret,
        sessionToken: keys["security-token"],
      };
    }
  }
  const store = openStore(parsed, storeOptions);
  const repoOptions = {
    signal: options.signal,
    index: options.index,
    warn: (message: string) => access.logger.warn({}, message),
  };
  try {
    // The location's validation and a backup may both find it empty: the loser opens what the
    // winner made.
    if (options.create && spec.accessMode !== "ReadOnly")
      return (await Repository.openOrInit(store, password, repoOptions)).repo;
    return await Repository.open(store, password, repoOptions);
  } catch (err) {
    store.close();
    // The engine's hint names the CLI's flags; here the password comes from a Secret.
    if (err instanceof WrongPasswordError)
      throw new ArcaError(`${what}: ${err.message}`, { hint: passwordHint });
    throw err;
  }
}

/**
 * Runs `op`, waiting while someone holds the repository exclusively (a prune from a deletion,
 * here or in another cluster): the engines take their lock before they write anything, so
 * starting again is safe. Gives up after `maxMs` with the lock's own message.
 */
export async function waitingForLock<T>(
  signal: AbortSignal,
  onWait: (message: string) => void,
  op: () => Promise<T>,
  maxMs = 15 * 60_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof LockedError) || Date.now() - started > maxMs || signal.aborted) throw err;
      onWait(err.message);
      await sleep(3000, undefined, { signal });
    }
  }
}
