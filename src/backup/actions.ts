// Item actions: given an item, name the other objects it needs in order to be restored. The
// engine fetches those that no filter chose, and records why. New actions register here.
import type { KubeObject } from "../kube/object.js";

/** An object another item depends on, by group-resource ("persistentvolumes", "roles.rbac.authorization.k8s.io"). */
export interface RelatedRef {
  resource: string;
  namespace?: string;
  name: string;
  reason: string;
}

export interface ActionContext {
  /** The name of the CRD that serves this group and kind, if a CRD does. */
  crdFor(group: string, kind: string): string | undefined;
  /** Whether the backup covers this namespace. */
  namespaceIncluded(ns: string): boolean;
}

export interface ItemAction {
  name: string;
  /**
   * The group-resources it looks at; `*` for every one. An action for every resource sees
   * only the item's head (apiVersion, kind, and the metadata's name, namespace and labels),
   * so that the backup parses whole objects only where an action reads them.
   */
  appliesTo: string[] | "*";
  related(item: KubeObject, context: ActionContext): RelatedRef[];
}

type Obj = Record<string, unknown>;
const field = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Obj)[k] : undefined), o);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const RBAC = "rbac.authorization.k8s.io";
export const CRDS = "customresourcedefinitions.apiextensions.k8s.io";

const pvcBringsVolumeAndClass: ItemAction = {
  name: "pvc-volume",
  appliesTo: ["persistentvolumeclaims"],
  related(pvc) {
    const out: RelatedRef[] = [];
    const pv = str(field(pvc, "spec", "volumeName"));
    if (pv) out.push({ resource: "persistentvolumes", name: pv, reason: "the volume bound to the claim" });
    const sc = str(field(pvc, "spec", "storageClassName"));
    if (sc)
      out.push({ resource: `storageclasses.storage.k8s.io`, name: sc, reason: "the claim's storage class" });
    return out;
  },
};

const pvBringsClass: ItemAction = {
  name: "pv-storage-class",
  appliesTo: ["persistentvolumes"],
  related(pv) {
    const sc = str(field(pv, "spec", "storageClassName"));
    return sc
      ? [{ resource: "storageclasses.storage.k8s.io", name: sc, reason: "the volume's storage class" }]
      : [];
  },
};

const podBringsClaimsAndAccount: ItemAction = {
  name: "pod-claims-account",
  appliesTo: ["pods"],
  related(pod) {
    const ns = pod.metadata.namespace;
    const out: RelatedRef[] = [];
    const volumes = field(pod, "spec", "volumes");
    for (const v of Array.isArray(volumes) ? volumes : []) {
      const claim = str(field(v, "persistentVolumeClaim", "claimName"));
      if (claim)
        out.push({
          resource: "persistentvolumeclaims",
          namespace: ns,
          name: claim,
          reason: "a volume of the pod",
        });
    }
    const sa = str(field(pod, "spec", "serviceAccountName")) ?? "default";
    out.push({ resource: "serviceaccounts", namespace: ns, name: sa, reason: "the pod's service account" });
    return out;
  },
};

const customResourceBringsCrd: ItemAction = {
  name: "custom-resource-definition",
  appliesTo: "*",
  related(item, context) {
    const slash = item.apiVersion.indexOf("/");
    const crd = slash < 0 ? undefined : context.crdFor(item.apiVersion.slice(0, slash), item.kind);
    return crd ? [{ resource: CRDS, name: crd, reason: "the definition of the custom resource" }] : [];
  },
};

const bindingBringsRole: ItemAction = {
  name: "binding-role",
  appliesTo: [`rolebindings.${RBAC}`, `clusterrolebindings.${RBAC}`],
  related(binding) {
    const kind = str(field(binding, "roleRef", "kind"));
    const name = str(field(binding, "roleRef", "name"));
    if (!name) return [];
    if (kind === "ClusterRole")
      return [{ resource: `clusterroles.${RBAC}`, name, reason: "the binding's role" }];
    if (kind === "Role")
      return [
        {
          resource: `roles.${RBAC}`,
          namespace: binding.metadata.namespace,
          name,
          reason: "the binding's role",
        },
      ];
    return [];
  },
};

export const DEFAULT_ACTIONS: ItemAction[] = [
  pvcBringsVolumeAndClass,
  pvBringsClass,
  podBringsClaimsAndAccount,
  customResourceBringsCrd,
  bindingBringsRole,
];

/** Subjects of a ClusterRoleBinding that live in a namespace the backup covers. */
export function bindsIncludedNamespace(binding: KubeObject, context: ActionContext): string | undefined {
  const subjects = field(binding, "subjects");
  for (const s of Array.isArray(subjects) ? subjects : []) {
    const ns = str(field(s, "namespace"));
    if (ns && context.namespaceIncluded(ns)) return ns;
  }
  return undefined;
}
