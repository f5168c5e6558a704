// Putting the install manifests into a cluster, and taking the component out again. Install
// applies each object with server-side apply (field manager arca), so running it again updates
// what it made; the one exception is the repository password, which is created once and never
// replaced. Uninstall removes the controller, the node agent and their permissions, and never
// anything that holds or unlocks data: the namespace, the Secrets, the BackupLocations and the
// storage stay.
import { allCustomResourceDefinitions } from "../api/crds.js";
import { apiResource } from "../api/kinds.js";
import { LABELS } from "../api/names.js";
import { ArcaError } from "../common/errors.js";
import type { KubeClient } from "../kube/client.js";
import { getObject } from "../kube/list.js";
import type { KubeObject } from "../kube/object.js";
import type { ApiResource } from "../kube/resources.js";
import { applyObject, createObject, deleteObject, type WriteResult } from "../kube/write.js";
import { waitEstablished } from "../restore/crds.js";
import { ADDON_SECRET_NAME } from "../storage/index.js";
import { clusterScopedName, NAMES } from "./names.js";

const CRD_WAIT_MS = 60_000;

const builtIn = (group: string, resource: string, kind: string, namespaced: boolean): ApiResource => ({
  group,
  version: "v1",
  resource,
  kind,
  namespaced,
  verbs: [],
  shortNames: [],
  preferred: true,
});

const RBAC = "rbac.authorization.k8s.io";
const RESOURCES: Record<string, ApiResource> = {
  Namespace: builtIn("", "namespaces", "Namespace", false),
  CustomResourceDefinition: builtIn(
    "apiextensions.k8s.io",
    "customresourcedefinitions",
    "CustomResourceDefinition",
    false,
  ),
  ServiceAccount: builtIn("", "serviceaccounts", "ServiceAccount", true),
  ClusterRole: builtIn(RBAC, "clusterroles", "ClusterRole", false),
  ClusterRoleBinding: builtIn(RBAC, "clusterrolebindings", "ClusterRoleBinding", false),
  Role: builtIn(RBAC, "roles", "Role", true),
  RoleBinding: builtIn(RBAC, "rolebindings", "RoleBinding", true),
  Secret: builtIn("", "secrets", "Secret", true),
  Deployment: builtIn("apps", "deployments", "Deployment", true),
  DaemonSet: builtIn("apps", "daemonsets", "DaemonSet", true),
  BackupLocation: apiResource("BackupLocation"),
};

export function resourceOf(o: KubeObject): ApiResource {
  const r = RESOURCES[o.kind];
  if (!r) throw new ArcaError(`install does not know how to write a ${o.kind}`);
  return r;
}

export type StepOutcome = "applied" | "created" | "kept" | "established" | "deleted" | "absent" | "skipped";

export interface Step {
  kind: string;
  name: string;
  namespace?: string;
  outcome: StepOutcome;
  /** Why, where it is not obvious: a kept password, an object that is not Arca's. */
  note?: string;
}

export interface StepOptions {
  signal?: AbortSignal;
  onStep?: (step: Step) => void;
}

const stepOf = (o: KubeObject, outcome: StepOutcome, note?: string): Step => ({
  kind: o.kind,
  name: o.metadata.name,
  ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
  outcome,
  ...(note ? { note } : {}),
});

function failed(o: KubeObject, result: Extract<WriteResult, { ok: false }>): ArcaError {
  const forbidden = result.error.status === 403;
  return new ArcaError(result.error.message, {
    cause: result.error,
    hint: forbidden
      ? "install creates CRDs and a ClusterRole: run it with a cluster administrator's kubeconfig"
      : `the ${o.kind} was not written; fix the cause and run install again (it picks up where it stopped)`,
  });
}

/** Which of the Secrets that decide the install's shape already exist in the namespace. */
export async function existingSecrets(
  client: KubeClient,
  namespace: string,
): Promise<{ addonSecret: boolean; passwordSecret: boolean }> {
  const [addon, password] = await Promise.all(
    [ADDON_SECRET_NAME, NAMES.passwordSecret].map((name) =>
      getObject(client, RESOURCES.Secret as ApiResource, name, namespace),
    ),
  );
  return { addonSecret: addon !== undefined, passwordSecret: password !== undefined };
}

export interface InstallResult {
  steps: Step[];
  /** True when the password Secret was made by this run; false when an existing one was kept. */
  passwordCreated: boolean;
}

/** Applies the manifests in order; reports each step as it completes. */
export async function install(
  client: KubeClient,
  manifests: KubeObject[],
  { signal, onStep }: StepOptions = {},
): Promise<InstallResult> {
  const steps: Step[] = [];
  const report = (step: Step) => {
    steps.push(step);
    onStep?.(step);
  };
  let passwordCreated = false;
  const crds = manifests.filter((o) => o.kind === "CustomResourceDefinition").map((o) => o.metadata.name);
  let established = false;
  for (const o of manifests) {
    signal?.throwIfAborted();
    const r = resourceOf(o);
    if (o.kind === "Secret" && o.metadata.name === NAMES.passwordSecret) {
      // Created, never applied: a new password would lock everyone out of the existing backups.
      const result = await createObject(client, r, o);
      if (result.ok) {
        passwordCreated = true;
        report(stepOf(o, "created"));
      } else if (result.error.status === 409) {
        report(stepOf(o, "kept", "it exists already; the password in it is left as it is"));
      } else throw failed(o, result);
      continue;
    }
    if (o.kind === "BackupLocation" && !established && crds.length) {
      // A custom resource can only be created once its CRD serves.
      const notReady = await waitEstablished(client, RESOURCES.CustomResourceDefinition!, crds, CRD_WAIT_MS);
      if (notReady.size)
        throw new ArcaError([...notReady.values()].join("; "), {
          hint: "see `kubectl get crd -l app.kubernetes.io/part-of=arca -o yaml` for the conditions, then run install again",
        });
      established = true;
      for (const name of crds) report({ kind: "CustomResourceDefinition", name, outcome: "established" });
    }
    const result = await applyObject(client, r, o);
    if (!result.ok) throw failed(o, result);
    report(stepOf(o, "applied"));
  }
  return { steps, passwordCreated };
}

export interface UninstallOptions extends StepOptions {
  /** Delete the CRDs too: every Arca object in the cluster goes with them (never the data). */
  crds: boolean;
}

/** Deletes the controller, the node agent and their permissions; the namespace, Secrets and data stay. */
export async function uninstall(
  client: KubeClient,
  namespace: string,
  { crds, signal, onStep }: UninstallOptions,
): Promise<Step[]> {
  const clusterName = clusterScopedName(namespace);
  const nodeAgentClusterName = clusterScopedName(namespace, "node-agent");
  const targets: Array<{ kind: string; name: string; namespace?: string }> = [
    { kind: "Deployment", name: NAMES.deployment, namespace },
    { kind: "ClusterRoleBinding", name: clusterName },
    { kind: "ClusterRole", name: clusterName },
    { kind: "ServiceAccount", name: NAMES.serviceAccount, namespace },
    // The node agent's, whether or not this install made them (--no-node-agent).
    { kind: "DaemonSet", name: NAMES.nodeAgent, namespace },
    { kind: "ClusterRoleBinding", name: nodeAgentClusterName },
    { kind: "ClusterRole", name: nodeAgentClusterName },
    { kind: "RoleBinding", name: NAMES.nodeAgentServiceAccount, namespace },
    { kind: "Role", name: NAMES.nodeAgentServiceAccount, namespace },
    { kind: "ServiceAccount", name: NAMES.nodeAgentServiceAccount, namespace },
    ...(crds
      ? allCustomResourceDefinitions().map((c) => ({
          kind: "CustomResourceDefinition",
          name: c.metadata.name,
        }))
      : []),
  ];
  const steps: Step[] = [];
  for (const t of targets) {
    signal?.throwIfAborted();
    const r = RESOURCES[t.kind] as ApiResource;
    const live = await getObject(client, r, t.name, t.namespace);
    let step: Step;
    if (!live) step = { ...t, outcome: "absent" };
    else if (live.metadata.labels?.[LABELS.component] !== "arca")
      // Same name, not ours: someone else's object is never deleted.
      step = { ...t, outcome: "skipped", note: `it lacks the label ${LABELS.component}=arca` };
    else step = { ...t, outcome: (await deleteObject(client, r, t)) ? "deleted" : "absent" };
    steps.push(step);
    onStep?.(step);
  }
  return steps;
}
