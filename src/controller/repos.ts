// Opening a BackupLocation's repository with what its Secrets hold: the password, and the
// storage keys when the location names a credential Secret. Each run opens its own
// repository, so concurrent backups share no in-memory index.
import { ArcaError } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import type { BackupLocation } from "../api/location.js";
import type { KubeClient } from "../kube/client.js";
import { readSecretData } from "../kube/secrets.js";
import { passwordFromText } from "../repo/password.js";
import type { Repository } from "../repo/repository.js";
import { openLocation, type LocationSource } from "../jobs/location.js";
import { secretSource } from "../storage/alibaba-credentials.js";
import { parseLocation, redactUrl } from "../storage/location.js";
import type { RetryPolicy } from "../common/retry.js";

export interface RepoAccess {
  client: KubeClient;
  namespace: string;
  logger: Logger;
}

async function secretKey(
  access: Pick<RepoAccess, "client" | "namespace">,
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

/**
 * Where a BackupLocation's repository inputs come from: its password and credential Secrets.
 * Without a logger, storage logs to the job's.
 */
export function locationSource(
  access: Omit<RepoAccess, "logger"> & { logger?: Logger },
  location: BackupLocation,
): LocationSource {
  const { spec } = location;
  const passwordKey = spec.password.key ?? "password";
  const passwordSecret = `Secret ${access.namespace}/${spec.password.name} (key ${passwordKey})`;
  const passwordHint = `put the password this repository was made with into ${passwordSecret}`;
  const name = `BackupLocation ${location.metadata.name} (${redactUrl(spec.url)})`;
  const cred = spec.credential;
  return {
    url: spec.url,
    name,
    password: {
      hint: passwordHint,
      read: async (signal) => {
        // The Secret's value means what it would in a password file given to restic.
        const password = passwordFromText(await secretKey(access, spec.password.name, passwordKey, signal));
        if (!password)
          throw new ArcaError(`${name}: the password in ${passwordSecret} is empty`, {
            hint: `${passwordHint}; restic cannot open a repository with an empty password either`,
          });
        return password;
      },
    },
    credentials: cred
      ? async (signal) => {
          const read = async (signal?: AbortSignal) =>
            readSecretData(access.client.access, access.namespace, cred.name, signal);
          const provider = parseLocation(spec.url).provider;
          if (provider === "oss")
            return { ossSecret: secretSource(`Secret ${access.namespace}/${cred.name}`, read) };
          if (provider !== "s3") return undefined;
          const keys = await read(signal);
          const id = keys?.["access-key-id"];
          const secret = keys?.["access-key-secret"];
          if (!id || !secret)
            throw new ArcaError(
              `${name}: Secret ${access.namespace}/${cred.name} lacks access-key-id or access-key-secret`,
            );
          return {
            s3Credentials: { accessKeyId: id, secretAccessKey: secret, sessionToken: keys["security-token"] },
          };
        }
      : undefined,
    store: access.logger ? { logger: access.logger } : {},
  };
}

/** A run's options for the location: a ReadWrite location that holds no repository gets one when `create`. */
export const createsIn = (location: BackupLocation, create: boolean) =>
  create && location.spec.accessMode !== "ReadOnly";

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
  const source = locationSource(access, location);
  source.store = { ...source.store, retry: options.retry, requestTimeoutMs: options.requestTimeoutMs };
  const opened = await openLocation(source, {
    create: createsIn(location, options.create === true),
    signal: options.signal,
    index: options.index,
    warn: (message: string) => access.logger.warn({}, message),
  });
  return opened.repo;
}
