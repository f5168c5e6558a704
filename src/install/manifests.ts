// What `arca install` puts into a cluster, as plain objects in the order they are applied: the
// namespace, the CRDs, the controller's identity and permissions, the repository password,
// the credentials, the default BackupLocation, the controller's Deployment and the node agent
// (node-agent.ts). deploy/helm/arca is generated from these (scripts/gen-helm.ts). Pure: every
// fact about the cluster (which Secrets exist) is worked out by the caller and passed in.
import { posix } from "node:path";
import { allCustomResourceDefinitions } from "../api/crds.js";
import { KINDS } from "../api/kinds.js";
import type { LocationSpec } from "../api/location.js";
import { API_VERSION, GROUP } from "../api/names.js";
import { ArcaError } from "../common/errors.js";
import type { KubeObject } from "../kube/object.js";
import {
  ADDON_SECRET_NAME,
  formatLocation,
  parseLocation,
  secretKeysFromManifest,
  type Location,
} from "../storage/index.js";
import {
  clusterScopedName,
  DEFAULT_KUBELET_ROOT_DIR,
  defaultImage,
  METRICS_PORT,
  NAMES,
  PART_OF,
  PROVIDERS,
} from "./names.js";
import { nodeAgentManifests } from "./node-agent.js";
import { httpProbe, IMAGE_UID, LOCKED_DOWN, locationFolder, TMP } from "./pod.js";

const SELECTOR = { "app.kubernetes.io/name": "arca" };

export interface LocationFlags {
  provider?: string;
  bucket?: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  location?: string;
}

/** The location URL from --location, or built from --provider and its parts. */
export function locationUrl(f: LocationFlags): string {
  const parts = (["provider", "bucket", "prefix", "region", "endpoint"] as const).filter((k) => f[k]);
  if (f.location) {
    if (parts.length)
      throw new ArcaError(`--location cannot be combined with --${parts.join(", --")}`, {
        hint: "give the whole URL with --location, or its parts with --provider, --bucket, ...",
      });
    return formatLocation(parseLocation(f.location));
  }
  if (!f.provider)
    throw new ArcaError("no backup location given", {
      hint: "pass --provider alibabacloud|aws|s3|file with --bucket (and --region or --endpoint), or --location URL",
    });
  const prefix = (f.prefix ?? "").replace(/^\/+|\/+$/g, "");
  const { provider, bucket = "", region = "", endpoint } = f;
  const need = (value: unknown, flag: string, example: string) => {
    if (!value)
      throw new ArcaError(`--provider ${provider} needs ${flag}`, { hint: `for example: ${example}` });
  };
  let location: Location;
  if (provider === "alibabacloud" || provider === "aws") {
    const example = provider === "aws" ? "eu-west-1" : "cn-hangzhou";
    need(bucket, "--bucket", `--bucket mybackups --region ${example}`);
    need(region, "--region", `--region ${example}`);
    location =
      provider === "aws"
        ? { provider: "s3", bucket, prefix, region, endpoint, forcePathStyle: false }
        : { provider: "oss", bucket, prefix, region, network: "public", endpoint, forcePathStyle: false };
  } else if (provider === "s3") {
    need(bucket, "--bucket", "--bucket backups --endpoint http://minio.example:9000");
    need(endpoint, "--endpoint", "--endpoint http://minio.example:9000");
    location = { provider, bucket, prefix, region: region || "us-east-1", endpoint, forcePathStyle: true };
  } else if (provider === "file") {
    need(bucket.startsWith("/"), "--bucket set to an absolute directory", "--bucket /var/lib/arca/backups");
    if (region || endpoint) throw new ArcaError("--region and --endpoint mean nothing for --provider file");
    location = { provider, path: prefix ? posix.join(bucket, prefix) : bucket };
  } else throw new ArcaError(`unknown provider ${provider}`, { hint: `use one of ${PROVIDERS.join(", ")}` });
  // The round trip checks the parts (bucket name, region, endpoint) as any location URL is checked.
  return formatLocation(parseLocation(formatLocation(location)));
}

export type CredentialKeys = Record<"access-key-id" | "access-key-secret", string> & {
  "security-token"?: string;
};

/** Where the controller gets the location's credentials. */
export type Credential =
  | { source: "addon-secret" } // alibaba-addon-secret, made by the user or ACK (registered clusters)
  | { source: "ram-role" } // the node's RAM role, through the ECS metadata service (managed clusters)
  | { source: "secret-file"; keys: CredentialKeys } // copied into arca-credentials
  | { source: "default-chain" } // the AWS SDK's chain: IRSA, instance role, environment
  | { source: "none" }; // file://: nothing to sign

export interface CredentialChoice {
  /** The URL's scheme. */
  scheme: Location["provider"];
  /** Whether alibaba-addon-secret exists in the install namespace. */
  addonSecretExists: boolean;
  useRamRole?: boolean;
  /** The --secret-file's text and path. */
  secretFile?: { text: string; path: string };
}

/** The credential rules, in order; `notes` says what was chosen over what the user passed. */
export function chooseCredential(c: CredentialChoice): { credential: Credential; notes: string[] } {
  const notes: string[] = [];
  if (c.scheme === "file") {
    if (c.useRamRole || c.secretFile)
      throw new ArcaError("a file:// location takes no credentials", {
        hint: "leave out --use-ram-role and --secret-file",
      });
    return { credential: { source: "none" }, notes };
  }
  if (c.scheme === "oss" && c.addonSecretExists) {
    if (c.useRamRole || c.secretFile)
      notes.push(
        `Secret ${ADDON_SECRET_NAME} exists, and is used: ${c.useRamRole ? "--use-ram-role" : "--secret-file"} ` +
          `was not (delete ${ADDON_SECRET_NAME} first to use it)`,
      );
    return { credential: { source: "addon-secret" }, notes };
  }
  if (c.useRamRole) {
    if (c.scheme !== "oss")
      throw new ArcaError("--use-ram-role is for Alibaba Cloud OSS locations", {
        hint: "for AWS, leave credentials out: the controller uses the AWS default chain (IRSA, instance role)",
      });
    if (c.secretFile) notes.push("--use-ram-role is used; --secret-file was not");
    return { credential: { source: "ram-role" }, notes };
  }
  if (c.secretFile) {
    const keys = secretKeysFromManifest(c.secretFile.text, c.secretFile.path);
    const id = keys["access-key-id"]?.trim();
    const secret = keys["access-key-secret"]?.trim();
    if (!id || !secret)
      throw new ArcaError(`${c.secretFile.path} lacks access-key-id or access-key-secret`, {
        hint: "the --secret-file manifest is a Secret with keys access-key-id, access-key-secret and optionally security-token",
      });
    const token = keys["security-token"]?.trim();
    const parsed: CredentialKeys = { "access-key-id": id, "access-key-secret": secret };
    if (token) parsed["security-token"] = token;
    return { credential: { source: "secret-file", keys: parsed }, notes };
  }
  if (c.scheme === "s3") return { credential: { source: "default-chain" }, notes };
  throw new ArcaError("an Alibaba Cloud OSS location needs credentials", {
    hint:
      `pass --use-ram-role (managed ACK clusters: the worker RAM role), create the Secret ` +
      `${ADDON_SECRET_NAME} in the namespace first (registered clusters), or pass --secret-file FILE`,
  });
}

export interface InstallOptions {
  namespace: string;
  /** A location URL, as locationUrl returns it. */
  url: string;
  credential: Credential;
  password: string;
  image?: string;
  /** Leaves the password Secret out: it exists in the cluster, and must never be replaced. */
  omitPasswordSecret?: boolean;
  /** The node agent's DaemonSet and permissions; on unless false (--no-node-agent). */
  nodeAgent?: boolean;
  /** The kubelet's --root-dir on the nodes (default /var/lib/kubelet). */
  kubeletRootDir?: string;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

function clusterRole(name: string): KubeObject {
  const arcaResources = Object.values(KINDS).flatMap((k) => [k.plural, `${k.plural}/status`]);
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name, labels: PART_OF },
    rules: [
      // Backup reads every kind the cluster serves (custom resources included, which no fixed
      // list can name), and the controller watches its own kinds, Leases and Secrets.
      { apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "watch"] },
      // Restore creates whatever a backup holds, of any kind, updates what exists (server-side
      // apply is a patch) and writes status back through the */status subresources.
      { apiGroups: ["*"], resources: ["*"], verbs: ["create", "patch", "update", "get"] },
      // Arca's own objects: it deletes expired Backups and finished DeleteBackupRequests, and
      // owns their status.
      { apiGroups: [GROUP], resources: arcaResources, verbs: ["*"] },
      // Leader election, so that only one replica reconciles at a time.
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create", "get", "update"] },
      // Events on Backups and Restores, for `kubectl describe`.
      { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
      // The logs ConfigMaps next to each Backup and Restore; the repository password and the
      // credentials. Covered by the rules above today, and kept here so that narrowing the
      // restore rule can never take them away.
      { apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["get", "create", "update", "patch"] },
    ],
  };
}

function deployment(o: InstallOptions): KubeObject {
  const labels = { ...PART_OF, ...SELECTOR };
  const location = parseLocation(o.url);
  const folder = locationFolder(location.provider === "file" ? location.path : undefined);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: NAMES.deployment, namespace: o.namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: SELECTOR },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: NAMES.serviceAccount,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: IMAGE_UID,
            runAsGroup: IMAGE_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "arca",
              image: o.image ?? defaultImage(),
              command: [
                ...["arca", "server", "--namespace", o.namespace],
                ...["--metrics-bind-address", `0.0.0.0:${METRICS_PORT}`],
              ],
              ports: [{ name: "metrics", containerPort: METRICS_PORT, protocol: "TCP" }],
              livenessProbe: httpProbe("/healthz"),
              readinessProbe: httpProbe("/readyz"),
              resources: {
                requests: { cpu: "100m", memory: "128Mi" },
                limits: { cpu: "1", memory: "1Gi" },
              },
              securityContext: { ...LOCKED_DOWN, capabilities: { drop: ["ALL"] } },
              volumeMounts: [TMP.mount, ...folder.mounts],
            },
          ],
          volumes: [TMP.volume, ...folder.volumes],
        },
      },
    },
  };
}

/** Everything install applies, in order. */
export function installManifests(o: InstallOptions): KubeObject[] {
  const ns = o.namespace;
  const meta = (name: string) => ({ name, namespace: ns, labels: PART_OF });
  const clusterName = clusterScopedName(ns);
  const out: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: PART_OF } },
    ...(allCustomResourceDefinitions() as KubeObject[]),
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(NAMES.serviceAccount) },
    clusterRole(clusterName),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: clusterName, labels: PART_OF },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterName },
      subjects: [{ kind: "ServiceAccount", name: NAMES.serviceAccount, namespace: ns }],
    },
  ];
  if (!o.omitPasswordSecret)
    out.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta(NAMES.passwordSecret),
      type: "Opaque",
      data: { [NAMES.passwordKey]: b64(o.password) },
    });
  const spec: LocationSpec = {
    url: o.url,
    default: true,
    password: { name: NAMES.passwordSecret, key: NAMES.passwordKey },
  };
  if (o.credential.source === "addon-secret") spec.credential = { name: ADDON_SECRET_NAME };
  if (o.credential.source === "secret-file") {
    spec.credential = { name: NAMES.credentialSecret };
    const data = Object.fromEntries(Object.entries(o.credential.keys).map(([k, v]) => [k, b64(v)]));
    out.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta(NAMES.credentialSecret),
      type: "Opaque",
      data,
    });
  }
  out.push(
    { apiVersion: API_VERSION, kind: "BackupLocation", metadata: meta(NAMES.location), spec },
    deployment(o),
  );
  if (o.nodeAgent !== false)
    out.push(
      ...nodeAgentManifests({
        namespace: ns,
        image: o.image ?? defaultImage(),
        kubeletRootDir: o.kubeletRootDir ?? DEFAULT_KUBELET_ROOT_DIR,
      }),
    );
  return out;
}
