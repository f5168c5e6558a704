// Which cluster to talk to, and as whom, from kubectl's flags and habits: --kubeconfig, then
// KUBECONFIG (several files, merged as kubectl merges them), then ~/.kube/config, then the
// in-cluster service account. Arca reads kubeconfig itself: client-node's loader drags in its
// whole generated API (about 80 MiB of memory and 0.4 s per run) for what is a YAML file.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { promisify } from "node:util";
import { ArcaError, messageOf } from "../common/errors.js";
import { yaml } from "../common/yaml.js";

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
}

/** What a request needs to reach the cluster as the chosen user. */
export interface Credentials {
  headers: Record<string, string>;
  cert?: Buffer;
  key?: Buffer;
}

export interface KubeAccess {
  /** The context's name, for messages. */
  context: string;
  server: string;
  ca?: Buffer;
  insecure: boolean;
  servername?: string;
  /** Worked out on each call: tokens from files and exec plugins change. */
  credentials(): Promise<Credentials>;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Whether any cluster configuration is present, without loading it. */
export function hasClusterConfig(flags: ClusterFlags, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(
    flags.kubeconfig ||
    env.KUBECONFIG ||
    existsSync(join(homedir(), ".kube", "config")) ||
    env.KUBERNETES_SERVICE_HOST,
  );
}

type Raw = Record<string, unknown>;
const isRaw = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

interface Named {
  name: string;
  value: Raw;
  /** The file it came from: relative paths inside are relative to it. */
  file: string;
}

interface Merged {
  currentContext?: string;
  clusters: Map<string, Named>;
  users: Map<string, Named>;
  contexts: Map<string, Named>;
}

/** A kubeconfig file, or kubeconfig text with the file it stands for. */
export interface KubeconfigSource {
  file: string;
  text?: string;
}

function readKubeconfigs(sources: KubeconfigSource[]): Merged {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const { file, text } of sources) {
    let doc: unknown;
    try {
      doc = yaml().parse(text ?? readFileSync(file, "utf8"));
    } catch (err) {
      throw new ArcaError(`loading kubeconfig ${file}: ${messageOf(err)}`, {
        hint: "pass --kubeconfig, or set KUBECONFIG to a readable kubeconfig file",
      });
    }
    if (!isRaw(doc)) continue;
    // As kubectl merges: the first file to set a value or define a name wins.
    merged.currentContext ??= str(doc["current-context"]);
    for (const [list, field] of [
      [merged.clusters, "cluster"],
      [merged.users, "user"],
      [merged.contexts, "context"],
    ] as const) {
      const entries = doc[`${field}s`];
      for (const entry of Array.isArray(entries) ? entries : []) {
        const name = isRaw(entry) ? str(entry.name) : undefined;
        if (name && !list.has(name) && isRaw(entry))
          list.set(name, { name, value: isRaw(entry[field]) ? entry[field] : {}, file });
      }
    }
  }
  return merged;
}

function fileOrData(owner: Named, fileKey: string, dataKey: string): Buffer | undefined {
  const data = str(owner.value[dataKey]);
  if (data) return Buffer.from(data, "base64");
  const path = str(owner.value[fileKey]);
  if (!path) return undefined;
  const full = isAbsolute(path) ? path : join(dirname(owner.file), path);
  try {
    return readFileSync(full);
  } catch (err) {
    throw new ArcaError(`kubeconfig ${owner.file}: ${fileKey} of ${owner.name}: ${messageOf(err)}`);
  }
}

const run = promisify(execFile);

/** An exec credential plugin (client.authentication.k8s.io), its answer kept until it expires. */
function execCredentials(user: Named, exec: Raw): () => Promise<Credentials> {
  const command = str(exec.command);
  if (!command) throw new ArcaError(`kubeconfig ${user.file}: user ${user.name}: exec has no command`);
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const e of Array.isArray(exec.env) ? exec.env : [])
    if (isRaw(e) && str(e.name)) env[String(e.name)] = String(e.value ?? "");
  const apiVersion = str(exec.apiVersion) ?? "client.authentication.k8s.io/v1";
  env.KUBERNETES_EXEC_INFO = JSON.stringify({
    apiVersion,
    kind: "ExecCredential",
    spec: { interactive: false },
  });
  let cached: { credentials: Credentials; until: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.until) return cached.credentials;
    let out: string;
    try {
      out = (await run(command, args, { env, maxBuffer: 1024 * 1024 })).stdout;
    } catch (err) {
      throw new ArcaError(
        `running the credential plugin ${command} of user ${user.name}: ${messageOf(err)}`,
        {
          hint: "run it by hand to see why it fails (a login may have expired)",
        },
      );
    }
    let status: Raw | undefined;
    try {
      const parsed: unknown = JSON.parse(out);
      status = isRaw(parsed) && isRaw(parsed.status) ? parsed.status : undefined;
    } catch {
      // handled below
    }
    if (!status)
      throw new ArcaError(
        `the credential plugin ${command} of user ${user.name} printed no ExecCredential status`,
      );
    const token = str(status.token);
    const cert = str(status.clientCertificateData);
    const key = str(status.clientKeyData);
    const credentials: Credentials = {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      ...(cert && key ? { cert: Buffer.from(cert), key: Buffer.from(key) } : {}),
    };
    const expires = str(status.expirationTimestamp);
    // Renewed a minute early; without an expiry, asked again every five minutes.
    cached = { credentials, until: expires ? Date.parse(expires) - 60_000 : Date.now() + 300_000 };
    return credentials;
  };
}

function userCredentials(user: Named | undefined): () => Promise<Credentials> {
  if (!user) return async () => ({ headers: {} });
  const v = user.value;
  if (isRaw(v.exec)) return execCredentials(user, v.exec);
  if (isRaw(v["auth-provider"]))
    throw new ArcaError(
      `kubeconfig ${user.file}: user ${user.name} uses an auth-provider, which kubectl itself no longer supports`,
      { hint: "switch the user to an exec credential plugin (your cloud's CLI can write one)" },
    );
  const cert = fileOrData(user, "client-certificate", "client-certificate-data");
  const key = fileOrData(user, "client-key", "client-key-data");
  const token = str(v.token);
  const tokenFile = str(v.tokenFile);
  const basic =
    str(v.username) !== undefined
      ? `Basic ${Buffer.from(`${String(v.username)}:${String(v.password ?? "")}`).toString("base64")}`
      : undefined;
  return async () => {
    let bearer = token;
    if (tokenFile) {
      try {
        bearer = readFileSync(tokenFile, "utf8").trim();
      } catch (err) {
        throw new ArcaError(`reading the token file of user ${user.name}: ${messageOf(err)}`);
      }
    }
    const headers: Record<string, string> = {};
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    else if (basic) headers.Authorization = basic;
    return { headers, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  };
}

/** Access through the named (or current) context of one or more kubeconfigs, merged. */
export function accessFromKubeconfig(sources: KubeconfigSource[], context?: string): KubeAccess {
  const merged = readKubeconfigs(sources);
  const paths = sources.map((s) => s.file);
  const name = context ?? merged.currentContext;
  const known = [...merged.contexts.keys()].join(", ") || "none";
  if (!name)
    throw new ArcaError(`the kubeconfig (${paths.join(delimiter)}) names no current context`, {
      hint: `pass --context (known contexts: ${known}), or run kubectl config use-context`,
    });
  const ctx = merged.contexts.get(name);
  if (!ctx)
    throw new ArcaError(`context ${name} is not in the kubeconfig`, { hint: `known contexts: ${known}` });
  const cluster = merged.clusters.get(str(ctx.value.cluster) ?? "");
  const server = cluster ? str(cluster.value.server) : undefined;
  if (!cluster || !server)
    throw new ArcaError(
      `context ${name} names cluster ${String(ctx.value.cluster)}, which has no server in the kubeconfig`,
    );
  if (str(cluster.value["proxy-url"]))
    throw new ArcaError(
      `cluster ${cluster.name} reaches its server through proxy-url, which Arca does not support yet`,
      {
        hint: "reach the API server directly (a VPN, or a bastion with port forwarding)",
      },
    );
  const ca = fileOrData(cluster, "certificate-authority", "certificate-authority-data");
  const servername = str(cluster.value["tls-server-name"]);
  return {
    context: name,
    server: server.replace(/\/+$/, ""),
    ...(ca ? { ca } : {}),
    insecure: cluster.value["insecure-skip-tls-verify"] === true,
    ...(servername ? { servername } : {}),
    credentials: userCredentials(merged.users.get(str(ctx.value.user) ?? "")),
  };
}

/** Inside a Pod: the service account's token (re-read, since the kubelet rotates it) and CA. */
function inClusterAccess(env: NodeJS.ProcessEnv): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST as string;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  return {
    context: "in-cluster",
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(SA_DIR, "ca.crt")),
    insecure: false,
    credentials: async () => ({
      headers: { Authorization: `Bearer ${readFileSync(join(SA_DIR, "token"), "utf8").trim()}` },
    }),
  };
}

export async function loadKubeConfig(
  flags: ClusterFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeAccess> {
  const paths = flags.kubeconfig
    ? [flags.kubeconfig]
    : env.KUBECONFIG
      ? // As kubectl does, files in KUBECONFIG that do not exist are passed over.
        env.KUBECONFIG.split(delimiter).filter((p) => p && existsSync(p))
      : existsSync(join(homedir(), ".kube", "config"))
        ? [join(homedir(), ".kube", "config")]
        : [];
  if (paths.length === 0) {
    if (env.KUBERNETES_SERVICE_HOST) return inClusterAccess(env);
    throw new ArcaError("no kubeconfig found", {
      hint: "pass --kubeconfig, or set KUBECONFIG to a readable kubeconfig file",
    });
  }
  return accessFromKubeconfig(
    paths.map((file) => ({ file })),
    flags.context,
  );
}
