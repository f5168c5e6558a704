// --repo and the repository password: --password-file, ARCA_PASSWORD or ARCA_PASSWORD_FILE.
import { Option, type Command } from "commander";
import { ArcaError } from "../common/errors.js";
import { createLogger } from "../common/log.js";
import { readPasswordFile } from "../repo/password.js";
import { withLock } from "../repo/lock.js";
import { NoRepositoryError, Repository, type OpenOptions } from "../repo/repository.js";
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

/**
 * Opens the location's repository. With `create`, a location that holds none gets one, once
 * `create` (a promise: whatever else the command needs, such as its kubeconfig) has come
 * through: a command that fails for another reason leaves the location as it found it.
 */
export async function openLocation(
  command: Command,
  options: { create?: boolean | Promise<unknown>; signal?: AbortSignal } = {},
): Promise<{ repo: Repository; created: boolean }> {
  const flags = command.opts<LocationFlags>();
  const password = await readPassword(flags);
  const store = storeFor(flags.location, command);
  const open = { ...sessionOptions(flags), signal: options.signal };
  try {
    return { repo: await Repository.open(store, password, open), created: false };
  } catch (err) {
    if (!(options.create && err instanceof NoRepositoryError)) throw err;
    await options.create;
    // Another process may make it meanwhile: then this one opens it.
    return Repository.openOrInit(store, password, open);
  }
}

/** --no-lock, on the commands that only read. */
export function addNoLockFlag(command: Command): Command {
  return command.option(
    "--no-lock",
    "take no lock and write nothing: for a repository that cannot be written (read-only mount or credentials, full disk); a prune running meanwhile may make the command fail",
  );
}

/** What every CLI session opens a repository with: --no-lock, and notices on stderr. */
function sessionOptions(flags: { lock?: boolean }): OpenOptions {
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

export async function openRepository(command: Command, options: OpenOptions = {}): Promise<Repository> {
  const flags = command.opts<RepoFlags>();
  const password = await readPassword(flags);
  return Repository.open(storeFor(flags.repo, command), password, { ...sessionOptions(flags), ...options });
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
