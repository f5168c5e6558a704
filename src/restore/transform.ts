// Turns a stored object into one the target cluster will accept as new: server-set metadata
// goes, status goes (unless asked to keep it), allocations that belong to the old cluster go,
// and the operator's namespace and storage-class mappings are applied everywhere they appear.
import type { KubeObject } from "../kube/object.js";
import { dropAllocatedNodePorts } from "./node-ports.js";

export const LABEL_BACKUP = "arca.dev/backup";
export const LABEL_RESTORE = "arca.dev/restore";

export interface TransformOptions {
  backup: string;
  restore: string;
  namespaceMappings: Map<string, string>;
  storageClassMappings: Map<string, string>;
  restoreStatus: boolean;
  preserveNodePorts: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const objAt = (o: Obj, key: string): Obj | undefined => (isObj(o[key]) ? (o[key] as Obj) : undefined);

/** Metadata the API server sets: a new object gets its own. */
export const SERVER_METADATA = [
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "managedFields",
  "selfLink",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
];

const JOB_UID_LABELS = ["controller-uid", "batch.kubernetes.io/controller-uid"];

const PVC_BINDING_ANNOTATIONS = [
  "pv.kubernetes.io/bind-completed",
  "pv.kubernetes.io/bound-by-controller",
  "volume.kubernetes.io/selected-node",
];

/** Label values are at most 63 characters; longer names are cut and marked with a hash. */
export function labelValue(name: string): string {
  if (name.length <= 63) return name;
  let h = 0;
  for (const c of name) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return `${name.slice(0, 54)}-${h.toString(16).padStart(8, "0")}`;
}

export function mapNamespace(ns: string, options: Pick<TransformOptions, "namespaceMappings">): string {
  return options.namespaceMappings.get(ns) ?? ns;
}

/** Transforms in place and returns the object: callers pass a freshly parsed copy they own. */
export function transformObject(
  groupResource: string,
  stored: KubeObject,
  options: TransformOptions,
): KubeObject {
  const o = stored as KubeObject & Obj;
  const meta = o.metadata;
  // Which node ports the user chose is read from managedFields, which go next.
  if (groupResource === "services" && !options.preserveNodePorts) dropAllocatedNodePorts(o);
  for (const field of SERVER_METADATA) delete meta[field];
  if (meta.namespace) meta.namespace = mapNamespace(meta.namespace, options);
  if (groupResource === "namespaces") {
    meta.name = mapNamespace(meta.name, options);
    // The API server sets this label to the namespace's own name.
    if (meta.labels) delete meta.labels["kubernetes.io/metadata.name"];
  }
  meta.labels = {
    ...meta.labels,
    [LABEL_BACKUP]: labelValue(options.backup),
    [LABEL_RESTORE]: labelValue(options.restore),
  };
  // Owners are recreated with new UIDs; a reference to the old UID would get the object
  // garbage-collected at once. Controllers adopt what they own again by selector.
  delete meta.ownerReferences;
  if (!options.restoreStatus) delete o.status;

  const spec = objAt(o, "spec");
  const mapClass = (holder: Obj | undefined) => {
    const sc = holder?.storageClassName;
    if (holder && typeof sc === "string" && options.storageClassMappings.has(sc))
      holder.storageClassName = options.storageClassMappings.get(sc);
  };
  switch (groupResource) {
    case "services":
      if (spec && spec.clusterIP !== "None") {
        delete spec.clusterIP;
        delete spec.clusterIPs;
      }
      break;
    case "pods":
      if (spec) delete spec.nodeName;
      break;
    case "persistentvolumes": {
      mapClass(spec);
      const claim = spec && objAt(spec, "claimRef");
      if (claim) {
        // The claim is new in the target: bind by namespace and name, not by the old UID.
        delete claim.uid;
        delete claim.resourceVersion;
        if (typeof claim.namespace === "string") claim.namespace = mapNamespace(claim.namespace, options);
      }
      break;
    }
    case "jobs.batch": {
      // The server ties a Job's selector and pod labels to its UID; a new Job gets new ones.
      const template = spec && objAt(spec, "template");
      const templateMeta = template && objAt(template, "metadata");
      const templateLabels = templateMeta && objAt(templateMeta, "labels");
      for (const labels of [templateLabels, meta.labels])
        if (labels) for (const l of JOB_UID_LABELS) delete labels[l];
      if (spec && spec.manualSelector !== true) delete spec.selector;
      break;
    }
    case "persistentvolumeclaims":
      mapClass(spec);
      // These say "bound to the old volume object, by UID": the binder would call the new
      // claim Lost. Without them it binds the claim to spec.volumeName afresh.
      if (meta.annotations) for (const a of PVC_BINDING_ANNOTATIONS) delete meta.annotations[a];
      break;
    case "statefulsets.apps":
      if (spec && Array.isArray(spec.volumeClaimTemplates))
        for (const t of spec.volumeClaimTemplates) if (isObj(t)) mapClass(objAt(t, "spec"));
      break;
    case "rolebindings.rbac.authorization.k8s.io":
    case "clusterrolebindings.rbac.authorization.k8s.io":
      if (Array.isArray(o.subjects))
        for (const s of o.subjects)
          if (isObj(s) && typeof s.namespace === "string") s.namespace = mapNamespace(s.namespace, options);
      break;
  }
  return o;
}
