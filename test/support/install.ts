// The identity `arca install` gives the controller, for tests that run `arca server` outside a
// Pod: a kubeconfig with a token of ServiceAccount `arca`, so that the shipped RBAC (and
// nothing more) is what the tests exercise.
import { writeFileSync } from "node:fs";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

/** Mints a token for ServiceAccount `arca` in `namespace` (TokenRequest), writes a kubeconfig. */
export async function serviceAccountKubeconfig(
  admin: KubeConfig,
  namespace: string,
  file: string,
): Promise<string> {
  const core = admin.makeApiClient(CoreV1Api);
  const token = await core.createNamespacedServiceAccountToken({
    name: "arca",
    namespace,
    // Long enough for any test; the API server's default audiences.
    body: { spec: { audiences: [], expirationSeconds: 3 * 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster || !token.status?.token)
    throw new Error(`no cluster, or no token for ServiceAccount ${namespace}/arca`);
  const user = `system:serviceaccount:${namespace}:arca`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token: token.status.token }],
    contexts: [{ name: user, cluster: cluster.name, user, namespace }],
    currentContext: user,
  });
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}
