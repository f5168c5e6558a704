// The names and defaults of what `arca install` creates, apart from the manifests themselves:
// the CLI's flags need them, and must not load the CRD schemas (typebox) to get them.
import { DEFAULT_NAMESPACE } from "../api/names.js";
import { arcaVersion } from "../common/version.js";

export const NAMES = {
  serviceAccount: "arca",
  deployment: "arca",
  passwordSecret: "arca-repository-password",
  passwordKey: "password",
  credentialSecret: "arca-credentials",
  location: "default",
} as const;
export const METRICS_PORT = 8085;
export const PROVIDERS = ["alibabacloud", "aws", "s3", "file"] as const;
export type Provider = (typeof PROVIDERS)[number];

/**
 * The ClusterRole and ClusterRoleBinding are cluster-wide: `arca` for the usual namespace, and
 * `arca-<namespace>` elsewhere, so that installs in two namespaces never take each other's.
 */
export const clusterScopedName = (namespace: string): string =>
  namespace === DEFAULT_NAMESPACE ? "arca" : `arca-${namespace}`;

/** This package's version, as `arca version` prints it. */
export const packageVersion = (): string => {
  const v = arcaVersion();
  return v === "unknown" ? "latest" : v;
};
export const defaultImage = (): string => `arca:${packageVersion()}`;
