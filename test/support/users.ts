// Identities with less than admin's permissions, as an operator's kubeconfig would carry: a
// ServiceAccount with the given cluster-wide rules (and per-namespace ones), with a token.
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1PolicyRule } from "@kubernetes/client-node";
import { uniqueName } from "./wait.js";

export async function limitedUser(
  admin: KubeConfig,
  home: string,
  clusterRules: V1PolicyRule[],
  namespaced: Record<string, V1PolicyRule[]> = {},
): Promise<KubeConfig> {
  const name = uniqueName("limited");
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const subjects = [{ kind: "ServiceAccount", name, namespace: home }];
  await core.createNamespacedServiceAccount({ namespace: home, body: { metadata: { name } } });
  await rbac.createClusterRole({ body: { metadata: { name }, rules: clusterRules } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects,
    },
  });
  for (const [namespace, rules] of Object.entries(namespaced)) {
    await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
        subjects,
      },
    });
  }
  const token = await core.createNamespacedServiceAccountToken({
    name,
    namespace: home,
    body: { spec: { audiences: [] } },
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster || !token.status?.token) throw new Error("no cluster or token for the limited user");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: token.status.token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return kc;
}
