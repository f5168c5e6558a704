// `arca install` and `arca uninstall`: the flags. The work is in install-run.ts.
import { Option, type Command } from "commander";
import { DEFAULT_KUBELET_ROOT_DIR, defaultImage, PROVIDERS } from "../../install/names.js";
import { outputOption } from "../output.js";
import type { InstallFlags } from "./install-run.js";

// src/install loads typebox and yaml (the CRDs): only install and uninstall pay for them.
const run = () => import("./install-run.js");

export function registerInstall(program: Command): void {
  program
    .command("install")
    .description(
      "install the controller, the node agent, their CRDs and permissions, and the default backup location",
    )
    .addOption(new Option("--provider <provider>", "where backups are stored").choices(PROVIDERS))
    .option("--bucket <bucket>", "bucket name (with --provider file: the absolute directory)")
    .option("--prefix <prefix>", "path inside the bucket")
    .option("--region <region>", "region (alibabacloud, aws; s3 defaults to us-east-1)")
    .option("--endpoint <url>", "endpoint URL (required for s3; overrides the region's for the others)")
    .option("--location <url>", "the location URL itself, instead of --provider and its parts")
    .option("--secret-file <file>", "Secret manifest with access-key-id and access-key-secret")
    .option("--use-ram-role", "Alibaba Cloud: use the worker nodes' RAM role (managed ACK clusters)")
    .option("--password-file <file>", "repository password (default: 32 random bytes)")
    .option("--image <image>", "the controller's and the node agent's image", defaultImage())
    .option("--no-node-agent", "leave out the node agent (the DaemonSet that will read Pod volumes)")
    .option(
      "--kubelet-root-dir <dir>",
      "the kubelet's --root-dir on the nodes; the node agent mounts its pods/ directory",
      DEFAULT_KUBELET_ROOT_DIR,
    )
    .option("--dry-run", "print the manifests (for kubectl apply -f -) and change nothing")
    .addOption(outputOption())
    .action(async (flags: InstallFlags, command: Command) => (await run()).runInstall(flags, command));

  program
    .command("uninstall")
    .description(
      "remove the controller, the node agent and their permissions; keeps the namespace, Secrets and all data",
    )
    .option("--include-crds", "also delete the CRDs, and with them every Arca object (never the data)")
    .addOption(outputOption())
    .action(async (flags: { includeCrds?: boolean; output: string }, command: Command) =>
      (await run()).runUninstall(flags, command),
    );
}
