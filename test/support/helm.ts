// helm, built from its Go module and cached by version like the cluster's binaries, for the
// tests that compare the chart in deploy/helm/arca with `arca install --dry-run`.
import { join } from "node:path";
import { ensureGoBinaries } from "../env/gobuild.js";

/** A version the Go module proxy serves; v4 is helm's current major. */
export const HELM_VERSION = "v4.3.2";

export async function helmBinary(): Promise<string> {
  const dir = await ensureGoBinaries({
    key: `helm-${HELM_VERSION}`,
    files: {
      "go.mod": `module arca.local/testenv/helm\n\ngo 1.26.0\n\nrequire helm.sh/helm/v4 ${HELM_VERSION}\n`,
      // Keeps `go mod tidy` from dropping the module whose command is built.
      "tools.go": `//go:build tools\n\npackage tools\n\nimport _ "helm.sh/helm/v4/cmd/helm"\n`,
    },
    packages: [{ pkg: "helm.sh/helm/v4/cmd/helm", binary: "helm" }],
    ldflags: `-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}`,
  });
  return join(dir, "helm");
}
