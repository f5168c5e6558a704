// What this build of Arca is and which external APIs it speaks, for `arca version` and for
// the status of what Arca writes.
import { readFileSync } from "node:fs";
import { arcaVersion } from "../common/version.js";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** How Arca speaks to clusters: no generated client, so no Kubernetes version is built in. */
export const KUBERNETES_API = "raw JSON over the API server's REST paths, at whatever versions it serves";
/** The restic repository format version that Arca reads and writes. */
export const REPOSITORY_FORMAT = "restic v2";
export const API_GROUP_VERSION = "arca.dev/v1alpha1";

export interface VersionInfo {
  arca: string;
  node: string;
  repositoryFormat: string;
  apiGroupVersion: string;
  kubernetesApi: string;
  dependencies: Record<string, string>;
}

const require = createRequire(import.meta.url);

/** The version of an installed package, found from its entry point (exports may hide package.json). */
export function packageVersion(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === name && pkg.version) return pkg.version;
    } catch {
      // not this directory; keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}

export function versionInfo(): VersionInfo {
  return {
    arca: arcaVersion(),
    node: process.versions.node,
    repositoryFormat: REPOSITORY_FORMAT,
    apiGroupVersion: API_GROUP_VERSION,
    kubernetesApi: KUBERNETES_API,
    dependencies: Object.fromEntries(
      ["@aws-sdk/client-s3", "commander", "zstd-napi"].map((name) => [name, packageVersion(name)]),
    ),
  };
}
