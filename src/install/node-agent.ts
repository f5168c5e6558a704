// The node agent: a DaemonSet running `arca node-agent` on every node, which will read Pod
// volumes through the kubelet's pod directory. It runs as root with only the capabilities that
// reading (and, for restore, writing and owning) any file needs; HostToContainer propagation lets
// it see volumes mounted after it started, and needs no `privileged` (only Bidirectional does).
import { posix } from "node:path";
import { GROUP } from "../api/names.js";
import { ArcaError } from "../common/errors.js";
import type { KubeObject } from "../kube/object.js";
import { clusterScopedName, NAMES, NODE_AGENT_POD_DIR, NODE_AGENT_PORT, PART_OF } from "./names.js";
import { httpProbe, LOCKED_DOWN, TMP } from "./pod.js";

const SELECTOR = { "app.kubernetes.io/name": "arca-node-agent" };
const RBAC = "rbac.authorization.k8s.io/v1";
/** The volume-data kinds the agent carries out; their CRDs come with that work. */
const VOLUME_KINDS = ["volumebackups", "volumerestores"];

export interface NodeAgentOptions {
  namespace: string;
  image: string;
  /** The kubelet's --root-dir on the nodes; its `pods` directory holds every Pod's volumes. */
  kubeletRootDir: string;
}

/** The host's pod directory for a kubelet root directory, which must be absolute. */
export function podDirectory(kubeletRootDir: string): string {
  if (!kubeletRootDir.startsWith("/"))
    throw new ArcaError(`--kubelet-root-dir ${JSON.stringify(kubeletRootDir)} is not an absolute path`, {
      hint: "give the kubelet's --root-dir as the nodes see it, e.g. /var/lib/kubelet",
    });
  return posix.join(kubeletRootDir.replace(/\/+$/, ""), "pods");
}

function daemonSet(o: NodeAgentOptions): KubeObject {
  const labels = { ...PART_OF, ...SELECTOR };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: NAMES.nodeAgent, namespace: o.namespace, labels },
    spec: {
      selector: { matchLabels: SELECTOR },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: NAMES.nodeAgentServiceAccount,
          // Every node, tainted or not: a volume on a node without an agent cannot be backed up.
          tolerations: [{ operator: "Exists" }],
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "node-agent",
              image: o.image,
              command: [
                ...["arca", "node-agent", "--namespace", o.namespace, "--pod-dir", NODE_AGENT_POD_DIR],
                ...["--metrics-bind-address", `0.0.0.0:${NODE_AGENT_PORT}`],
              ],
              env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
              ports: [{ name: "metrics", containerPort: NODE_AGENT_PORT, protocol: "TCP" }],
              livenessProbe: httpProbe("/healthz"),
              // Ready means the pod directory can be read.
              readinessProbe: httpProbe("/readyz"),
              resources: {
                requests: { cpu: "50m", memory: "64Mi" },
                limits: { cpu: "1", memory: "1Gi" },
              },
              securityContext: {
                ...LOCKED_DOWN,
                runAsUser: 0,
                runAsGroup: 0,
                runAsNonRoot: false,
                capabilities: {
                  drop: ["ALL"],
                  // Read any file and directory; restore sets owners and modes as backed up.
                  add: ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER"],
                },
              },
              volumeMounts: [
                { name: "host-pods", mountPath: NODE_AGENT_POD_DIR, mountPropagation: "HostToContainer" },
                TMP.mount,
              ],
            },
          ],
          volumes: [
            // Directory: a wrong --kubelet-root-dir stops the Pod with a clear event.
            { name: "host-pods", hostPath: { path: podDirectory(o.kubeletRootDir), type: "Directory" } },
            TMP.volume,
          ],
        },
      },
    },
  };
}

/** The agent's identity, its permissions (least privilege) and the DaemonSet, in apply order. */
export function nodeAgentManifests(o: NodeAgentOptions): KubeObject[] {
  const ns = o.namespace;
  const name = NAMES.nodeAgentServiceAccount;
  const clusterName = clusterScopedName(ns, "node-agent");
  const subjects = [{ kind: "ServiceAccount", name, namespace: ns }];
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: ns, labels: PART_OF } },
    {
      apiVersion: RBAC,
      kind: "ClusterRole",
      metadata: { name: clusterName, labels: PART_OF },
      // Which volumes a Pod on its node has, and what backs them.
      rules: [
        {
          apiGroups: [""],
          resources: ["pods", "persistentvolumeclaims", "persistentvolumes"],
          verbs: ["get", "list", "watch"],
        },
      ],
    },
    {
      apiVersion: RBAC,
      kind: "ClusterRoleBinding",
      metadata: { name: clusterName, labels: PART_OF },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterName },
      subjects,
    },
    {
      apiVersion: RBAC,
      kind: "Role",
      metadata: { name, namespace: ns, labels: PART_OF },
      rules: [
        // Its work, and the status it reports on it.
        { apiGroups: [GROUP], resources: VOLUME_KINDS, verbs: ["get", "list", "watch"] },
        {
          apiGroups: [GROUP],
          resources: VOLUME_KINDS.map((k) => `${k}/status`),
          verbs: ["get", "update", "patch"],
        },
        // The repository it writes to: the location, its password and credentials.
        { apiGroups: [GROUP], resources: ["backuplocations"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
      ],
    },
    {
      apiVersion: RBAC,
      kind: "RoleBinding",
      metadata: { name, namespace: ns, labels: PART_OF },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects,
    },
    daemonSet(o),
  ];
}
