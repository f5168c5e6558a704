// --repo and the repository password: --password-file, ARCA_PASSWORD or ARCA_PASSWORD_FILE.
import { Option, type Command } from "commander";
import { ArcaError } from "../common/errors.js";
import { createLogger } from "../common/log.js";
import { readPasswordFile } from "../repo/password.js";
import { withLock } from "../repo/lock.js";
import type { Repository } from "../repo/repository.js";
import {
  openLocation as openJobLocation,
  type LocationSource,
  type OpenedLocation,
  type OpenLocationOptions,
} from "../jobs/location.js";
import { openStore, parseLocation } from "../storage/index.js";
import { globalFlags } from "./cluster-flags.js";
import { ossSecretSource } from "./credentials.js";

export interface RepoFlags {
  repo: string;
  passwordFile?: string;
  /** false with --no-lock (commander's negated option). */
  lock?: boolean;
}

export function addRepoFlags(command: Command): Command {
  return command
    .addOption(
      new Option("-r, --repo <url>", "repository location URL").env("ARCA_REPOSITORY").makeOptionMandatory(),
    )
    .addOption(
      new Option("--password-file <file>", "file holding the repository password").env("ARCA_PASSWORD_FILE"),
    );
}

export interface LocationFlags {
  location: string;
  passwordFile?: string;
  /** false with --no-lock (commander's negated option). */
  lock?: boolean;
}

/** The backup commands name their repository as a location, as a BackupLocation will. */
export function addLocationFlags(command: Command): Command {
  return command
    .addOption(
      new Option("--location <url>", "backup location URL (file://, s3://, oss://)")
        .env("ARCA_LOCATION")
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--password-file <file>", "file holding the repository password").env("ARCA_PASSWORD_FILE"),
    );
}

/** Where the CLI's repository inputs come from: the URL, the password flags, the storage keys. */
export function locationSource(
  url: string,
  flags: { passwordFile?: string },
  command: Command,
): LocationSource {
  return {
    url,
    password: {
      read: () => readPassword(flags),
      hint: "check --password-file / ARCA_PASSWORD / ARCA_PASSWORD_FILE",
    },
    credentials: async () => {
      const location = parseLocation(url);
      if (location.provider !== "oss") return undefined;
      return { ossSecret: ossSecretSource(globalFlags(command), createLogger()) };
    },
    store: { logger: createLogger() },
  };
}

/** The location (--location) as a job's input. */
export const cliLocation = (command: Command): LocationSource => {
  const flags = command.opts<LocationFlags>();
  return locationSource(flags.location, flags, command);
};

/**
 * Opens the location's repository. With `create`, a location that holds none gets one, once
 * `create` (a promise: whatever else the command needs, such as its kubeconfig) has come
 * through: a command that fails for another reason leaves the location as it found it.
 */
export async function openLocation(
  command: Command,
  options: { create?: boolean | Promise<unknown>; signal?: AbortSignal } = {},
): Promise<OpenedLocation> {
  const flags = command.opts<LocationFlags>();
  return openJobLocation(cliLocation(command), { ...sessionOptions(flags), ...options });
}

/** --no-lock, on the commands that only read. */
export function addNoLockFlag(command: Command): Command {
  return command.option(
    "--no-lock",
    "take no lock and write nothing: for a repository that cannot be written (read-only mount or credentials, full disk); a prune running meanwhile may make the command fail",
  );
}

/** What every CLI session opens a repository with: --no-lock, and notices on stderr. */
export function sessionOptions(flags: { lock?: boolean }): { noLock: boolean; warn(message: string): void } {
  return {
    noLock: flags.lock === false,
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
  };
}

/**
 * The password, meaning what it means to restic: a file's surrounding white space is not part
 * of it (as with --password-file), ARCA_PASSWORD is taken as it is (as RESTIC_PASSWORD). restic
 * refuses an empty one, and so does this.
 */
export async function readPassword(flags: { passwordFile?: string }): Promise<string> {
  if (flags.passwordFile) return readPasswordFile(flags.passwordFile);
  const password = process.env.ARCA_PASSWORD;
  if (password) return password;
  throw new ArcaError("no repository password given", {
    hint: "pass --password-file FILE, or set ARCA_PASSWORD or ARCA_PASSWORD_FILE",
  });
}

export function storeFor(url: string, command: Command) {
  const log = createLogger();
  const location = parseLocation(url);
  return openStore(location, {
    logger: log,
    ossSecret: location.provider === "oss" ? ossSecretSource(globalFlags(command), log) : undefined,
  });
}

/** The repository (--repo) as a job's input. */
export const cliRepository = (command: Command): LocationSource => {
  const flags = command.opts<RepoFlags>();
  return locationSource(flags.repo, flags, command);
};

export async function openRepository(
  command: Command,
  options: Omit<OpenLocationOptions, "create"> = {},
): Promise<Repository> {
  const flags = command.opts<RepoFlags>();
  return (await openJobLocation(cliRepository(command), { ...sessionOptions(flags), ...options })).repo;
}

/** Opens the location's repository for `work`, and closes it however the work ends. */
export async function withLocation<T>(command: Command, work: (repo: Repository) => Promise<T>): Promise<T> {
  const { repo } = await openLocation(command);
  try {
    return await work(repo);
  } finally {
    repo.close();
  }
}

/** `withLocation` for work that only reads: under a shared lock, as restic's readers, or none with --no-lock. */
export function readLocation<T>(command: Command, work: (repo: Repository) => Promise<T>): Promise<T> {
  return withLocation(command, (repo) => withLock(repo, false, () => work(repo)));
}
