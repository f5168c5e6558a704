// The identities `arca install` gives the controller and the node agent, for tests that run
// `arca server` or `arca node-agent` outside a Pod: a kubeconfig with a token of their
// ServiceAccount, so that the shipped RBAC (and nothing more) is what the tests exercise.
import { writeFileSync } from "node:fs";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

/**
 * Mints a token for a ServiceAccount in `namespace` (TokenRequest): `arca` unless told, or
 * `arca-node-agent`. Writes a kubeconfig.
 */
export async function serviceAccountKubeconfig(
  admin: KubeConfig,
  namespace: string,
  file: string,
  serviceAccount = "arca",
): Promise<string> {
  const core = admin.makeApiClient(CoreV1Api);
  const token = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    // Long enough for any test; the API server's default audiences.
    body: { spec: { audiences: [], expirationSeconds: 3 * 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster || !token.status?.token)
    throw new Error(`no cluster, or no token for ServiceAccount ${namespace}/${serviceAccount}`);
  const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
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
