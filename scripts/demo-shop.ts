// The demo's sample application in namespace demo-shop: what a small real application holds. A
// Deployment with its Service, configuration and a secret, a volume claimed from a hand-made
// PersistentVolume, its own identity with RBAC rights, and a custom resource served by a CRD.
import type { KubernetesObject, V1Deployment } from "@kubernetes/client-node";
import {
  forConfigMap,
  forCrd,
  forCustomObject,
  forDeployment,
  forNamespace,
  forPersistentVolume,
  forPersistentVolumeClaim,
  forRole,
  forRoleBinding,
  forSecret,
  forService,
  forServiceAccount,
  forStorageClass,
} from "../test/builders/index.js";

export const NAMESPACE = "demo-shop";
export const APP = "storefront";
export const CONFIG_MAP = "storefront-config";
export const CLAIM = "storefront-data";
export const VOLUME = "demo-shop-data";
const STORAGE_CLASS = "demo-manual";
const PART_OF = { "app.kubernetes.io/part-of": NAMESPACE };

export const WIDGET_CRD = forCrd("demo.arca.dev", "Widget").result();

/**
 * Cluster-scoped, so created first: the storage class and volume the claim binds to, and the CRD.
 * `dataDir` is the volume's folder on the node (under the demo's own folder).
 */
export function clusterObjects(dataDir: string): KubernetesObject[] {
  return [
    forStorageClass(STORAGE_CLASS)
      .provisioner("kubernetes.io/no-provisioner")
      .volumeBindingMode("Immediate")
      .result(),
    forPersistentVolume(VOLUME).storageClass(STORAGE_CLASS).capacity("1Gi").hostPath(dataDir).result(),
    WIDGET_CRD,
  ];
}

/** The namespace and everything in it, in an order where each object finds what it refers to. */
export function namespacedObjects(image: string): KubernetesObject[] {
  return [
    forNamespace(NAMESPACE).labels(PART_OF).result(),
    forServiceAccount(NAMESPACE, APP).labels(PART_OF).result(),
    forRole(NAMESPACE, APP)
      .labels(PART_OF)
      .rule({ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] })
      .result(),
    forRoleBinding(NAMESPACE, APP).labels(PART_OF).role(APP).serviceAccount(NAMESPACE, APP).result(),
    forConfigMap(NAMESPACE, CONFIG_MAP)
      .labels(PART_OF)
      .data({ currency: "EUR", "featured-category": "mugs", "page-size": "24" })
      .result(),
    forSecret(NAMESPACE, "storefront-payments")
      .labels(PART_OF)
      .stringData({ "api-key": "demo-not-a-real-key" })
      .result(),
    forPersistentVolumeClaim(NAMESPACE, CLAIM)
      .labels(PART_OF)
      .storageClass(STORAGE_CLASS)
      .request("1Gi")
      .result(),
    storefrontDeployment(image),
    forService(NAMESPACE, APP).labels(PART_OF).selector({ app: APP }).port(80, 8080, "http").result(),
    forCustomObject("demo.arca.dev/v1", "Widget", NAMESPACE, "featured-mug")
      .labels(PART_OF)
      .spec({ sku: "MUG-001", colour: "teal", stock: 42 })
      .result(),
  ];
}

/**
 * The Deployment builder covers image and replicas; the storefront also uses its account, claim
 * and settings. `image` is one the node has (there is no registry): it serves its data folder.
 */
function storefrontDeployment(image: string): V1Deployment {
  const deployment = forDeployment(NAMESPACE, APP).labels(PART_OF).image(image).result();
  const pod = deployment.spec?.template.spec;
  if (!pod) throw new Error("the Deployment builder made no pod template");
  pod.serviceAccountName = APP;
  pod.volumes = [{ name: "data", persistentVolumeClaim: { claimName: CLAIM } }];
  pod.terminationGracePeriodSeconds = 1;
  for (const container of pod.containers) {
    container.imagePullPolicy = "Never";
    container.command = ["httpd", "-f", "-p", "8080", "-h", "/usr/share/nginx/html"];
    container.volumeMounts = [{ name: "data", mountPath: "/usr/share/nginx/html" }];
    container.envFrom = [
      { configMapRef: { name: CONFIG_MAP } },
      { secretRef: { name: "storefront-payments" } },
    ];
  }
  return deployment;
}
