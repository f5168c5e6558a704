// A namespace of the test cluster for the CLI's commands without --local: the arca.dev CRDs
// applied (as `kubectl apply --server-side -f deploy/crds/` does), a namespace of its own, and
// the CLI run against it. No controller runs: tests play its part by writing status through
// the status subresource, as the controller does.
import assert from "node:assert/strict";
import { allCustomResourceDefinitions } from "../../src/api/crds.js";
import type { KindName } from "../../src/api/kinds.js";
import { ArcaObjects, type ObjectOf } from "../../src/api/objects.js";
import { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/object.js";
import type { ApiResource } from "../../src/kube/resources.js";
import { applyObject, createObject, deleteObject } from "../../src/kube/write.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { eventually, uniqueName } from "../support/wait.js";
import { runArca, type CliResult } from "./run.js";

const clusterScoped = (resource: string, kind: string, group: string, version: string): ApiResource => ({
  group,
  version,
  resource,
  kind,
  namespaced: false,
  verbs: [],
  shortNames: [],
  preferred: true,
});
const CRDS = clusterScoped(
  "customresourcedefinitions",
  "CustomResourceDefinition",
  "apiextensions.k8s.io",
  "v1",
);
const NAMESPACES = clusterScoped("namespaces", "Namespace", "", "v1");

export interface RemoteNamespace {
  env: TestEnvironment;
  client: KubeClient;
  objects: ArcaObjects;
  ns: string;
  cliEnv: NodeJS.ProcessEnv;
  /** arca -n NS ...args */
  arca(...args: string[]): Promise<CliResult>;
  /** Waits for an object the CLI is creating in a child process. */
  appeared<K extends KindName>(kind: K, name: string): Promise<ObjectOf<K>>;
  stop(): Promise<void>;
}

/** CRDs are cluster-wide and shared by every test: they are applied, never deleted. */
async function applyCrds(client: KubeClient): Promise<void> {
  for (const crd of allCustomResourceDefinitions()) {
    const applied = await applyObject(client, CRDS, crd as KubeObject);
    assert.ok(applied.ok, applied.ok ? "" : applied.error.message);
  }
  await eventually("the arca.dev CRDs Established", async () => {
    for (const crd of allCustomResourceDefinitions()) {
      const got = await client.getJson<{ status?: { conditions?: { type: string; status: string }[] } }>(
        "reading a CRD",
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      );
      if (!got?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"))
        return false;
    }
    return true;
  });
}

export async function remoteNamespace(prefix: string): Promise<RemoteNamespace> {
  const env = await testEnvironment();
  const client = new KubeClient(env.cluster.kubeConfig());
  await applyCrds(client);
  const ns = uniqueName(prefix);
  const made = await createObject(client, NAMESPACES, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: ns },
  });
  assert.ok(made.ok, made.ok ? "" : made.error.message);
  const objects = new ArcaObjects(client, ns);
  // The local mode's settings would send reading commands to a location URL.
  const { ARCA_LOCATION: _l, ARCA_PASSWORD_FILE: _p, ...rest } = process.env;
  const cliEnv = { ...rest, KUBECONFIG: env.cluster.kubeconfigPath, ARCA_POLL_MS: "100" };
  return {
    env,
    client,
    objects,
    ns,
    cliEnv,
    arca: (...args) => runArca(["-n", ns, ...args], cliEnv),
    appeared: (kind, name) => eventually(`${kind} ${name}`, () => objects.get(kind, name), 30_000),
    async stop() {
      await deleteObject(client, NAMESPACES, { name: ns }).catch(() => undefined);
      client.close();
      await env.stop();
    },
  };
}

/** The command failed with exit 1 and said this on stderr. */
export function failed(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, pattern);
}
