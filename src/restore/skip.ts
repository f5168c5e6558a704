// What a restore never creates, and why: the reason goes into the restore's results.
import type { KubeObject } from "../kube/object.js";

const NEVER: Record<string, string> = {
  nodes: "nodes belong to the cluster they run in",
  events: "events are a record of the past",
  "events.events.k8s.io": "events are a record of the past",
  componentstatuses: "the API server reports them; they cannot be created",
  "leases.coordination.k8s.io": "leases are held by running processes, which renew their own",
  "ipaddresses.networking.k8s.io": "the API server allocates Service addresses itself",
  "servicecidrs.networking.k8s.io": "the API server manages its Service ranges itself",
  "csinodes.storage.k8s.io": "each node's kubelet registers its own",
  "volumeattachments.storage.k8s.io": "the attach controller recreates them for running Pods",
  "controllerrevisions.apps": "workload controllers record their own revisions",
  "certificatesigningrequests.certificates.k8s.io":
    "signed requests are bound to the cluster that signed them",
};

/** What the backup holds besides the object, for the rules that depend on it. */
export interface SkipContext {
  /** For Endpoints: the Service of the same name in the backup, when it holds one. */
  service?: KubeObject;
}

const SLICE_CONTROLLERS = new Map([
  ["endpointslice-controller.k8s.io", "the endpoint slice controller recreates them from Services"],
  [
    "endpointslicemirroring-controller.k8s.io",
    "the endpoint slice mirroring controller recreates them from the restored Endpoints",
  ],
]);

/**
 * Endpoints of a Service with a selector are the endpoints controller's (which labels them
 * since Kubernetes 1.33); those of a Service without one are how a user points it elsewhere,
 * at an external database say, and nothing but the restore brings them back.
 */
function controllerEndpoints(o: KubeObject, service: KubeObject | undefined): boolean {
  if (o.metadata.labels?.["endpoints.kubernetes.io/managed-by"] === "endpoint-controller") return true;
  const selector = (service as { spec?: { selector?: unknown } } | undefined)?.spec?.selector;
  return typeof selector === "object" && selector !== null && Object.keys(selector).length > 0;
}

/** Why this object must not be restored, or undefined when it may be. */
export function neverRestored(
  groupResource: string,
  o: KubeObject,
  context: SkipContext = {},
): string | undefined {
  const fixed = NEVER[groupResource];
  if (fixed) return fixed;
  if (/^[^.]+\.arca\.dev$/.test(groupResource)) return "Arca's own objects are managed by Arca, not restored";
  const labels = o.metadata.labels ?? {};
  const annotations = o.metadata.annotations ?? {};
  if (groupResource === "endpoints" && controllerEndpoints(o, context.service))
    return "the endpoints controller recreates them from Services";
  // A slice that names no controller of the cluster's own was made by the user: it comes back.
  if (groupResource === "endpointslices.discovery.k8s.io") {
    const by = SLICE_CONTROLLERS.get(labels["endpointslice.kubernetes.io/managed-by"] ?? "");
    if (by) return by;
  }
  if (
    groupResource === "apiservices.apiregistration.k8s.io" &&
    labels["kube-aggregator.kubernetes.io/automanaged"]
  )
    return "the API server registers its built-in API services itself";
  if (groupResource.startsWith("flowschemas.") || groupResource.startsWith("prioritylevelconfigurations.")) {
    if (annotations["apf.kubernetes.io/autoupdate-spec"] === "true")
      return "the API server keeps its own defaults";
  }
  if (groupResource === "configmaps" && o.metadata.name === "kube-root-ca.crt")
    return "the controller manager publishes the cluster's CA into every namespace";
  if (groupResource === "secrets" && (o as { type?: string }).type === "kubernetes.io/service-account-token")
    return "service account token secrets are minted by the target cluster";
  if (groupResource === "services" && o.metadata.namespace === "default" && o.metadata.name === "kubernetes")
    return "the API server maintains its own Service";
  return undefined;
}
