// The names and defaults of what `arca install` creates, apart from the manifests themselves:
// the CLI's flags need them, and must not load the CRD schemas (typebox) to get them.
import { DEFAULT_NAMESPACE, LABELS, NODE_AGENT_DAEMONSET } from "../api/names.js";
import { arcaVersion } from "../common/version.js";

export const NAMES = {
  serviceAccount: "arca",
  deployment: "arca",
  passwordSecret: "arca-repository-password",
  passwordKey: "password",
  credentialSecret: "arca-credentials",
  location: "default",
  nodeAgent: NODE_AGENT_DAEMONSET,
  nodeAgentServiceAccount: "arca-node-agent",
} as const;
export const METRICS_PORT = 8085;
export const NODE_AGENT_PORT = 8086;
/** The kubelet's --root-dir unless a distribution moves it (k0s, microk8s, the test node). */
export const DEFAULT_KUBELET_ROOT_DIR = "/var/lib/kubelet";
/** Where the node agent's container sees the kubelet's pod directory (Velero's path). */
export const NODE_AGENT_POD_DIR = "/host_pods";
/** On every object install makes: uninstall deletes only what carries it. */
export const PART_OF = { [LABELS.component]: "arca" };
export const PROVIDERS = ["alibabacloud", "aws", "s3", "file"] as const;
export type Provider = (typeof PROVIDERS)[number];

/**
 * The ClusterRoles and ClusterRoleBindings are cluster-wide: `arca` for the usual namespace, and
 * `arca-<namespace>` elsewhere, so that installs in two namespaces never take each other's; the
 * node agent's end in `-node-agent`.
 */
export const clusterScopedName = (namespace: string, suffix = ""): string =>
  (namespace === DEFAULT_NAMESPACE ? "arca" : `arca-${namespace}`) + (suffix ? `-${suffix}` : "");

/** This package's version, as `arca version` prints it. */
export const packageVersion = (): string => {
  const v = arcaVersion();
  return v === "unknown" ? "latest" : v;
};
export const defaultImage = (): string => `arca:${packageVersion()}`;
