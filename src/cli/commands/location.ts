// arca location check|create|get|delete. `check --location URL` probes a location from here;
// the rest work on BackupLocation objects in the install namespace (location-remote.ts).
import { Option, type Command } from "commander";
import { ArcaError } from "../../common/errors.js";
import { createLogger } from "../../common/log.js";
import { checkLocation, openStore, parseLocation, type CheckReport } from "../../storage/index.js";
import { NAMES } from "../../install/names.js";
import { globalFlags } from "../cluster-flags.js";
import { ossSecretSource } from "../credentials.js";
import { formatTable, outputOption, printOutput } from "../output.js";
import type { CreateFlags } from "./location-remote.js";

// The cluster side loads typebox and the API layer: only commands that use it pay for it.
const remote = () => import("./location-remote.js");

function table(report: CheckReport): string {
  const rows = report.probes.map((p) => [p.probe, p.result, p.permission, p.detail]);
  const lines = [
    `Location: ${report.location}`,
    "",
    formatTable(["CHECK", "RESULT", "PERMISSION", "DETAIL"], rows),
  ];
  if (report.problem) lines.push("", `Problem: ${report.problem}`);
  if (report.hint) lines.push(`Fix:     ${report.hint}`);
  lines.push("", report.ok ? "The location is ready." : "The location cannot be used as it is.");
  return lines.join("\n");
}

export function registerLocation(program: Command): void {
  const location = program.command("location").description("backup locations");
  location
    .command("check")
    .description(
      "with --location URL, probe a location from here with a real write, read, list and delete, and report " +
        "each permission; with NAME, show what the controller found when it last checked that BackupLocation",
    )
    .argument("[name]", "a BackupLocation in the install namespace")
    .option(
      "--location <url>",
      "location URL: file:///path, s3://bucket/prefix?region=..., oss://bucket/prefix?region=...",
    )
    .option(
      "--secret-file <file>",
      "alibaba-addon-secret manifest with access-key-id and access-key-secret (oss://)",
    )
    .addOption(outputOption())
    .action(
      async (
        name: string | undefined,
        opts: { location?: string; secretFile?: string; output: string },
        command: Command,
      ) => {
        if (name && opts.location)
          throw new ArcaError("pass a BackupLocation NAME or --location URL, not both");
        if (name) return (await remote()).checkNamedLocation(command, name, opts.output);
        if (!opts.location)
          throw new ArcaError("which location?", {
            hint: "name a BackupLocation (`arca location check NAME`), or probe a URL with --location URL",
          });
        const log = createLogger();
        const parsed = parseLocation(opts.location);
        const store = openStore(parsed, {
          logger: log,
          ossSecret:
            parsed.provider === "oss"
              ? ossSecretSource({ ...globalFlags(command), secretFile: opts.secretFile }, log)
              : undefined,
          // An operator is waiting: fail fast rather than retry for a minute.
          retry: { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 },
          requestTimeoutMs: 15_000,
          connectTimeoutMs: 5_000,
        });
        try {
          const report = await checkLocation(store, parsed.provider);
          printOutput(opts.output, report, () => table(report));
          if (!report.ok) process.exitCode = 1;
        } finally {
          store.close();
        }
      },
    );

  location
    .command("create")
    .description("name a location for the controller: a BackupLocation")
    .argument("<name>", "location name")
    .requiredOption(
      "--url <url>",
      "file:///path, s3://bucket/prefix?region=..&endpoint=.., oss://bucket/prefix?region=..",
    )
    .option("--default", "backups that name no location go here")
    .option(
      "--credential-secret <name>",
      "Secret with access-key-id and access-key-secret (optionally security-token); default: the provider's chain",
    )
    .option(
      "--password-secret <name>",
      "Secret whose key `password` holds the repository password",
      NAMES.passwordSecret,
    )
    .addOption(
      new Option(
        "--access-mode <mode>",
        "ReadOnly: restore and sync only, as a DR cluster reads its peer's",
      ).choices(["ReadWrite", "ReadOnly"]),
    )
    .option("--validation-frequency <duration>", "how often the controller checks it, e.g. 1m (default 1m)")
    .action(async (name: string, flags: CreateFlags, command: Command) =>
      (await remote()).createLocation(command, name, flags),
    );

  location
    .command("get")
    .description("list the BackupLocations and whether the controller can reach them")
    .argument("[name]", "only this location")
    .addOption(outputOption())
    .action(async (name: string | undefined, flags: { output: string }, command: Command) =>
      (await remote()).getLocations(command, name, flags.output),
    );

  location
    .command("delete")
    .description("forget a BackupLocation; the repository and its backups stay where they are")
    .argument("<name>", "location name")
    .action(async (name: string, _flags: object, command: Command) =>
      (await remote()).deleteLocation(command, name),
    );
}
