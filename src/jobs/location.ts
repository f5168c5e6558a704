// One way to open a location's repository, whoever asks: the CLI (password from a file or the
// environment, storage keys from the environment or a Secret file), the controller and the
// node agent (both from a BackupLocation's Secrets). Only where the inputs come from differs.
import type { Logger } from "../common/log.js";
import {
  NoRepositoryError,
  Repository,
  WrongPasswordError,
  type OpenOptions as RepoOpenOptions,
} from "../repo/repository.js";
import { openStore, type OpenOptions as StoreOptions } from "../storage/open.js";
import { parseLocation } from "../storage/location.js";

export interface PasswordSource {
  /** The password as restic would take it; refuses a missing or empty one, naming where it looked. */
  read(signal?: AbortSignal): Promise<string>;
  /** What to do about a wrong password, in the words of where it came from. */
  hint: string;
}

/** Storage keys: for s3://, explicit keys (the AWS chain otherwise); for oss://, a Secret source. */
export type StoreCredentials = Pick<StoreOptions, "s3Credentials" | "ossSecret">;

export interface LocationSource {
  url: string;
  /** How errors name it, e.g. "BackupLocation shop (s3://…)"; the repository's own location otherwise. */
  name?: string;
  password: PasswordSource;
  credentials?: (signal?: AbortSignal) => Promise<StoreCredentials | undefined>;
  /** Storage settings; the opener's logger when none is given. */
  store?: Omit<StoreOptions, keyof StoreCredentials>;
}

export interface OpenLocationOptions extends Pick<
  RepoOpenOptions,
  "signal" | "index" | "noLock" | "warn" | "skipDamagedIndex"
> {
  /**
   * A location that holds no repository gets one, once this settles (a promise: whatever else
   * the work needs, such as its kubeconfig), so that work failing for another reason leaves
   * the location as it found it.
   */
  create?: boolean | Promise<unknown>;
  logger?: Logger;
}

export interface OpenedLocation {
  repo: Repository;
  created: boolean;
}

export async function openLocation(
  source: LocationSource,
  options: OpenLocationOptions = {},
): Promise<OpenedLocation> {
  const { signal, create } = options;
  const password = await source.password.read(signal);
  const parsed = parseLocation(source.url);
  const credentials = await source.credentials?.(signal);
  const store = openStore(parsed, { logger: options.logger, ...source.store, ...credentials });
  const repoOptions: RepoOpenOptions = {
    signal,
    index: options.index,
    noLock: options.noLock,
    warn: options.warn,
    skipDamagedIndex: options.skipDamagedIndex,
  };
  try {
    try {
      return { repo: await Repository.open(store, password, repoOptions), created: false };
    } catch (err) {
      if (!(create && err instanceof NoRepositoryError)) throw err;
      await create;
      // Another process (a location's validation, a second backup) may make it meanwhile:
      // then this one opens what that one made.
      return await Repository.openOrInit(store, password, repoOptions);
    }
  } catch (err) {
    store.close();
    // The repository layer's hint names the CLI's flags; the source knows where the password came from.
    if (err instanceof WrongPasswordError)
      throw new WrongPasswordError(source.name ? `${source.name}: ${err.message}` : err.message, {
        hint: source.password.hint,
        cause: err,
      });
    throw err;
  }
}
