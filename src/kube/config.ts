// Which cluster to talk to, from kubectl's flags and habits: --kubeconfig, then KUBECONFIG,
// then ~/.kube/config, then the in-cluster service account.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { ArcaError, messageOf } from "../common/errors.js";

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
}

/** Whether any cluster configuration is present, without loading it. */
export function hasClusterConfig(flags: ClusterFlags, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(
    flags.kubeconfig ||
    env.KUBECONFIG ||
    existsSync(join(homedir(), ".kube", "config")) ||
    env.KUBERNETES_SERVICE_HOST,
  );
}

/**
 * Loads lazily: @kubernetes/client-node takes about 0.4 s to import, which every command that
 * never touches a cluster (fs backup, repo check) would otherwise pay.
 */
export async function loadKubeConfig(flags: ClusterFlags): Promise<KubeConfig> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  try {
    if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new ArcaError(`loading kubeconfig ${flags.kubeconfig ?? "(default)"}: ${messageOf(err)}`, {
      hint: "pass --kubeconfig, or set KUBECONFIG to a readable kubeconfig file",
    });
  }
  if (flags.context) {
    if (!kc.getContexts().some((c) => c.name === flags.context)) {
      throw new ArcaError(`context ${flags.context} is not in the kubeconfig`, {
        hint: `known contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(", ") || "none"
        }`,
      });
    }
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new ArcaError("the kubeconfig names no current cluster", {
      hint: "pass --context, or run kubectl config use-context",
    });
  }
  return kc;
}
