// Objects as a restore must reproduce them: what the API server or a controller sets anew for
// every object it stores goes, and everything left must come back equal, field by field.
import type { KubeObject } from "../../src/kube/object.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const objAt = (o: Obj | undefined, ...path: string[]): Obj | undefined =>
  path.reduce<Obj | undefined>((v, k) => (v && isObj(v[k]) ? v[k] : undefined), o);

/** Each field with the reason it may differ between an original and its restored copy. */
const SERVER_METADATA: Record<string, string> = {
  uid: "the API server gives every new object a new one",
  resourceVersion: "etcd's revision of the write",
  generation: "counts spec changes since creation",
  creationTimestamp: "the time of the write",
  managedFields: "who wrote which field, and when",
  ownerReferences: "owners are recreated with new UIDs; the restore drops references to old ones",
  selfLink: "no longer set, but was once",
};

const ARCA_LABELS: Record<string, string> = {
  "arca.dev/backup": "the restore marks what it created with the backup's name",
  "arca.dev/restore": "and with its own",
};

/** The API server writes the Job's own UID into its selector and its Pods' (and its own) labels. */
const JOB_UID_LABELS = ["controller-uid", "batch.kubernetes.io/controller-uid"];

function dropKeys(o: Obj | undefined, keys: string[]): void {
  if (!o) return;
  for (const k of keys) delete o[k];
}

function dropEmpty(o: Obj, key: string): void {
  const v = o[key];
  if (isObj(v) && Object.keys(v).length === 0) delete o[key];
}

/** A deep copy without the fields that legitimately differ after a restore (see each reason). */
export function normalize(object: KubeObject): Obj {
  const o = structuredClone(object) as Obj & KubeObject;
  const meta = o.metadata as Obj;
  dropKeys(meta, Object.keys(SERVER_METADATA));
  dropKeys(objAt(meta, "labels"), Object.keys(ARCA_LABELS));
  dropEmpty(meta, "labels");
  // Observed state: the restore leaves it to the target's controllers (restoreStatus false).
  delete o.status;

  const spec = objAt(o, "spec");
  switch (o.kind) {
    case "Service":
      if (spec) {
        // The target allocates addresses and node ports anew; headless stays "None".
        if (spec.clusterIP !== "None") dropKeys(spec, ["clusterIP", "clusterIPs"]);
        // Allocated from the node-port range, like the health check port of a Local LoadBalancer.
        delete spec.healthCheckNodePort;
        for (const p of Array.isArray(spec.ports) ? spec.ports : []) if (isObj(p)) delete p.nodePort;
      }
      break;
    case "PersistentVolume":
      // The claim it binds to is a new object: the binder writes its UID and version again.
      dropKeys(objAt(spec, "claimRef"), ["uid", "resourceVersion"]);
      break;
    case "PersistentVolumeClaim":
      // The binder sets the first when the claim binds (the tests wait for Bound where it
      // must); the second it sets only when it picked the volume, and a restored claim names its
      // own (the restore drops both, or the binder would call the new claim Lost).
      dropKeys(objAt(meta, "annotations"), [
        "pv.kubernetes.io/bind-completed",
        "pv.kubernetes.io/bound-by-controller",
      ]);
      dropEmpty(meta, "annotations");
      break;
    case "Job":
      dropKeys(objAt(meta, "labels"), JOB_UID_LABELS);
      dropKeys(objAt(spec, "selector", "matchLabels"), JOB_UID_LABELS);
      dropKeys(objAt(spec, "template", "metadata", "labels"), JOB_UID_LABELS);
      break;
  }
  return o;
}

/**
 * What a restore with this namespace mapping must make of an original: the object moves, and
 * every reference that names a namespace follows it (a RoleBinding's subjects, a volume's
 * claim, a namespace's name and the label the API server keeps equal to it).
 */
export function mapNamespaces(object: KubeObject, mappings: Record<string, string>): KubeObject {
  const map = (ns: string) => mappings[ns] ?? ns;
  const o = structuredClone(object) as Obj & KubeObject;
  if (o.metadata.namespace) o.metadata.namespace = map(o.metadata.namespace);
  if (o.kind === "Namespace") {
    o.metadata.name = map(o.metadata.name);
    const labels = o.metadata.labels;
    if (labels?.["kubernetes.io/metadata.name"]) labels["kubernetes.io/metadata.name"] = o.metadata.name;
  }
  if (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding")
    for (const s of Array.isArray(o.subjects) ? o.subjects : [])
      if (isObj(s) && typeof s.namespace === "string") s.namespace = map(s.namespace);
  const claim = objAt(o, "spec", "claimRef");
  if (o.kind === "PersistentVolume" && typeof claim?.namespace === "string")
    claim.namespace = map(claim.namespace);
  return o;
}
