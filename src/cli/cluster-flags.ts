// kubectl's habits: --kubeconfig, --context and -n, shared by every command that may touch a
// cluster, and the install namespace that the reference product uses.
import { Option, type Command } from "commander";

import { DEFAULT_NAMESPACE } from "../api/names.js";

export interface GlobalFlags {
  kubeconfig?: string;
  context?: string;
  namespace: string;
}

export function addClusterFlags(program: Command): Command {
  return program
    .addOption(
      new Option("--kubeconfig <file>", "kubeconfig file (default: KUBECONFIG, then ~/.kube/config)"),
    )
    .addOption(new Option("--context <name>", "kubeconfig context"))
    .addOption(
      new Option("-n, --namespace <ns>", "namespace Arca is installed in").default(DEFAULT_NAMESPACE),
    );
}

export function globalFlags(command: Command): GlobalFlags {
  return command.optsWithGlobals<GlobalFlags>();
}
