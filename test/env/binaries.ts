// Which versions of kube-apiserver, kube-controller-manager, kubectl, etcd and MinIO the test
// environment runs, and how each is built from its Go module.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { downloadGoMod, ensureGoBinaries } from "./gobuild.js";

/**
 * The newest Kubernetes release that builds with the machine's Go (1.26). Override with
 * ARCA_TEST_K8S_VERSION=1.36.3 (say) for version-skew and migration tests.
 */
export const DEFAULT_K8S_VERSION = "1.37.2";

/**
 * MinIO publishes no semver tags, so the module proxy serves it as a pseudo-version: this one
 * is the newest it listed (2026-02-12).
 */
export const MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c";

export function k8sVersion(): string {
  const v = (process.env.ARCA_TEST_K8S_VERSION ?? DEFAULT_K8S_VERSION).replace(/^v/, "");
  if (!/^1\.\d+\.\d+$/.test(v)) {
    throw new Error(`ARCA_TEST_K8S_VERSION=${v} is not a Kubernetes release like 1.36.3`);
  }
  return v;
}

export interface KubernetesBinaries {
  version: string;
  apiserver: string;
  controllerManager: string;
  kubectl: string;
  scheduler: string;
  kubelet: string;
  etcd: string;
  etcdVersion: string;
  binDir: string;
}

/** Module paths that k8s.io/kubernetes requires at v0.0.0 (its staging repos). */
export function stagingModules(goMod: string): string[] {
  return [...goMod.matchAll(/^\s+(k8s\.io\/[^\s]+) v0\.0\.0\s*$/gm)].map((m) => m[1] as string);
}

function requiredVersion(goMod: string, module: string): string | undefined {
  const re = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.]/g, "\\.")} (v[^\\s]+)`, "m");
  return re.exec(goMod)?.[1];
}

function goDirective(goMod: string): string {
  return /^go (\S+)/m.exec(goMod)?.[1] ?? "1.26.0";
}

/** Keeps `go mod tidy` from dropping the modules whose commands we build. */
function toolsGo(packages: string[]): string {
  return `//go:build tools\n\npackage tools\n\nimport (\n${packages.map((p) => `\t_ "${p}"`).join("\n")}\n)\n`;
}

const resolved = new Map<string, Promise<KubernetesBinaries>>();

/** Built (or found in the cache) once per process and version. */
export function kubernetesBinaries(version = k8sVersion()): Promise<KubernetesBinaries> {
  let binaries = resolved.get(version);
  if (!binaries) {
    binaries = buildKubernetes(version);
    binaries.catch(() => resolved.delete(version));
    resolved.set(version, binaries);
  }
  return binaries;
}

async function buildKubernetes(version: string): Promise<KubernetesBinaries> {
  const [, minor, patch] = version.split(".");
  const kubeMod = await downloadGoMod("k8s.io/kubernetes", `v${version}`);
  const staging = stagingModules(kubeMod);
  if (staging.length === 0)
    throw new Error(`k8s.io/kubernetes v${version}: found no staging modules in its go.mod`);
  const replaces = staging.map((m) => `\t${m} => ${m} v0.${minor}.${patch}`).join("\n");
  const goMod = `module arca.local/testenv/kubernetes\n\ngo ${goDirective(kubeMod)}\n\nrequire k8s.io/kubernetes v${version}\n\nreplace (\n${replaces}\n)\n`;
  // The build stamps the version that discovery (/version) reports; clients compare against it.
  const ldflags = [
    "-s -w",
    `-X k8s.io/component-base/version.gitVersion=v${version}`,
    `-X k8s.io/component-base/version.gitMajor=1`,
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    `-X k8s.io/component-base/version.gitTreeState=clean`,
  ].join(" ");
  const kubeDir = await ensureGoBinaries({
    key: `kubernetes-v${version}`,
    files: {
      "go.mod": goMod,
      "tools.go": toolsGo([
        "k8s.io/kubernetes/cmd/kube-apiserver",
        "k8s.io/kubernetes/cmd/kube-controller-manager",
        "k8s.io/kubernetes/cmd/kubectl",
        "k8s.io/kubernetes/cmd/kube-scheduler",
        "k8s.io/kubernetes/cmd/kubelet",
      ]),
    },
    packages: [
      { pkg: "k8s.io/kubernetes/cmd/kube-apiserver", binary: "kube-apiserver" },
      { pkg: "k8s.io/kubernetes/cmd/kube-controller-manager", binary: "kube-controller-manager" },
      { pkg: "k8s.io/kubernetes/cmd/kubectl", binary: "kubectl" },
      // The node: Pods are scheduled and run only on clusters started with one.
      { pkg: "k8s.io/kubernetes/cmd/kube-scheduler", binary: "kube-scheduler" },
      { pkg: "k8s.io/kubernetes/cmd/kubelet", binary: "kubelet" },
    ],
    ldflags,
  });

  // etcd at the version this Kubernetes release is tested against.
  const etcdVersion = requiredVersion(kubeMod, "go.etcd.io/etcd/server/v3");
  if (!etcdVersion)
    throw new Error(`k8s.io/kubernetes v${version}: its go.mod names no go.etcd.io/etcd/server/v3`);
  const etcdDir = await ensureGoBinaries({
    key: `etcd-${etcdVersion}`,
    files: {
      "go.mod": `module arca.local/testenv/etcd\n\ngo ${goDirective(kubeMod)}\n\nrequire go.etcd.io/etcd/server/v3 ${etcdVersion}\n`,
      "main.go": `package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n`,
    },
    packages: [{ pkg: ".", binary: "etcd" }],
    ldflags: "-s -w",
  });

  return {
    version,
    apiserver: join(kubeDir, "kube-apiserver"),
    controllerManager: join(kubeDir, "kube-controller-manager"),
    kubectl: join(kubeDir, "kubectl"),
    scheduler: join(kubeDir, "kube-scheduler"),
    kubelet: join(kubeDir, "kubelet"),
    etcd: join(etcdDir, "etcd"),
    etcdVersion,
    binDir: kubeDir,
  };
}

export async function minioBinary(): Promise<string> {
  const dir = await ensureGoBinaries({
    key: `minio-${MINIO_VERSION}`,
    files: {
      "go.mod": `module arca.local/testenv/minio\n\ngo 1.26.0\n\nrequire github.com/minio/minio ${MINIO_VERSION}\n`,
      "tools.go": toolsGo(["github.com/minio/minio"]),
    },
    packages: [{ pkg: "github.com/minio/minio", binary: "minio" }],
    ldflags: "-s -w",
  });
  return join(dir, "minio");
}

/** The version of madmin-go that MinIO's own go.mod pins, so its admin API matches. */
export const MADMIN_VERSION = "v3.0.109";

/** Arca's small MinIO admin tool (test/env/minio-admin): users and policies for permission tests. */
export async function minioAdminBinary(): Promise<string> {
  const source = readFileSync(new URL("./minio-admin/main.go", import.meta.url), "utf8");
  const dir = await ensureGoBinaries({
    key: `minio-admin-${MADMIN_VERSION}-${createHash("sha256").update(source).digest("hex").slice(0, 12)}`,
    files: {
      "go.mod": `module arca.local/testenv/minioadmin\n\ngo 1.26.0\n\nrequire github.com/minio/madmin-go/v3 ${MADMIN_VERSION}\n`,
      "main.go": source,
    },
    packages: [{ pkg: ".", binary: "minio-admin" }],
    ldflags: "-s -w",
  });
  return join(dir, "minio-admin");
}
