// arca location create|get|delete, and `check NAME`: BackupLocation objects, which the
// in-cluster controller validates on a timer and backs up into. The flags are in location.ts.
import type { Command } from "commander";
import { LABELS } from "../../api/names.js";
import type { ObjectOf } from "../../api/objects.js";
import { checkBackupName, parseDuration } from "../../backup/spec.js";
import { ArcaError } from "../../common/errors.js";
import { getObject } from "../../kube/list.js";
import { builtinResource } from "../../kube/resources.js";
import { parseLocation, redactUrl } from "../../storage/index.js";
import {
  age,
  asOutput,
  getOrList,
  mustGet,
  notFound,
  withArca,
  type ArcaCluster,
  forOutput,
} from "../arca-cluster.js";
import { formatTable, printOutput } from "../output.js";

type Location = ObjectOf<"BackupLocation">;

const SECRETS = builtinResource("v1", "secrets", "Secret");

export interface CreateFlags {
  url: string;
  default?: boolean;
  credentialSecret?: string;
  passwordSecret: string;
  accessMode?: "ReadWrite" | "ReadOnly";
  validationFrequency?: string;
}

const validated = (l: Location) =>
  l.status?.lastValidationTime ? `${age(l.status.lastValidationTime)} ago` : "<never>";

function locationTable(locations: Location[]): string {
  const rows = locations.map((l) => [
    l.metadata.name,
    l.status?.phase ?? "<unknown>",
    redactUrl(l.spec.url),
    l.spec.default ? "true" : "false",
    validated(l),
    l.status?.message ?? "",
  ]);
  return formatTable(["NAME", "PHASE", "URL", "DEFAULT", "LAST-VALIDATED", "MESSAGE"], rows);
}

/** Only whether it exists (its data is never read into a message); unknown when forbidden. */
async function secretMissing(api: ArcaCluster, name: string): Promise<boolean> {
  try {
    return (await getObject(api.client, SECRETS, name, api.namespace)) === undefined;
  } catch {
    return false;
  }
}

export async function createLocation(command: Command, name: string, flags: CreateFlags): Promise<void> {
  checkBackupName(name);
  parseLocation(flags.url);
  if (flags.validationFrequency) parseDuration(flags.validationFrequency);
  await withArca(command, async (api) => {
    if (flags.default) {
      const other = (await api.objects.list("BackupLocation")).find((l) => l.spec.default);
      if (other)
        throw new ArcaError(`BackupLocation ${other.metadata.name} is already the default`, {
          hint: `leave out --default, or first: kubectl -n ${api.namespace} patch backuplocation ${other.metadata.name} --type merge -p '{"spec":{"default":false}}'`,
        });
    }
    await api.objects.create("BackupLocation", name, {
      url: flags.url,
      ...(flags.default ? { default: true } : {}),
      ...(flags.accessMode ? { accessMode: flags.accessMode } : {}),
      ...(flags.credentialSecret ? { credential: { name: flags.credentialSecret } } : {}),
      password: { name: flags.passwordSecret, key: "password" },
      ...(flags.validationFrequency ? { validationFrequency: flags.validationFrequency } : {}),
    });
    process.stdout.write(
      `BackupLocation ${name} created in namespace ${api.namespace}; the controller checks it ` +
        `(\`arca location check ${name}\` shows the result)\n`,
    );
    for (const secret of [flags.passwordSecret, flags.credentialSecret])
      if (secret && (await secretMissing(api, secret)))
        process.stderr.write(
          `warning: there is no Secret ${secret} in namespace ${api.namespace} yet; the location stays ` +
            `Unavailable until it exists\n`,
        );
  });
}

export async function getLocations(
  command: Command,
  name: string | undefined,
  output: string,
): Promise<void> {
  await withArca(command, async (api) => {
    const all = await getOrList(api, "BackupLocation", name);
    printOutput(output, asOutput(name, all), () =>
      all.length ? locationTable(all) : `no backup locations in namespace ${api.namespace}`,
    );
  });
}

export async function deleteLocation(command: Command, name: string): Promise<void> {
  await withArca(command, async (api) => {
    const l = await mustGet(api, "BackupLocation", name);
    if (!(await api.objects.delete("BackupLocation", name))) throw notFound(api, "BackupLocation", name);
    const backups = await api.objects.list("Backup", `${LABELS.location}=${name}`);
    process.stdout.write(
      `deleted BackupLocation ${name}; the data at ${redactUrl(l.spec.url)} stays` +
        (backups.length ? `, and so do the ${backups.length} Backup objects stored there` : "") +
        "\n",
    );
  });
}

/** `location check NAME`: what the controller found when it last checked the location. */
export async function checkNamedLocation(command: Command, name: string, output: string): Promise<void> {
  await withArca(command, async (api) => {
    const l = await mustGet(api, "BackupLocation", name);
    const s = l.status ?? {};
    printOutput(output, forOutput(l), () =>
      [
        `Location:        ${name} (${redactUrl(l.spec.url)})`,
        `Phase:           ${s.phase ?? "<not checked yet>"}`,
        `Message:         ${s.message ?? "<none>"}`,
        `Last validated:  ${s.lastValidationTime ?? "<never>"}${s.lastValidationTime ? ` (${validated(l)})` : ""}`,
        `Last synced:     ${s.lastSyncTime ?? "<never>"}`,
        `Access mode:     ${l.spec.accessMode ?? "ReadWrite"}${l.spec.default ? ", default" : ""}`,
        "",
        s.phase === "Available"
          ? "The controller can use the location."
          : s.phase === "Unavailable"
            ? `The controller cannot use the location. Probe it from here: arca location check --location '${redactUrl(l.spec.url)}'`
            : "The controller has not checked the location yet.",
      ].join("\n"),
    );
    if (s.phase === "Unavailable") process.exitCode = 1;
  });
}
