// `arca install` and `arca uninstall`: work out the manifests (src/install), apply or print
// them, and say what happened. The flags are in install.ts.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { stringify } from "yaml";
import { ArcaError, messageOf } from "../../common/errors.js";
import { KubeClient } from "../../kube/client.js";
import { hasClusterConfig, loadKubeConfig } from "../../kube/config.js";
import { existingSecrets, install, uninstall, type Step } from "../../install/apply.js";
import {
  chooseCredential,
  installManifests,
  locationUrl,
  type LocationFlags,
} from "../../install/manifests.js";
import { NAMES } from "../../install/names.js";
import { ADDON_SECRET_NAME, parseLocation } from "../../storage/index.js";
import { globalFlags, type GlobalFlags } from "../cluster-flags.js";
import { abortOnSignals } from "../interrupt.js";
import { readPasswordFile } from "../../repo/password.js";

export interface InstallFlags extends LocationFlags {
  secretFile?: string;
  useRamRole?: boolean;
  passwordFile?: string;
  image: string;
  nodeAgent: boolean;
  kubeletRootDir: string;
  dryRun?: boolean;
  output: string;
}

const note = (message: string) => process.stderr.write(`note: ${message}\n`);

function stepLine(s: Step): string {
  const name = s.namespace ? `${s.namespace}/${s.name}` : s.name;
  return `${s.outcome.padEnd(11)} ${s.kind} ${name}${s.note ? ` (${s.note})` : ""}`;
}

async function readSecretFile(file: string): Promise<{ text: string; path: string }> {
  try {
    return { text: await readFile(file, "utf8"), path: file };
  } catch (err) {
    throw new ArcaError(`reading the secret file ${file}: ${messageOf(err)}`);
  }
}

/** How to keep the password outside the cluster; printed once, when this run made it. */
export function savePasswordMessage(namespace: string): string {
  return [
    `The repository password was generated and stored in Secret ${namespace}/${NAMES.passwordSecret}.`,
    "Save a copy outside this cluster now: without it the backups cannot be read, for example",
    "after the cluster is lost.",
    "",
    `  kubectl -n ${namespace} get secret ${NAMES.passwordSecret} -o jsonpath='{.data.${NAMES.passwordKey}}' | base64 -d > arca-password.txt`,
    "",
  ].join("\n");
}

/** Reads which Secrets exist; in a dry run, a cluster that cannot be read means a fresh install. */
async function clusterFacts(flags: GlobalFlags, client: KubeClient | undefined) {
  const none = { addonSecret: false, passwordSecret: false };
  if (!client) return none;
  try {
    return await existingSecrets(client, flags.namespace);
  } catch (err) {
    note(`could not read the cluster (${messageOf(err)}); the output assumes a fresh install`);
    return none;
  }
}

export async function runInstall(flags: InstallFlags, command: Command): Promise<void> {
  const global = globalFlags(command);
  const ns = global.namespace;
  const url = locationUrl(flags);
  const secretFile = flags.secretFile ? await readSecretFile(flags.secretFile) : undefined;
  // Read as restic reads --password-file, so that restic opens the repository with the same file.
  const given = flags.passwordFile ? await readPasswordFile(flags.passwordFile) : undefined;
  const password = given ?? randomBytes(32).toString("base64url");

  const { signal, dispose } = abortOnSignals();
  let client: KubeClient | undefined;
  try {
    if (!flags.dryRun) client = new KubeClient(await loadKubeConfig(global), { signal });
    else if (hasClusterConfig(global))
      // Only reads, and only to decide what the output holds; a cluster out of reach is fine.
      client = await loadKubeConfig(global).then(
        (access) =>
          new KubeClient(access, { signal, retry: { attempts: 2, baseDelayMs: 200, maxDelayMs: 1000 } }),
        () => undefined,
      );
    const facts = flags.dryRun ? await clusterFacts(global, client) : await existingSecrets(client!, ns);
    const { credential, notes } = chooseCredential({
      scheme: parseLocation(url).provider,
      addonSecretExists: facts.addonSecret,
      useRamRole: flags.useRamRole,
      secretFile,
    });
    notes.forEach(note);
    const manifests = installManifests({
      namespace: ns,
      url,
      credential,
      password,
      image: flags.image,
      omitPasswordSecret: flags.dryRun && facts.passwordSecret,
      nodeAgent: flags.nodeAgent,
      kubeletRootDir: flags.kubeletRootDir,
    });

    if (flags.dryRun) {
      if (flags.output === "json")
        process.stdout.write(
          JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests }, null, 2) + "\n",
        );
      else
        process.stdout.write(
          manifests.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n"),
        );
      if (facts.passwordSecret)
        note(
          `Secret ${ns}/${NAMES.passwordSecret} exists and is left out of the output, so that applying it keeps the password`,
        );
      else
        note(
          `the output holds ${given ? "the" : "a generated"} repository password in Secret ${ns}/${NAMES.passwordSecret}: ` +
            "keep a copy, since without it the backups cannot be read; never apply it over an install that has one",
        );
      return;
    }

    const text = flags.output !== "json" && flags.output !== "yaml";
    const result = await install(client!, manifests, {
      signal,
      onStep: (s) => text && process.stdout.write(stepLine(s) + "\n"),
    });
    if (!text) {
      const out = { namespace: ns, location: url, credential: credential.source, steps: result.steps };
      process.stdout.write(flags.output === "json" ? JSON.stringify(out, null, 2) + "\n" : stringify(out));
    }
    const say = (s: string) => (text ? process.stdout : process.stderr).write(s);
    const uses = {
      "addon-secret": `credentials from Secret ${ns}/${ADDON_SECRET_NAME}`,
      "ram-role": "credentials from the nodes' RAM role",
      "secret-file": `credentials from Secret ${ns}/${NAMES.credentialSecret}`,
      "default-chain": "credentials from the AWS default chain",
      none: "no credentials",
    }[credential.source];
    const agent = flags.nodeAgent ? `, DaemonSet ${NAMES.nodeAgent} (the node agent)` : "";
    say(`\nArca is installed in namespace ${ns}: Deployment ${NAMES.deployment}${agent}, and the default\n`);
    say(`backup location ${url}\n(${uses}).\n`);
    if (!result.passwordCreated && given)
      note(
        `--password-file was not used: Secret ${ns}/${NAMES.passwordSecret} exists and keeps its password`,
      );
    if (result.passwordCreated && !given) say(`\n${savePasswordMessage(ns)}`);
  } finally {
    dispose();
    client?.close();
  }
}

export async function runUninstall(
  flags: { includeCrds?: boolean; output: string },
  command: Command,
): Promise<void> {
  const global = globalFlags(command);
  const ns = global.namespace;
  const text = flags.output !== "json" && flags.output !== "yaml";
  if (flags.includeCrds)
    process.stderr.write(
      "warning: deleting the CRDs deletes every Backup, Restore, Schedule and BackupLocation object in\n" +
        "the cluster. The backed-up data stays in storage, untouched; install again and recreate the\n" +
        "locations to see the backups again.\n",
    );
  const { signal, dispose } = abortOnSignals();
  const client = new KubeClient(await loadKubeConfig(global), { signal });
  try {
    const steps = await uninstall(client, ns, {
      crds: flags.includeCrds === true,
      signal,
      onStep: (s) => text && process.stdout.write(stepLine(s) + "\n"),
    });
    if (flags.output === "json")
      process.stdout.write(JSON.stringify({ namespace: ns, steps }, null, 2) + "\n");
    else if (flags.output === "yaml") process.stdout.write(stringify({ namespace: ns, steps }));
    const locations = flags.includeCrds ? "" : " its BackupLocations,";
    (text ? process.stdout : process.stderr).write(
      `\nKept: namespace ${ns}, its Secrets (the repository password and credentials),${locations}\n` +
        "and every backup in storage. `arca install` brings the controller back.\n",
    );
  } finally {
    dispose();
    client.close();
  }
}
