// Where a backup or restore command does its work. With --local (or, for the commands that
// only read, a location URL), the CLI opens the repository itself; otherwise it asks the
// in-cluster component through the arca.dev objects in the install namespace (-n).
import { Option, type Command } from "commander";
import { ArcaError } from "../common/errors.js";

export interface ModeFlags {
  /** A BackupLocation name, or with --local a location URL. */
  location?: string;
  passwordFile?: string;
  local?: boolean;
}

const isUrl = (value: string | undefined): boolean =>
  value !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(value);

/** --location NAME|URL (ARCA_LOCATION), --password-file and --local. */
export function addModeFlags(command: Command, localHelp: string): Command {
  return command
    .addOption(
      new Option(
        "--location <name|url>",
        "a BackupLocation's name; with --local, the location's URL (file://, s3://, oss://)",
      ).env("ARCA_LOCATION"),
    )
    .addOption(
      new Option("--password-file <file>", "file holding the repository password (--local)").env(
        "ARCA_PASSWORD_FILE",
      ),
    )
    .option("--local", localHelp);
}

/**
 * Work that changes things (create) runs locally only with --local. Reading commands also
 * read the repository directly when given a location URL, as they always have.
 */
export function runsLocally(command: Command, { reading }: { reading: boolean }): boolean {
  const flags = command.opts<ModeFlags>();
  if (flags.local) {
    if (!isUrl(flags.location))
      throw new ArcaError(
        flags.location
          ? `with --local, --location is the location's URL, not ${JSON.stringify(flags.location)}`
          : "--local needs the location's URL",
        {
          hint: "pass --location file:///path, s3://bucket/prefix?region=.. or oss://bucket/prefix?region=.., or set ARCA_LOCATION",
        },
      );
    return true;
  }
  return reading && isUrl(flags.location);
}

/**
 * The BackupLocation named on the command line, for work done in the cluster. A URL from
 * ARCA_LOCATION is the local mode's setting and is ignored; one typed on the command line is
 * a mistake worth stopping for.
 */
export function clusterLocation(command: Command): string | undefined {
  const flags = command.opts<ModeFlags>();
  if (command.getOptionValueSource("location") !== "cli") return undefined;
  if (isUrl(flags.location))
    throw new ArcaError(`without --local, --location names a BackupLocation, not a URL (${flags.location})`, {
      hint: "pass --local to work on the URL from here, or create a BackupLocation for it with `arca location create NAME --url URL`",
    });
  return flags.location;
}
