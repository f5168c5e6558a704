// The order a restore creates things in: what others refer to comes first. CRDs lead (and are
// waited on until Established), then namespaces, then the tiers below; anything not named
// here, custom resources included, comes last. Items within a tier go in parallel.
const RBAC = "rbac.authorization.k8s.io";

export const CRD_RESOURCE = "customresourcedefinitions.apiextensions.k8s.io";

export const TIERS: string[][] = [
  [CRD_RESOURCE],
  ["namespaces"],
  ["storageclasses.storage.k8s.io"],
  ["persistentvolumes"],
  ["persistentvolumeclaims"],
  ["secrets"],
  ["configmaps"],
  ["serviceaccounts"],
  [`clusterroles.${RBAC}`, `roles.${RBAC}`],
  [`clusterrolebindings.${RBAC}`, `rolebindings.${RBAC}`],
  ["limitranges", "resourcequotas"],
  ["priorityclasses.scheduling.k8s.io"],
  ["services"],
  [
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "replicasets.apps",
    "replicationcontrollers",
    "jobs.batch",
    "cronjobs.batch",
    "pods",
  ],
];

/** The tier of a group-resource: its index in TIERS, or TIERS.length for "everything else". */
export function tierOf(groupResource: string): number {
  const i = TIERS.findIndex((tier) => tier.includes(groupResource));
  return i < 0 ? TIERS.length : i;
}
